"""Compose's merge rules, as `docker compose -f a -f b` applies them (compose-go's `override`
package: merge.go for how two trees meet, uncity.go for which lists hold each key once).

Mappings merge key by key and scalars are replaced. Lists are appended, except:
- the shell commands (`command`, `entrypoint`, `healthcheck.test`) and each `ulimits` entry,
  which the later file replaces whole;
- fields written in two shapes, read as one when two files meet: `environment`, `labels` and
  `build.args` as NAME -> value, `depends_on` and `networks` as mappings, `build` as a mapping
  (a text is its context), `env_file` and `tmpfs` as lists (a text is a list of one);
- lists that hold each key once (`ports`, `volumes` by target, `secrets` and `configs` by the
  path they land at, `env_file` by path, `environment`, `labels`, `tmpfs`, `links`, `profiles`,
  network aliases, ... by name): an entry whose key is already there takes the earlier one's
  place. Compose applies this to each file as it loads, so a file's own repeats collapse too.

Nothing here changes a value it did not make: every node placed is a copy (YAML anchors share
mappings between services). Every node placed records where it was written (origins.py), so a
problem found later is reported in the file and at the line that wrote it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from pydantic_core import PydanticCustomError

from poc_runner.compose.origins import Origins, Side, Source
from poc_runner.diagnostics import KeyPath
from poc_runner.model.volumes import short_volume

Pattern = tuple[str, ...]  # a path below `services.<name>`; "*" stands for any key

_REPLACED: tuple[Pattern, ...] = (
    ("command",),
    ("entrypoint",),
    ("healthcheck", "test"),
    ("ulimits", "*"),
)


def _name(entry: Any) -> Any:
    """`NAME=value` and `NAME` entries are keyed by NAME (compose-go's keyValueIndexer)."""
    return str(entry).partition("=")[0] if isinstance(entry, str | int | float) else repr(entry)


def _as_text(entry: Any) -> Any:
    return str(entry) if isinstance(entry, str | int) else repr(entry)


def _port(entry: Any) -> Any:
    if isinstance(entry, dict):
        published = entry.get("published")
        return (
            f"{entry.get('host_ip') or '0.0.0.0'}:{'' if published is None else published}:"
            f"{entry.get('target')}/{entry.get('protocol') or 'tcp'}"
        )
    return _as_text(entry)


def _mount_target(entry: Any) -> Any:
    if isinstance(entry, dict):
        return entry.get("target")
    try:
        long = short_volume(entry)
    except PydanticCustomError:
        return repr(entry)  # refused later, as written
    return long.get("target") if isinstance(long, dict) else repr(entry)


def _file_at(folder: str) -> Callable[[Any], Any]:
    """A `configs`/`secrets` entry keyed by the path it lands at."""

    def key(entry: Any) -> Any:
        if isinstance(entry, str):
            return f"{folder}/{entry}"
        if isinstance(entry, dict):
            target = entry.get("target")
            return target if target else f"{folder}/{entry.get('source')}"
        return repr(entry)

    return key


def _env_file_path(entry: Any) -> Any:
    return entry.get("path") if isinstance(entry, dict) else _as_text(entry)


_UNIQUE: dict[Pattern, Callable[[Any], Any]] = {
    ("environment",): _name,
    ("labels",): _name,
    ("build", "args"): _name,
    ("build", "labels"): _name,
    ("env_file",): _env_file_path,
    ("tmpfs",): _name,
    ("links",): _name,
    ("profiles",): _name,
    ("cap_add",): _name,
    ("cap_drop",): _name,
    ("networks", "*", "aliases"): _name,
    ("ports",): _port,
    ("volumes",): _mount_target,
    ("secrets",): _file_at("/run/secrets"),
    ("configs",): _file_at(""),
    ("expose",): _as_text,
}
_SEQUENCES: tuple[Pattern, ...] = (("env_file",), ("tmpfs",))


def _matches(below: KeyPath, pattern: Pattern) -> bool:
    return len(below) == len(pattern) and all(
        want == "*" or want == part for part, want in zip(below, pattern, strict=True)
    )


def _below(path: KeyPath) -> KeyPath:
    """The part of a merged path below `services.<name>`."""
    return path[2:]


class Merger:
    """Merges services into one tree, recording origins as it goes."""

    def __init__(self, origins: Origins) -> None:
        self.origins = origins

    def place(self, path: KeyPath, value: Any, side: Side, written: KeyPath) -> Any:
        """A copy of `value` to stand at `path`, recorded as written at `written` in `side`,
        its keyed lists holding each key once."""
        self.origins.record(path, *side.locate(written))
        self.origins.copy_below(side.origins, written, path)
        placed = copy.deepcopy(value)
        self._unique_within(placed, path, _below(path))
        return placed

    def service(
        self, base: dict[str, Any], over: dict[str, Any], path: KeyPath, side: Side, at: KeyPath
    ) -> None:
        """Merge the service `over` (at `at` in `side`) into `base` (at `path`), in place."""
        for key, value in over.items():
            self._merge(base, key, value, (*path, key), side, (*at, key))

    def _merge(
        self,
        parent: dict[str, Any],
        key: Any,
        value: Any,
        path: KeyPath,
        side: Side,
        written: KeyPath,
    ) -> None:
        below = _below(path)
        if key not in parent or any(_matches(below, p) for p in _REPLACED):
            parent[key] = self.place(path, value, side, written)
            return
        current = parent[key]
        if below in _SEQUENCES:
            current = parent[key] = self._as_sequence(current, path)
            items = (
                [(item, (*written, i)) for i, item in enumerate(value)]
                if isinstance(value, list)
                else [(value, written)]
            )
            self._extend(current, items, path, side)
            return
        shaped = _SHAPES.get(below)
        if shaped is not None and (isinstance(current, dict) or isinstance(value, dict)):
            current = parent[key] = self._as_mapping(current, path, shaped)
            notes: dict[str, KeyPath] = {}
            mapping = shaped(value, notes.__setitem__)
            if not isinstance(current, dict) or not isinstance(mapping, dict):
                parent[key] = self.place(path, value, side, written)
                return
            for name, item in mapping.items():
                origin = (*written, *notes.get(name, (name,)))
                self._merge(current, name, item, (*path, name), side, origin)
            return
        if isinstance(current, dict) and isinstance(value, dict):
            for name, item in value.items():
                self._merge(current, name, item, (*path, name), side, (*written, name))
        elif isinstance(current, list) and isinstance(value, list):
            items = [(item, (*written, i)) for i, item in enumerate(value)]
            self._extend(current, items, path, side)
        else:
            parent[key] = self.place(path, value, side, written)

    def _extend(
        self, current: list[Any], items: list[tuple[Any, KeyPath]], path: KeyPath, side: Side
    ) -> None:
        """Append `items` (each with where it was written); in a keyed list an item whose key
        is there already takes that entry's place."""
        unique = self._key_of(path)
        index = {unique(old): i for i, old in enumerate(current)} if unique else {}
        for item, written in items:
            at = len(current)
            if unique is not None:
                at = index.setdefault(unique(item), at)
            placed = self.place((*path, at), item, side, written)
            if at == len(current):
                current.append(placed)
            else:
                current[at] = placed

    def _key_of(self, path: KeyPath) -> Callable[[Any], Any] | None:
        below = _below(path)
        found = next((key for p, key in _UNIQUE.items() if _matches(below, p)), None)
        return None if found is None else _hashable(found)

    def _unique_within(self, value: Any, path: KeyPath, below: KeyPath) -> None:
        """Keyed lists at or under `path` (a value just placed) hold each key once: a repeat
        takes the earlier entry's place, as Compose enforces on every file it loads."""
        if len(path) < 3 or path[0] != "services":
            return
        for pattern, key in _UNIQUE.items():
            if pattern[: len(below)] == below or _matches(below, pattern[: len(below)]):
                for list_path, found in _lists_at(value, path, pattern[len(below) :]):
                    self._dedupe(found, list_path, _hashable(key))

    def _dedupe(self, entries: list[Any], path: KeyPath, unique: Callable[[Any], Any]) -> None:
        slots: dict[Any, int] = {}
        kept: list[tuple[Any, int]] = []
        for old, entry in enumerate(entries):
            key = unique(entry)
            if key in slots:
                kept[slots[key]] = (entry, old)
            else:
                slots[key] = len(kept)
                kept.append((entry, old))
        if len(kept) == len(entries):
            return
        located = [self.origins.locate((*path, old)) for _, old in kept]
        entries[:] = [entry for entry, _ in kept]
        for new, found in enumerate(located):
            if found is not None:
                self.origins.record((*path, new), *found)

    def _as_sequence(self, value: Any, path: KeyPath) -> list[Any]:
        """`value` (already in the merged tree) as a list: a text is a list of one."""
        if isinstance(value, list):
            return value
        found = self.origins.locate(path)
        if found is not None:
            self.origins.record((*path, 0), *found)
        return [value]

    def _as_mapping(self, value: Any, path: KeyPath, shaped: Shape) -> Any:
        """`value` (already in the merged tree) as a mapping, its origins kept per key."""
        if isinstance(value, dict):
            return value
        located: dict[str, tuple[Source, KeyPath]] = {}

        def note(name: str, at: KeyPath) -> None:
            found = self.origins.locate((*path, *at))
            if found is not None:
                located[name] = found

        mapping = shaped(value, note)
        for name, (source, written) in located.items():
            self.origins.record((*path, name), source, written)
        return mapping


def _hashable(key: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`key`, made safe for entries the models will refuse (a list where a target goes)."""

    def safe(entry: Any) -> Any:
        found = key(entry)
        return found if isinstance(found, str | int | None) else repr(found)

    return safe


def _lists_at(value: Any, path: KeyPath, rest: Pattern) -> list[tuple[KeyPath, list[Any]]]:
    """The lists found under `value` (at `path`) along `rest` ("*": every key)."""
    if not rest:
        return [(path, value)] if isinstance(value, list) else []
    if not isinstance(value, dict):
        return []
    head, tail = rest[0], rest[1:]
    names = list(value) if head == "*" else [head] if head in value else []
    found: list[tuple[KeyPath, list[Any]]] = []
    for name in names:
        found += _lists_at(value[name], (*path, name), tail)
    return found


Note = Callable[[str, KeyPath], None]  # (key of the mapping, path it came from, below the field)
Shape = Callable[[Any, Note], Any]


def _pairs(value: Any, note: Note) -> Any:
    """`- KEY=value` lists (environment, labels, build args) as a mapping."""
    if not isinstance(value, list):
        return value
    mapping: dict[str, Any] = {}
    for index, item in enumerate(value):
        name, sep, text = str(item).partition("=")
        mapping[name] = text if sep else None
        note(name, (index,))
    return mapping


def _names(value: Any, note: Note) -> Any:
    """`depends_on` and `networks` lists as mappings."""
    if not isinstance(value, list):
        return value
    mapping: dict[str, Any] = {}
    for index, item in enumerate(value):
        name = str(item)
        mapping[name] = None
        note(name, (index,))
    return mapping


def _dependencies(value: Any, note: Note) -> Any:
    mapping = _names(value, note)
    if isinstance(mapping, dict):
        return {
            k: v if v is not None else {"condition": "service_started", "required": True}
            for k, v in mapping.items()
        }
    return mapping


def _build(value: Any, note: Note) -> Any:
    if isinstance(value, str):
        note("context", ())
        return {"context": value}
    return value


_SHAPES: dict[KeyPath, Shape] = {
    ("environment",): _pairs,
    ("labels",): _pairs,
    ("build",): _build,
    ("build", "args"): _pairs,
    ("build", "labels"): _pairs,
    ("depends_on",): _dependencies,
    ("networks",): _names,
}
