"""Read a scenario file as plain data, safely, remembering where every key and value came from.

Scenario files are written by hand and may come from anyone, so the loader never constructs
objects, never recurses, and bounds everything hostile input could blow up: file size, nesting
depth, and the number of values aliases expand to (a "billion laughs" file is refused after a
bounded amount of work, not expanded). Duplicate keys are reported instead of silently keeping
the last one, as PyYAML does. Plain scalars follow the YAML 1.2 core schema, so `no`, `on` or
`NO` (Norway) stay text; the models still read `yes`/`no` as booleans where a boolean is expected.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from poc_runner.diagnostics import KeyPath

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 100_000

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null")}
_MAY_BE_TYPED = frozenset("0123456789+-.~nNtTfF")  # first characters of non-text plain scalars
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)


class Mark(NamedTuple):
    """A 1-based line and column in the scenario file."""

    line: int
    column: int


START = Mark(1, 1)


class LoadError(Exception):
    """The file cannot be read as a scenario document at all."""

    def __init__(self, message: str, mark: Mark = START, rule: str = "yaml") -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark
        self.rule = rule


@dataclass(frozen=True)
class Problem:
    """Something wrong that still let the document be read (a duplicate key)."""

    message: str
    mark: Mark
    path: KeyPath
    rule: str


@dataclass
class SourceMap:
    """Where each value (and each mapping key) of the document was written."""

    values: dict[KeyPath, Mark] = field(default_factory=dict)
    keys: dict[KeyPath, Mark] = field(default_factory=dict)

    def value_at(self, path: KeyPath) -> Mark:
        """The value's position, or its nearest enclosing one (missing keys, aliased content)."""
        for end in range(len(path), -1, -1):
            mark = self.values.get(path[:end])
            if mark is not None:
                return mark
        return START

    def key_at(self, path: KeyPath) -> Mark:
        return self.keys.get(path) or self.value_at(path)


@dataclass
class Document:
    data: Any
    source_map: SourceMap
    problems: list[Problem]
    references: list[KeyPath]  # where text holding `$` sits, so interpolation looks only there


