"""Variable references in string values: the scenario's dialect, and Compose's (spec, "compose").

The scenario's steps, criteria and job know only `${name}`: a bare `$NAME` is left for the shell
and `$$` writes a literal `$`. Compose content (Compose files and the scenario's `services:`)
follows Compose: `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?message}`,
`${NAME?message}`, `${NAME:+other}`, `${NAME+other}`, and `$$` for `$`. Both are filled in the
raw document, before the models see it, so a reference can stand in any string field. A secret
whose value is not known yet (`poc validate` runs without the host's secrets) keeps its
`${NAME}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from poc_runner.diagnostics import KeyPath
from poc_runner.loader import lookup

_REFERENCE = re.compile(r"\$\$|\$\{([^}]*)(\}?)")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
UNINTERPOLATED_SECTIONS = frozenset({"vars", "secrets"})


@dataclass(frozen=True)
class Values:
    """Where references take their values: variables, and secrets (None: not known yet)."""

    variables: Mapping[str, str]
    secrets: Mapping[str, str | None] = field(default_factory=dict)


@dataclass
class Interpolation:
    problems: list[tuple[KeyPath, str]] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # names that were given a value
    referenced: set[str] = field(default_factory=set)  # every well-formed name written

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
    the scenario's."""
    result = result or Interpolation()
    done: set[tuple[int, str | int]] = set()  # a list or mapping shared by aliases, once
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

    def replace(match: re.Match[str]) -> str:
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
                return match.group(0) if found is _UNKNOWN_SECRET else found
            result.problems.append(
                (
                    path,
                    f"`${{{name}}}` is not defined: add it under `vars`, pass `--var {name}=...`,"
                    f" list it under `secrets`, or write `$${{{name}}}` for a literal `${{`",
                )
            )
        return match.group(0)

    return _REFERENCE.sub(replace, text)


_UNKNOWN_SECRET = "\0secret"  # a listed secret whose value the run has not read (validation)
_BRACED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?", re.S)


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


def compose_text(text: str, path: KeyPath, values: Values, result: Interpolation) -> str:
    """Compose's interpolation of one string (a small scanner: defaults may nest references)."""
    out: list[str] = []
    at = 0
    while (dollar := text.find("$", at)) >= 0:
        out.append(text[at:dollar])
        after = text[dollar + 1 : dollar + 2]
        if after == "$":
            out.append("$")
            at = dollar + 2
        elif after == "{":
            end = _closing(text, dollar + 2)
            if end < 0:
                result.problems.append(
                    (path, f"`{text[dollar : dollar + 30]}` is missing its closing `}}`")
                )
                return text
            out.append(_braced(text[dollar + 2 : end], path, values, result))
            at = end + 1
        elif (named := NAME.match(text, dollar + 1)) is not None:
            out.append(_required(named.group(), f"${named.group()}", path, values, result))
            at = named.end()
        else:
            out.append("$")
            at = dollar + 1
    out.append(text[at:])
    return "".join(out)


def _closing(text: str, start: int) -> int:
    """Index of the `}` closing a `${` whose content starts at `start` (nesting counted)."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "{" and text[index - 1] == "$":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
    return -1


def _braced(inner: str, path: KeyPath, values: Values, result: Interpolation) -> str:
    written = f"${{{inner}}}"
    match = _BRACED.fullmatch(inner)
    if match is None:
        result.problems.append(
            (
                path,
                f"`{written[:40]}` is not a reference like ${{NAME}} or ${{NAME:-default}}",
            )
        )
        return written
    name, operator, argument = match.group(1), match.group(2), match.group(3) or ""
    if operator is None:
        return _required(name, written, path, values, result)
    found = _value(name, values, result)
    if found is _UNKNOWN_SECRET:
        return written
    empty_counts = operator.startswith(":")
    unset = found is None or (empty_counts and found == "")
    kind = operator[-1]
    if kind == "-":
        return compose_text(argument, path, values, result) if unset else str(found)
    if kind == "+":
        return "" if unset else compose_text(argument, path, values, result)
    if unset:  # "?"
        why = argument or ("is not set" if found is None else "is empty")
        result.problems.append(
            (path, f"`{name}` is required: {why}{_where_values_come_from(name)}")
        )
    return str(found or "")


def _required(name: str, written: str, path: KeyPath, values: Values, result: Interpolation) -> str:
    found = _value(name, values, result)
    if found is _UNKNOWN_SECRET:
        return f"${{{name}}}"
    if found is None:
        result.problems.append(
            (
                path,
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
