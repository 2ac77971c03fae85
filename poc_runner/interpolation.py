"""Variable references in string values: the scenario's dialect, and Compose's (spec, "compose").

The scenario's steps, criteria and job know only `${name}`: a bare `$NAME` is left for the shell
and `$$` writes a literal `$`. Compose content (Compose files and the scenario's `services:`)
follows Compose: `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?message}`,
`${NAME?message}`, `${NAME:+other}`, `${NAME+other}`, and `$$` for `$`. Both are filled in the
raw document, before the models see it, so a reference can stand in any string field. A secret
whose value is not known yet (`poc validate` runs without the host's secrets) keeps its
`${NAME}`.

What filling may produce is bounded, as the loader bounds aliases: a value that references
others (an env file's `A2=${A1}${A1}`, each line doubling the last) could otherwise grow to
gigabytes from a kilobyte of text. One filled value may hold at most MAX_VALUE characters (or
as many as were written, when more), all values of a scenario together may grow by at most
MAX_GROWTH, and defaults nest at most MAX_NESTING levels deep.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from poc_runner.diagnostics import KeyPath
from poc_runner.loader import lookup
from poc_runner.units import size_text

_REFERENCE = re.compile(r"\$\$|\$\{([^}]*)(\}?)")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
UNINTERPOLATED_SECTIONS = frozenset({"vars", "secrets"})
MAX_VALUE = 128 * 1024  # characters in one filled value
MAX_GROWTH = 16 * 1024 * 1024  # characters all filled values of a scenario may add together
MAX_NESTING = 32  # `${A:-${B:-...}}` levels


@dataclass(frozen=True)
class Values:
    """Where references take their values: variables, and secrets (None: not known yet)."""

    variables: Mapping[str, str]
    secrets: Mapping[str, str | None] = field(default_factory=dict)


@dataclass
class Budget:
    """How much filling may still add, shared by everything one scenario fills."""

    left: int = MAX_GROWTH
    spent: bool = False  # a value was refused for want of it (said once)


@dataclass
class Interpolation:
    problems: list[tuple[KeyPath, str]] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # names that were given a value
    referenced: set[str] = field(default_factory=set)  # every well-formed name written
    budget: Budget = field(default_factory=Budget)
    bounded: bool = False  # a bound was passed: what follows may be refused likewise

    def absorb(self, other: Interpolation) -> None:
        self.used |= other.used
        self.referenced |= other.referenced


def interpolate(
    data: Any,
    references: Iterable[KeyPath],
    values: Values,
    *,
    compose: bool = False,
    result: Interpolation | None = None,
) -> Interpolation:
    """Replaces references in place at the given paths (the loader lists where text holds a
    `$`), in Compose's dialect with `compose` (Compose files, a scenario's `services`), else in
    the scenario's. A list or mapping that aliases share is filled once: the text is the same
    wherever it stands."""
    result = result or Interpolation()
    done: set[tuple[int, str | int]] = set()
    for path in references:
        if not path or (not compose and path[0] in UNINTERPOLATED_SECTIONS) or _extension(path):
            continue  # an `x-*` section is ignored: its anchors are filled where they are used
        container = lookup(data, path[:-1])
        slot = (id(container), path[-1])
        if not isinstance(lookup(container, path[-1:]), str) or slot in done:
            continue  # a later duplicate key replaced it (reported on its own), or done already
        done.add(slot)
        dialect = compose_text if compose else scenario_text
        container[path[-1]] = dialect(container[path[-1]], path, values, result)
    return result


def _extension(path: KeyPath) -> bool:
    return isinstance(path[0], str) and path[0].startswith("x-")


def scenario_text(text: str, path: KeyPath, values: Values, result: Interpolation) -> str:
    """`${name}` filled, `$$` made `$`; anything else with a `$` stays for the shell."""
    filled = _Filled(text, path, result)
    size = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal size
        if match.group(0) == "$$":
            return "$"
        name, closed = match.group(1), match.group(2)
        if not closed:
            result.problems.append((path, f"`${{{name[:30]}` is missing its closing `}}`"))
        elif not NAME.fullmatch(name):
            result.problems.append(
                (path, f"`${{{name[:30]}}}` is not a variable name (letters, digits and _)")
            )
        else:
            found = _value(name, values, result)
            if found is not None:
                if found is _UNKNOWN_SECRET:
                    return match.group(0)
                size += len(found)
                return found if filled.fits(size, name) else ""
            result.problems.append(
                (
                    path,
                    f"`${{{name}}}` is not defined: add it under `vars`, pass `--var {name}=...`,"
                    f" list it under `secrets`, or write `$${{{name}}}` for a literal `${{`",
                )
            )
        return match.group(0)

    out = _REFERENCE.sub(replace, text)
    return out if filled.done(len(out)) else text


_UNKNOWN_SECRET = "\0secret"  # a listed secret whose value the run has not read (validation)
_BRACED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?", re.S)
# Compose's own reading of `${...}` (compose-go template.go): a name, an operator, and the rest
# of the line up to its last `}`; consulted when counting braces finds no closing one.
_COMPOSE_BRACED = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?::?[-+?](?:.*\}|[^}]*))?)\}")


def _value(name: str, values: Values, result: Interpolation) -> str | None:
    result.referenced.add(name)
    if name in values.variables:
        result.used.add(name)
        return values.variables[name]
    if name in values.secrets:
        result.used.add(name)
        secret = values.secrets[name]
        return _UNKNOWN_SECRET if secret is None else secret
    return None


class _Refused(Exception):
    """Filling stopped: a bound was passed (already reported)."""


@dataclass
class _Filled:
    """One value being filled: where it stands, and whether a bound has stopped it."""

    text: str
    path: KeyPath
    result: Interpolation
    stopped: bool = False

    @property
    def limit(self) -> int:
        return max(MAX_VALUE, len(self.text))

    def fits(self, size: int, name: str) -> bool:
        """A part of the value `size` characters long, after filling in `name`, is within
        MAX_VALUE; reported once when not."""
        if size <= self.limit and not self.stopped:
            return True
        if not self.stopped:
            self.stopped = self.result.bounded = True
            self.result.problems.append(
                (
                    self.path,
                    f"filling in `{name}` makes this value longer than {size_text(self.limit)}"
                    " (the most one filled value may hold): a value that references others"
                    " grows with each of them",
                )
            )
        return False

    def done(self, length: int) -> bool:
        """The finished value fits what the scenario may still add."""
        if self.stopped:
            return False
        grown = length - len(self.text)
        if grown <= 0:
            return True
        if grown > self.result.budget.left:
            self.stopped = self.result.bounded = True
            if not self.result.budget.spent:  # said once; later values stay as written
                self.result.budget.spent = True
                self.result.problems.append(
                    (
                        self.path,
                        f"filled values would add more than {size_text(MAX_GROWTH)} to this"
                        " scenario in all; refusing to fill more",
                    )
                )
            return False
        self.result.budget.left -= grown
        return True


def compose_text(text: str, path: KeyPath, values: Values, result: Interpolation) -> str:
    """Compose's interpolation of one string (a small scanner: defaults may nest references).
    The text comes back as written when a bound is passed."""
    if "$" not in text:
        return text
    filled = _Filled(text, path, result)
    try:
        out = _fill(text, values, filled, 0)
    except _Refused:
        return text
    return out if filled.done(len(out)) else text


def _fill(text: str, values: Values, filled: _Filled, depth: int) -> str:
    out: list[str] = []
    at = size = 0
    while (dollar := text.find("$", at)) >= 0:
        literal = text[at:dollar]
        after = text[dollar + 1 : dollar + 2]
        name = ""
        if after == "$":
            piece, at = "$", dollar + 2
        elif after == "{":
            piece, at, name = _braced_at(text, dollar, values, filled, depth)
        elif (named := NAME.match(text, dollar + 1)) is not None:
            name = named.group()
            piece, at = _required(name, f"${name}", values, filled), named.end()
        else:
            piece, at = "$", dollar + 1
        size += len(literal) + len(piece)
        if not filled.fits(size, name or "$"):
            raise _Refused
        out += (literal, piece)
    out.append(text[at:])
    return "".join(out)


def _braced_at(
    text: str, dollar: int, values: Values, filled: _Filled, depth: int
) -> tuple[str, int, str]:
    """The `${...}` starting at `dollar`: (its value, where scanning goes on, its name)."""
    end = _closing(text, dollar + 1)
    if end == _TOO_DEEP:
        filled.result.bounded = True
        filled.result.problems.append(
            (
                filled.path,
                f"`{text[dollar : dollar + 30]}...` nests references more than {MAX_NESTING}"
                " levels deep",
            )
        )
        raise _Refused
    if end < 0:
        compose = _COMPOSE_BRACED.match(text, dollar + 1)
        if compose is None:
            filled.result.problems.append(
                (filled.path, f"`{text[dollar : dollar + 30]}` is missing its closing `}}`")
            )
            raise _Refused
        inner, after = compose.group(1), compose.end()
    else:
        inner, after = text[dollar + 2 : end], end + 1
    match = _BRACED.fullmatch(inner)
    if match is None:
        written = f"${{{inner}}}"
        filled.result.problems.append(
            (
                filled.path,
                f"`{written[:40]}` is not a reference like ${{NAME}} or ${{NAME:-default}}",
            )
        )
        return written, after, ""
    name = match.group(1)
    return _substitute(match, values, filled, depth + 1), after, name


_TOO_DEEP = -2


def _closing(text: str, brace: int) -> int:
    """Index of the `}` closing the `{` at `brace`, counted as Compose counts (every `{` opens a
    level, every `}` closes one, and the character right after a `{` is passed over); -1 when
    none does, _TOO_DEEP past MAX_NESTING levels."""
    depth = 0
    index, end = brace, len(text)
    while index < end:
        char = text[index]
        if char == "}":
            depth -= 1
            if depth == 0:
                return index
        elif char == "{":
            depth += 1
            if depth > MAX_NESTING:
                return _TOO_DEEP
            index += 1
        index += 1
    return -1


def _substitute(match: re.Match[str], values: Values, filled: _Filled, depth: int) -> str:
    name, operator, argument = match.group(1), match.group(2), match.group(3) or ""
    written = f"${{{match.group(0)}}}"
    if operator is None:
        return _required(name, written, values, filled)
    found = _value(name, values, filled.result)
    if found is _UNKNOWN_SECRET:
        return written
    unset = found is None or (operator.startswith(":") and found == "")
    kind = operator[-1]
    if kind == "-":
        return _fill(argument, values, filled, depth) if unset else str(found)
    if kind == "+":
        return (found or "") if unset else _fill(argument, values, filled, depth)
    if unset:  # "?"
        why = _message(argument, values, filled.result) or (
            "is not set" if found is None else "is empty"
        )
        filled.result.problems.append(
            (filled.path, f"`{name}` is required: {why}{_where_values_come_from(name)}")
        )
    return str(found or "")


def _message(text: str, values: Values, result: Interpolation) -> str:
    """A `${NAME:?message}`'s message, filled where it can be (it is only ever shown)."""
    quiet = Interpolation(budget=result.budget)
    message = compose_text(text, (), values, quiet)
    return text if quiet.problems else message


def _required(name: str, written: str, values: Values, filled: _Filled) -> str:
    found = _value(name, values, filled.result)
    if found is _UNKNOWN_SECRET:
        return f"${{{name}}}"
    if found is None:
        filled.result.problems.append(
            (
                filled.path,
                f"`{written}` has no value{_where_values_come_from(name)}, give it a default"
                f" (`${{{name}:-value}}`), or write `$${name}` for a literal `$`",
            )
        )
        return written
    return found


def _where_values_come_from(name: str) -> str:
    return f": set it with `--var {name}=...`, under `vars`, or in the env file"


def scalar_text(value: Any) -> str | None:
    """A `vars` value as the text it stands for (`true`, `0.95`), or None if it is not a scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None
