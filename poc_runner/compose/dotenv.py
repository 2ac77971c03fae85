"""Env files (`.env`, a service's `env_file`), read the way Compose reads them.

`KEY=value` lines, `export ` allowed before the key, `#` comments; single-quoted values are
literal, double-quoted ones know `\\n`-style escapes, and unquoted and double-quoted values have
their `${NAME}` references filled (from the lines above, then from the given values). A line
holding a name alone takes the value from the given values, or is left out when none has it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from poc_runner.interpolation import Interpolation, Values, compose_text

_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=\s*(.*?))?\s*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$$"}


@dataclass
class EnvFile:
    """What an env file says: its values, the names it left to the environment, its faults."""

    values: dict[str, str] = field(default_factory=dict)
    unset: list[tuple[int, str]] = field(default_factory=list)  # (line, name) with no value
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


def parse_env(text: str, given: Mapping[str, str]) -> EnvFile:
    """The file's values; references see earlier lines first, then `given`."""
    parsed = EnvFile()
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            parsed.problems.append((number, f"{line.strip()[:40]!r} is not NAME=value"))
            continue
        name, raw = match.group(1), match.group(2)
        if raw is None:
            if name in given:
                parsed.values[name] = given[name]
            else:
                parsed.unset.append((number, name))
            continue
        quote = raw[:1]
        if quote in ("'", '"') and not _closed(raw, quote):  # a value over several lines
            while number < len(lines) and not _closed(raw, quote):
                raw += "\n" + lines[number]
                number += 1
        value = _value(raw, {**given, **parsed.values}, number, parsed)
        if value is not None:
            parsed.values[name] = value
    return parsed


def _closed(raw: str, quote: str) -> bool:
    return len(raw) > 1 and raw.rstrip().endswith(quote) and not raw.rstrip().endswith("\\" + quote)


def _value(raw: str, known: Mapping[str, str], number: int, parsed: EnvFile) -> str | None:
    quote = raw[:1]
    if quote == "'":
        if not _closed(raw, quote):
            parsed.problems.append((number, "a quoted value is missing its closing '"))
            return None
        return raw.rstrip()[1:-1]
    if quote == '"':
        if not _closed(raw, quote):
            parsed.problems.append((number, 'a quoted value is missing its closing "'))
            return None
        body = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), raw.rstrip()[1:-1])
        return _fill(body, known, number, parsed)
    return _fill(re.sub(r"\s+#.*$", "", raw), known, number, parsed)


def _fill(text: str, known: Mapping[str, str], number: int, parsed: EnvFile) -> str:
    filled = Interpolation()
    value = compose_text(text, (), Values(known), filled)
    parsed.problems.extend((number, message) for _, message in filled.problems)
    return value