def read_text(path: Path) -> str:
    """The file's text; refuses what is not a regular, reasonably sized UTF-8 file.

    Opened non-blocking so a FIFO named scenario.yaml cannot hang `poc validate`.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise LoadError("no such file", rule="file") from None
    except OSError as exc:
        raise LoadError(f"cannot open the file: {exc.strerror}", rule="file") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise LoadError("is a folder, not a file", rule="file")
        if not stat.S_ISREG(mode):
            raise LoadError("not a regular file", rule="file")
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:
        raise LoadError(
            f"the file is larger than {MAX_FILE_BYTES // 1024} KiB; scenario files describe a"
            " job, data belongs in files under data/",
            rule="file",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"the file is not UTF-8 text (byte {exc.start} cannot be decoded)",
            _mark_at_byte(raw, exc.start),
            rule="file",
        ) from None


def parse(text: str) -> Document:
    """Build plain data (dict, list, str, int, float, bool, None) and its source map."""
    builder = _Builder()
    parser = _Parser(text)
    try:
        builder.consume(parser.get_event)
    except yaml.MarkedYAMLError as exc:
        if (deep := _too_deep(text)) is not None:  # the parser's own limit came first
            raise deep from None
        mark = _mark(exc.problem_mark or exc.context_mark)
        raise LoadError(_describe_yaml_error(exc, _char_at(text, mark)), mark) from None
    except yaml.reader.ReaderError as exc:
        raise LoadError(
            f"character {exc.character!r} is not allowed in YAML ({exc.reason})",
            _mark_at_byte(text.encode("utf-8", "surrogatepass"), exc.position),
        ) from None
    except yaml.YAMLError as exc:
        raise LoadError(f"not valid YAML: {exc}") from None
    finally:
        parser.dispose()
    if builder.documents == 0:
        raise LoadError("the file is empty; a scenario starts with `apiVersion: poc-runner/v1`")
    return Document(builder.root, builder.source_map, builder.problems, builder.references)


@dataclass(slots=True)
class _Open:
    """A mapping or sequence whose end event has not been seen yet."""

    value: dict[str, Any] | list[Any]
    path: KeyPath
    anchor: str | None
    is_mapping: bool
    size: int = 1
    references: int = 0  # how many references the document had when this opened
    key: str | None = None
    merging: bool = False
    merges: list[tuple[Any, Mark]] = field(default_factory=list)


class _Builder:
    """Turns the parser's event stream into data with an explicit stack (no recursion).

    This is the hot path of `poc validate`, so it dispatches on the event's type and keeps the
    innermost open collection at hand rather than asking the stack each time.
    """

    def __init__(self) -> None:
        self.root: Any = None
        self.documents = 0
        self.source_map = SourceMap()
        self.problems: list[Problem] = []
        self.references: list[KeyPath] = []
        self._stack: list[_Open] = []
        self._top: _Open | None = None
        self._anchors: dict[str, tuple[Any, int]] = {}
        self._anchored: dict[str, tuple[KeyPath, list[KeyPath]]] = {}  # its path, its references
        self._open_anchors: set[str] = set()
        self._values = 0

    def consume(self, next_event: Callable[[], yaml.Event | None]) -> None:
        handlers: dict[type, Callable[[Any], None]] = {
            yaml.ScalarEvent: self._scalar,
            yaml.MappingStartEvent: self._start,
            yaml.SequenceStartEvent: self._start,
            yaml.MappingEndEvent: self._end,
            yaml.SequenceEndEvent: self._end,
            yaml.AliasEvent: self._alias,
            yaml.DocumentStartEvent: self._document,
        }
        while (event := next_event()) is not None:
            handler = handlers.get(type(event))
            if handler is not None:
                handler(event)

    def _document(self, event: yaml.DocumentStartEvent) -> None:
        self.documents += 1
        if self.documents > 1:
            raise LoadError(
                "a scenario file holds one YAML document; remove the second `---`",
                _mark(event.start_mark),
            )

    def _expecting_key(self) -> bool:
        top = self._top
        return top is not None and top.is_mapping and top.key is None

    def _child_path(self) -> KeyPath:
        top = self._top
        if top is None:
            return ()
        if top.is_mapping:
            return (*top.path, top.key)  # type: ignore[arg-type]
        return (*top.path, len(top.value))

    def _count(self, values: int, mark: Mark) -> None:
        self._values += values
        if self._values > MAX_VALUES:
            raise _too_many_values(mark)

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        """The most frequent event by far, so `_child_path` and `_attach` are written inline."""
        start: Any = event.start_mark  # the parser always sets it
        mark = Mark(start.line + 1, start.column + 1)
        self._values += 1
        if self._values > MAX_VALUES:
            raise _too_many_values(mark)
        top = self._top
        if top is not None and top.is_mapping and top.key is None:
            self._key(event, mark)
            return
        value = _construct_scalar(event, mark)
        if top is not None and top.is_mapping and not top.merging:
            key: Any = top.key  # set: this scalar is the value after a key
            path = (*top.path, key)
            self.source_map.values[path] = mark
            top.value[key] = value
            top.key = None
            top.size += 1
        else:
            path = self._child_path()
            self.source_map.values[path] = mark
            self._attach(value, 1, mark)
        if _holds_reference(value):
            self.references.append(path)
        if event.anchor is not None:
            self._anchors[event.anchor] = (value, 1)

    def _key(self, event: yaml.ScalarEvent, mark: Mark) -> None:
        if event.tag not in (None, "!", f"{_TAG}str"):
            raise LoadError("a mapping key must be plain text, without a YAML tag", mark)
        top = self._top
        assert top is not None
        top.merging = event.value == "<<" and event.implicit[0]
        top.key = event.value
        if top.merging:
            return
        path = (*top.path, event.value)
        keys = self.source_map.keys
        first = keys.get(path)
        if first is not None:
            self.problems.append(
                Problem(
                    f"duplicate key {event.value!r} (first written at line {first.line});"
                    " YAML would silently keep only one of them",
                    mark,
                    path,
                    "duplicate-key",
                )
            )
        keys[path] = mark

    def _start(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent) -> None:
        mark = _mark(event.start_mark)
        if self._expecting_key():
            raise LoadError("a mapping key must be plain text, not a list or mapping", mark)
        if len(self._stack) >= MAX_DEPTH:
            raise LoadError(f"nested more than {MAX_DEPTH} levels deep", mark, rule="size")
        is_mapping = type(event) is yaml.MappingStartEvent
        expected = f"{_TAG}map" if is_mapping else f"{_TAG}seq"
        if event.tag not in (None, "!", expected):
            raise LoadError(_tag_refused(event.tag), mark, rule="yaml-tag")
        self._count(1, mark)
        path = self._child_path()
        self.source_map.values[path] = mark
        if event.anchor is not None:
            self._open_anchors.add(event.anchor)
        self._top = _Open(
            {} if is_mapping else [],
            path,
            event.anchor,
            is_mapping,
            references=len(self.references),
        )
        self._stack.append(self._top)

    def _end(self, _event: yaml.Event) -> None:
        done = self._stack.pop()
        self._top = self._stack[-1] if self._stack else None
        if done.merges:
            self._apply_merges(done)
        if done.anchor is not None:
            self._open_anchors.discard(done.anchor)
            self._anchors[done.anchor] = (done.value, done.size)
            self._anchored[done.anchor] = (done.path, self.references[done.references :])
        self._attach(done.value, done.size, self.source_map.values[done.path])

    def _alias(self, event: yaml.AliasEvent) -> None:
        mark = _mark(event.start_mark)
        name = event.anchor
        if self._expecting_key():
            raise LoadError("a mapping key must be plain text, not an alias", mark)
        if name in self._open_anchors:
            raise LoadError(f"alias *{name} refers to the value that contains it", mark)
        if name not in self._anchors:
            raise LoadError(f"alias *{name} has no anchor &{name} before it", mark)
        value, size = self._anchors[name]
        self._count(size, mark)
        path = self._child_path()
        self.source_map.values[path] = mark
        if _holds_reference(value):
            self.references.append(path)
        elif name in self._anchored:  # text inside a shared list or mapping, here too
            anchored, inside = self._anchored[name]
            lands = self._merged_into() or path  # a merge key's mapping lands in its parent
            self.references += [(*lands, *inner[len(anchored) :]) for inner in inside]
        self._attach(value, size, mark)

    def _merged_into(self) -> KeyPath | None:
        """The path of the mapping a `<<: *alias` (or `<<: [*a, *b]`) merges into, if any."""
        top = self._top
        if top is not None and top.merging:
            return top.path
        parent = self._stack[-2] if len(self._stack) > 1 else None
        if top is not None and not top.is_mapping and parent is not None and parent.merging:
            return parent.path
        return None

    def _attach(self, value: Any, size: int, mark: Mark) -> None:
        top = self._top
        if top is None:
            self.root = value
            return
        top.size += size
        if not top.is_mapping:
            top.value.append(value)  # type: ignore[union-attr]
        elif top.merging:
            top.merges.append((value, mark))
        else:
            top.value[top.key] = value  # type: ignore[call-overload, index]
        top.key = None

    def _apply_merges(self, frame: _Open) -> None:
        """YAML merge keys (`<<: *defaults`), as Compose files use them: written keys win."""
        assert isinstance(frame.value, dict)
        for merged, mark in frame.merges:
            sources = merged if isinstance(merged, list) else [merged]
            for source in sources:
                if not isinstance(source, dict):
                    raise LoadError("`<<` merges a mapping or a list of mappings", mark)
                for key, value in source.items():
                    if key not in frame.value:
                        frame.value[key] = value
                        self.source_map.values.setdefault((*frame.path, key), mark)
                        if _holds_reference(value):
                            self.references.append((*frame.path, key))


def _holds_reference(value: Any) -> bool:
    """Text that may hold a reference for interpolation to fill (`${name}`, Compose's `$NAME`)."""
    return type(value) is str and "$" in value


def lookup(data: Any, path: KeyPath) -> Any:
    """The value at `path` in loaded data, or None where the path no longer leads anywhere
    (a later duplicate key replaced part of it, or a salvage set it aside)."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _too_many_values(mark: Mark) -> LoadError:
    return LoadError(
        f"the document expands to more than {MAX_VALUES:,} values (through aliases or sheer"
        " size); refusing to expand it",
        mark,
        rule="size",
    )


def _construct_scalar(event: yaml.ScalarEvent, mark: Mark) -> Any:
    text: str = event.value
    tag = event.tag
    if tag in (None, "!"):
        if not event.implicit[0] or tag == "!" or (text and text[0] not in _MAY_BE_TYPED):
            return text
        tag = _resolve_plain(text)
    if tag not in _SCALAR_TAGS:
        raise LoadError(_tag_refused(tag), mark, rule="yaml-tag")
    try:
        return _convert(tag, text)
    except ValueError:
        raise LoadError(f"{text[:40]!r} is not a valid {tag.removeprefix(_TAG)}", mark) from None


def _resolve_plain(text: str) -> str:
    if _NULL.fullmatch(text):
        return f"{_TAG}null"
    if _BOOL.fullmatch(text):
        return f"{_TAG}bool"
    if _INT.fullmatch(text):
        return f"{_TAG}int"
    if _FLOAT.fullmatch(text):
        return f"{_TAG}float"
    return f"{_TAG}str"


def _convert(tag: str, text: str) -> Any:
    kind = tag.removeprefix(_TAG)
    if kind == "str":
        return text
    if kind == "null":
        if not _NULL.fullmatch(text):
            raise ValueError(text)
        return None
    if kind == "bool":
        if not _BOOL.fullmatch(text):
            raise ValueError(text)
        return text.lower() == "true"
    if kind == "int":
        if not _INT.fullmatch(text):
            raise ValueError(text)
        return int(text, 0) if text[:2] in ("0o", "0x") else int(text)
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if lowered.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    return float(text)


def _tag_refused(tag: str | None) -> str:
    written = f"!!{tag.removeprefix(_TAG)}" if tag and tag.startswith(_TAG) else tag
    return (
        f"YAML tag {written!r} is not allowed: scenario files hold plain data"
        " (text, numbers, true/false, lists and mappings)"
    )


# Brackets, and what hides them: comments and quoted text (on the error path only).
_FLOW_TOKENS = re.compile(
    r"""(?:^|(?<=\s))#[^\n]*|'(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[\[\]{}]""", re.M
)


