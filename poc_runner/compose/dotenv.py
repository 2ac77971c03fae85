"""Env files (`.env`, a service's `env_file`), read with Compose's grammar (compose-go's dotenv
parser): statements, not lines, so a quoted value may span lines and what follows its closing
quote (a `# comment`) is read on.

- A statement is `NAME=value` or `NAME: value`, optionally after `export `; a line that starts
  with `#` is a comment. A name holds letters and digits of any script, `_ . - [ ]`; a space in
  it is an error. A name alone takes its value from the values given (`--var`, `vars`, for a
  service's file also its `environment`), or is left out when none has it.
- Unquoted values end at the line's end or at ` #`, trailing spaces dropped. Single-quoted values
  are literal (`\\'` is a quote). Double-quoted values know `\\a \\b \\f \\n \\r \\t \\v \\\\ \\"
  \\$` and `\\0NNN` (octal). Unquoted and double-quoted values have their references filled
  (interpolation.py), from the values given first and then from the names set before them.

What filling produces is bounded (interpolation.py): a value that would grow past the bound
stops the reading of the file with an error naming the line and the name, so a kilobyte of
doubling lines (`A2=${A1}${A1}`) is refused at once instead of filling memory.
"""

from __future__ import annotations

import contextlib
import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field

from poc_runner.interpolation import Budget, Interpolation, Values, compose_text

_SPACE = frozenset("\t\v\f\r \x85\xa0")  # blanks within a line (compose-go's isSpace)
_NAME_MARKS = frozenset("_.-[]")
_EXPORT = re.compile(r"export[\t\v\f\r \x85\xa0]+")
_ESCAPE = re.compile(r'\\(?:[abcfnrtv$"\\]|0\d{0,3})')
_ESCAPED = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "\\": "\\",
    "$": "$$",  # a literal `$` once references are filled
}


