"""The JSONPath subset criteria use to point into a JSON document: `$.metrics.recall`,
`$.items[0]['vendor id']`, `$.rows[*].total`, `$.rows[-1]`.

Parsed once when the scenario is validated, so a malformed path is an input error, not a failed
criterion at the end of a long run.
"""

from __future__ import annotations

import re

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