def _too_deep(text: str) -> LoadError | None:
    """Our nesting limit, when the text breaks it, whatever limit the parser has of its own.

    The builder refuses a 65th level when its event arrives, but the parser scans ahead: with
    thousands of `[` it can fail on a limit of its own first (PyYAML 6.0.4's libyaml stops at
    1000 levels, earlier releases at none), so its error would name a different rule. When the
    parser fails, the brackets are counted here and the file is refused under our rule."""
    depth = 0
    for token in _FLOW_TOKENS.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return LoadError(
                    f"nested more than {MAX_DEPTH} levels deep",
                    _mark_at_char(text, token.start()),
                    rule="size",
                )
        elif bracket in "]}":
            depth = max(depth - 1, 0)
    return None


def _describe_yaml_error(exc: yaml.MarkedYAMLError, char: str) -> str:
    problem = (exc.problem or "not valid YAML").strip()
    if "cannot start any token" in problem:
        if char == "\t":
            return "a tab character is not allowed here; YAML indentation uses spaces"
        return f"{char!r} cannot start a value here; put the value in quotes"
    if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
        opened = _mark(exc.context_mark)
        return f"{problem} ({exc.context} opened at line {opened.line}, column {opened.column})"
    return problem


def _char_at(text: str, mark: Mark) -> str:
    lines = text.splitlines()
    if mark.line > len(lines):
        return ""
    return lines[mark.line - 1][mark.column - 1 : mark.column]


def _mark(mark: Any) -> Mark:
    if mark is None:
        return START
    return Mark(mark.line + 1, mark.column + 1)


def _mark_at_char(text: str, offset: int) -> Mark:
    return Mark(text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset))


def _mark_at_byte(raw: bytes, offset: int) -> Mark:
    before = raw[:offset]
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", "replace")) + 1
    return Mark(before.count(b"\n") + 1, column)