@dataclass
class EnvFile:
    """What an env file says: its values (and the line of each), the names it left to the
    values given that none had, its faults by line."""

    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    unset: list[tuple[int, str]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


class _Stop(Exception):
    """The rest of the file cannot be read (reported already)."""


def parse_env(
    text: str,
    given: Mapping[str, str],
    known: Mapping[str, str] | None = None,
    budget: Budget | None = None,
    secrets: Mapping[str, str | None] | None = None,
) -> EnvFile:
    """The file's values. References see `given` first, then `known` (what earlier files or
    the service set), then the file's own earlier names; a listed secret like a value."""
    reader = _Reader(
        text.removeprefix("\ufeff"), given, dict(known or {}), budget or Budget(), secrets or {}
    )
    with contextlib.suppress(_Stop):  # reported: what was read so far stands
        reader.read()
    return reader.parsed


@dataclass
class _Reader:
    text: str
    given: Mapping[str, str]
    seen: dict[str, str]
    budget: Budget
    secrets: Mapping[str, str | None]
    parsed: EnvFile = field(default_factory=EnvFile)
    at: int = 0
    line: int = 1

    def __post_init__(self) -> None:
        self.lookup = Values(ChainMap(dict(self.given), self.seen), self.secrets)

    def read(self) -> None:
        while self._statement_start():
            line = self.line
            name, inherited = self._name()
            if name is None:
                continue
            if inherited:
                if name in self.given:
                    self._set(name, self.given[name], line)
                else:
                    self.parsed.unset.append((line, name))
                continue
            value = self._value(name, line)
            if value is not None:
                self._set(name, value, line)

    def _set(self, name: str, value: str, line: int) -> None:
        self.parsed.values[name] = self.seen[name] = value
        self.parsed.lines.setdefault(name, line)

    def _statement_start(self) -> bool:
        """Past blank lines and comments to the next statement; False at the end."""
        text, end = self.text, len(self.text)
        while self.at < end:
            char = text[self.at]
            if char == "\n":
                self.line += 1
            elif char == "#":
                newline = text.find("\n", self.at)
                self.at = end if newline < 0 else newline
                continue
            elif not char.isspace():
                return True
            self.at += 1
        return False

    def _name(self) -> tuple[str | None, bool]:
        """The statement's name (None when it is no name: reported, the line skipped), and
        whether it stands alone; `at` moves past its `=` or `:`."""
        text, end = self.text, len(self.text)
        if (export := _EXPORT.match(text, self.at)) is not None:
            self.at = export.end()
        start = index = self.at
        separator = ""
        while index < end:
            char = text[index]
            if char in "=:\n":
                separator = char
                break
            if not (char in _SPACE or char in _NAME_MARKS or char.isalnum()):
                first_line = text[start:].split("\n", 1)[0]
                self._problem(
                    f"{char!r} cannot be part of a name ({first_line[:40]!r}): names hold"
                    " letters, digits and _ . - [ ]",
                    skip_line=True,
                )
                return None, False
            index += 1
        name = text[start:index].rstrip()
        self.at = index + 1 if separator else index
        if " " in name:
            self._problem(
                f"{name[:40]!r} is not a name: a name cannot hold a space (write NAME=value)"
            )
            if separator in "=:" and separator:
                self._skip_line()
            else:
                self.line += separator == "\n"
            return None, False
        if separator in ("\n", ""):
            self.line += separator == "\n"
            return name, True
        while self.at < end and text[self.at] in _SPACE:
            self.at += 1
        return name, False

    def _value(self, name: str, line: int) -> str | None:
        text = self.text
        quote = text[self.at : self.at + 1]
        if quote not in ("'", '"'):
            newline = text.find("\n", self.at)
            end = len(text) if newline < 0 else newline
            raw = text[self.at : end].split(" #", 1)[0].rstrip()
            self.at = end
            return self._fill(raw, name, line)
        body: list[str] = []
        escaped = False
        for index in range(self.at + 1, len(text)):
            char = text[index]
            if char == "\n":
                self.line += 1
            if char == quote and not escaped:
                self.at = index + 1
                value = "".join(body)
                if quote == "'":
                    return value
                return self._fill(_ESCAPE.sub(_escape, value), name, line)
            if char == "\\" and not escaped:
                escaped = True
                continue
            if escaped and char != quote:
                body.append("\\")
            escaped = False
            body.append(char)
        self.line = line
        self._problem(
            f"the value of {name} opens a {quote} quote that is never closed; the rest of the"
            " file is not read",
        )
        raise _Stop

    def _fill(self, raw: str, name: str, line: int) -> str | None:
        if "$" not in raw:
            return raw
        filled = Interpolation(budget=self.budget)
        value = compose_text(raw, (), self.lookup, filled)
        for _, message in filled.problems:
            rest = "; the rest of the file is not read" if filled.bounded else ""
            self.parsed.problems.append((line, f"{name}: {message}{rest}"))
        if filled.bounded:
            raise _Stop
        return None if filled.problems else value

    def _problem(self, message: str, *, skip_line: bool = False) -> None:
        self.parsed.problems.append((self.line, message))
        if skip_line:
            self._skip_line()

    def _skip_line(self) -> None:
        newline = self.text.find("\n", self.at)
        self.at = len(self.text) if newline < 0 else newline


def _escape(match: re.Match[str]) -> str:
    """One escape of a double-quoted value, as Go unquotes it; others are kept as written."""
    written = match.group()
    body = written[1:]
    if body in _ESCAPED:
        return _ESCAPED[body]
    digits = body[1:]  # `\0NNN`: the octal character NNN
    if len(digits) == 3 and set(digits) <= set("01234567") and int(digits, 8) < 256:
        return chr(int(digits, 8))
    return written


def parse_raw_env(text: str, given: Mapping[str, str]) -> EnvFile:
    """An `env_file` with `format: raw`: each line `NAME=value` taken as written (no quotes,
    escapes, comments or references); a name alone takes its value from `given`."""
    parsed = EnvFile()
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        name, separator, value = line.partition("=")
        if not separator:
            if name.strip() in given:
                parsed.values[name.strip()] = given[name.strip()]
            else:
                parsed.unset.append((number, name.strip()))
            continue
        parsed.values[name] = value
        parsed.lines.setdefault(name, number)
    return parsed


def project_variables(parsed: EnvFile) -> dict[str, str]:
    """A project env file's values as variables: names that start with a digit can never be
    referenced and are left out, as compose-go's `Read` leaves them out."""
    return {name: value for name, value in parsed.values.items() if not name[:1].isdigit()}
