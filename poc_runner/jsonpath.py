"""The JSONPath subset criteria use to point into a JSON document: `$.metrics.recall`,
`$.items[0]['vendor id']`, `$.rows[*].total`, `$.rows[-1]`.

Parsed once when the scenario is validated, so a malformed path is an input error, not a failed
criterion at the end of a long run. `select` then evaluates it on the run's JSON: a segment that
does not fit the document (a key of a list, an index past the end) selects nothing rather than
raising, so a product that wrote the wrong shape fails its criterion with "matched nothing".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

Segment = str | int | None  # a key, an index, or None for the `*` wildcard

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_BRACKET = re.compile(r"""\[\s*(?:(-?\d+)|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\*))\s*\]""")


def parse(path: str) -> tuple[Segment, ...]:
    """The path's segments; ValueError names the first character that does not fit."""
    if not path.startswith("$"):
        raise ValueError("a JSONPath starts with $ (the whole document), e.g. $.metrics.recall")
    segments: list[Segment] = []
    pos = 1
    while pos < len(path):
        if path.startswith(".*", pos):
            segments.append(None)
            pos += 2
        elif path[pos] == "." and (name := _NAME.match(path, pos + 1)):
            segments.append(name.group())
            pos = name.end()
        elif bracket := _BRACKET.match(path, pos):
            index, single, double, star = bracket.groups()
            if star:
                segments.append(None)
            elif index is not None:
                segments.append(int(index))
            else:
                quoted = single if single is not None else double
                segments.append(re.sub(r"\\(.)", r"\1", quoted))
            pos = bracket.end()
        else:
            raise ValueError(
                f"unexpected {path[pos]!r} at position {pos + 1}; use .key, ['key'], [0] or [*]"
            )
    return tuple(segments)


def select(document: Any, path: str | Sequence[Segment]) -> list[Any]:
    """Every value `path` (text, or segments from `parse`) selects in `document`, in document
    order: a key of an object, an index of a list (negative counts from the end), or `*` for
    every item of a list or every value of an object."""
    segments = parse(path) if isinstance(path, str) else path
    found = [document]
    for segment in segments:
        found = [child for node in found for child in _children(node, segment)]
    return found


def has_wildcard(path: str | Sequence[Segment]) -> bool:
    """Whether the path can select several values (it has a `*`)."""
    segments = parse(path) if isinstance(path, str) else path
    return None in segments


def _children(node: Any, segment: Segment) -> list[Any]:
    if segment is None:
        if isinstance(node, list):
            return list(node)
        return list(node.values()) if isinstance(node, dict) else []
    if isinstance(segment, int):
        in_range = isinstance(node, list) and -len(node) <= segment < len(node)
        return [node[segment]] if in_range else []
    return [node[segment]] if isinstance(node, dict) and segment in node else []
