"""Compose's merge rules, as `docker compose -f a -f b` applies them (Compose spec, "Merge").

Mappings merge key by key; sequences are appended, except the shell commands (`command`,
`entrypoint`, `healthcheck.test`), which the later file replaces, and the unique resources
(`ports`, `volumes`, `configs`, `secrets`), where an entry replaces the earlier one it shares
a key with (the target path, for a mount). `environment`, `labels`, `depends_on`, `networks`
and `build` may be written in two shapes; when two files meet, both are read as mappings.
Every node placed records where it was written (origins.py), so a problem found later is
reported in the file and at the line that wrote it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from poc_runner.compose.origins import Origins, Side, Source
from poc_runner.diagnostics import KeyPath

_REPLACED = frozenset({"command", "entrypoint"})
_REPLACED_BELOW = frozenset({("healthcheck", "test")})


def _mount_target(entry: Any) -> Any:
    if isinstance(entry, dict):
        return entry.get("target")
    if isinstance(entry, str):
        parts = entry.split(":")
        return parts[1] if len(parts) > 1 and parts[1].startswith("/") else parts[0]
    return repr(entry)


def _file_target(entry: Any) -> Any:
    if isinstance(entry, dict):
        return entry.get("target") or entry.get("source")
    return entry


def _as_text(entry: Any) -> Any:
    return entry if isinstance(entry, str | int) else repr(entry)


_UNIQUE: dict[str, Callable[[Any], Any]] = {
    "ports": _as_text,
    "volumes": _mount_target,
    "configs": _file_target,
    "secrets": _file_target,
    "expose": _as_text,
    "links": _as_text,
    "cap_add": _as_text,
    "profiles": _as_text,
}


class Merger:
    """Merges services into one tree, recording origins as it goes."""

    def __init__(self, origins: Origins) -> None:
        self.origins = origins

    def place(self, path: KeyPath, value: Any, side: Side, written: KeyPath) -> Any:
        """A copy of `value` to stand at `path`, recorded as written at `written` in `side`."""
        self.origins.record(path, *side.locate(written))
        self.origins.copy_below(side.origins, written, path)
        return copy.deepcopy(value)

    def service(
        self, base: dict[str, Any], over: dict[str, Any], path: KeyPath, side: Side, at: KeyPath
    ) -> None:
        """Merge the service `over` (at `at` in `side`) into `base` (at `path`), in place."""
        for key, value in over.items():
            here, there = (*path, key), (*at, key)
            if key not in base or key in _REPLACED:
                base[key] = self.place(here, value, side, there)
                continue
            shaped = _MAPPING_FORMS.get(key)
            if shaped is None or not (isinstance(base[key], dict) or isinstance(value, dict)):
                self._merge(base, key, value, here, side, there)
                continue
            base[key] = self._as_mapping(base[key], here, shaped)
            written: dict[str, KeyPath] = {}
            mapping = shaped(value, written.__setitem__)
            if not isinstance(base[key], dict) or not isinstance(mapping, dict):
                base[key] = self.place(here, value, side, there)
                continue
            for name, item in mapping.items():
                origin = (*there, *written.get(name, (name,)))
                if name in base[key]:
                    self._merge(base[key], name, item, (*here, name), side, origin)
                else:
                    base[key][name] = self.place((*here, name), item, side, origin)

    def _merge(
        self,
        parent: dict[str, Any] | list[Any],
        key: Any,
        value: Any,
        path: KeyPath,
        side: Side,
        written: KeyPath,
    ) -> None:
        current = parent[key]
        replaced = path[-2:] in _REPLACED_BELOW
        if isinstance(current, dict) and isinstance(value, dict) and not replaced:
            for name, item in value.items():
                if name in current:
                    self._merge(current, name, item, (*path, name), side, (*written, name))
                else:
                    current[name] = self.place((*path, name), item, side, (*written, name))
        elif isinstance(current, list) and isinstance(value, list) and not replaced:
            self._extend(current, value, path, side, written)
        else:
            parent[key] = self.place(path, value, side, written)

    def _extend(
        self, current: list[Any], value: list[Any], path: KeyPath, side: Side, written: KeyPath
    ) -> None:
        unique = _UNIQUE.get(str(path[-1])) if len(path) == 3 else None
        for index, item in enumerate(value):
            at = len(current)
            if unique is not None:
                key = unique(item)
                at = next((i for i, old in enumerate(current) if unique(old) == key), at)
            placed = self.place((*path, at), item, side, (*written, index))
            if at == len(current):
                current.append(placed)
            else:
                current[at] = placed

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
            k: v if v is not None else {"condition": "service_started"} for k, v in mapping.items()
        }
    return mapping


def _build(value: Any, note: Note) -> Any:
    if isinstance(value, str):
        note("context", ())
        return {"context": value}
    return value


_MAPPING_FORMS: dict[str, Shape] = {
    "environment": _pairs,
    "labels": _pairs,
    "depends_on": _dependencies,
    "networks": _names,
    "build": _build,
}
