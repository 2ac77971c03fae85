"""`${name}` references in string values, filled from `vars`, `--var` and `secrets`.

One pass over the raw document, before the models see it, so a reference can stand in any
string field (a timeout, a threshold, a command). `$${` writes a literal `${`. A secret whose
value is not known yet (`poc validate` runs without the host's secrets) keeps its `${NAME}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from poc_runner.diagnostics import KeyPath

_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)(\}?)")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
UNINTERPOLATED_SECTIONS = frozenset({"vars", "secrets"})


@dataclass
class Interpolation:
    data: Any
    problems: list[tuple[KeyPath, str]] = field(default_factory=list)
    used: set[str] = field(default_factory=set)


def interpolate(
    data: Any, variables: Mapping[str, str], secrets: Mapping[str, str | None]
) -> Interpolation:
    """A copy of `data` with every reference replaced; undefined names become problems."""
    result = Interpolation(data)
    if not isinstance(data, dict):
        return result
    result.data = {
        key: value
        if key in UNINTERPOLATED_SECTIONS
        else _walk(value, (key,), variables, secrets, result)
        for key, value in data.items()
    }
    return result


def _walk(
    value: Any,
    path: KeyPath,
    variables: Mapping[str, str],
    secrets: Mapping[str, str | None],
    result: Interpolation,
) -> Any:
    if isinstance(value, str):
        return _substitute(value, path, variables, secrets, result) if "${" in value else value
    if isinstance(value, dict):
        return {k: _walk(v, (*path, k), variables, secrets, result) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, (*path, i), variables, secrets, result) for i, v in enumerate(value)]
    return value


def _substitute(
    text: str,
    path: KeyPath,
    variables: Mapping[str, str],
    secrets: Mapping[str, str | None],
    result: Interpolation,
) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, closed = match.group(1), match.group(2)
        if not closed:
            result.problems.append((path, f"`${{{name[:30]}` is missing its closing `}}`"))
        elif not NAME.fullmatch(name):
            result.problems.append(
                (path, f"`${{{name[:30]}}}` is not a variable name (letters, digits and _)")
            )
        elif name in variables:
            result.used.add(name)
            return variables[name]
        elif name in secrets:
            result.used.add(name)
            secret = secrets[name]
            return match.group(0) if secret is None else secret
        else:
            result.problems.append(
                (
                    path,
                    f"`${{{name}}}` is not defined: add it under `vars`, pass `--var {name}=...`,"
                    f" list it under `secrets`, or write `$${{{name}}}` for a literal `${{`",
                )
            )
        return match.group(0)

    return _REFERENCE.sub(replace, text)


def scalar_text(value: Any) -> str | None:
    """A `vars` value as the text it stands for (`true`, `0.95`), or None if it is not a scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None
