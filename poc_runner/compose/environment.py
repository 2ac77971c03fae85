"""A service's environment as Compose builds it: its `env_file`s first, `environment` over them,
and entries written without a value (`- NAME`, `NAME:`) taken from the scenario's values.

Compose takes a value-less entry from the shell; a sandbox never reads the host's environment,
so it comes from `--var`, the scenario's `vars` or the env file (a listed secret from the
host at run time), and is left unset, with a warning, when none has it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from poc_runner.compose.dotenv import EnvFile, parse_env, parse_raw_env
from poc_runner.compose.origins import Source
from poc_runner.diagnostics import KeyPath
from poc_runner.interpolation import Budget, Values
from poc_runner.loader import LoadError, Mark, SourceMap, read_text
from poc_runner.validation.findings import Findings


@dataclass
class EnvFiles:
    """Reads env files relative to the scenario folder, their filling bounded by one budget."""

    root: Path
    folder_shown: Path  # the scenario folder as diagnostics name it
    findings: Findings
    values: Values
    budget: Budget

    def read(
        self,
        relative: str,
        at: KeyPath,
        *,
        required: bool = True,
        given: Mapping[str, str] | None = None,
        known: Mapping[str, str] | None = None,
        raw: bool = False,
    ) -> tuple[EnvFile, Source] | None:
        """An env file as read, and where each name was written; None (reported, unless not
        `required`) when it cannot be read. References in it see `given` (by default the
        scenario's values) first, then `known`, then the file's own earlier names."""
        target = (self.root / relative).resolve()
        shown = str(self.folder_shown / relative)
        if not (target == self.root or self.root in target.parents):
            self.findings.error(
                at, f"{relative!r} leads outside the scenario folder", "path-escape"
            )
            return None
        try:
            text = read_text(target)
        except LoadError as exc:
            if required or target.is_dir():  # a folder is an error even where a file may lack
                self.findings.error(at, f"env file {relative!r}: {exc.message}", "missing-file")
            return None
        lookup = self.values.variables if given is None else given
        if raw:
            parsed = parse_raw_env(text, lookup)
        else:
            parsed = parse_env(text, lookup, known, self.budget, self.values.secrets)
        lines = SourceMap()
        for name, number in parsed.lines.items():
            lines.values[(name,)] = Mark(number, 1)
        source = Source(shown, lines)
        for number, message in parsed.problems:
            self.findings.add(Mark(number, 1), (), message, "env-file", file=shown)
        return parsed, source


class EnvFileEntry(NamedTuple):
    """One `env_file` entry: its place in the list (None: written as a text), its path, whether
    it must exist, and whether it is `format: raw` (values as written)."""

    at: int | None
    path: str
    required: bool = True
    raw: bool = False


def env_file_entries(value: Any) -> list[EnvFileEntry]:
    if isinstance(value, str):
        return [EnvFileEntry(None, value)]
    entries: list[EnvFileEntry] = []
    for index, item in enumerate(value if isinstance(value, list) else []):
        if isinstance(item, str):
            entries.append(EnvFileEntry(index, item))
        elif isinstance(item, dict) and isinstance(item.get("path"), str):
            required = item.get("required", True) is not False
            entries.append(EnvFileEntry(index, item["path"], required, item.get("format") == "raw"))
    return entries


def valueless(environment: Any) -> list[tuple[KeyPath, str]]:
    """(path below `environment`, name) of each entry written without a value."""
    if isinstance(environment, dict):
        return [((name,), name) for name, value in environment.items() if value is None]
    if isinstance(environment, list):
        return [
            ((index,), item)
            for index, item in enumerate(environment)
            if isinstance(item, str) and "=" not in item
        ]
    return []


def fill(environment: Any, below: KeyPath, name: str, value: str) -> None:
    """Give a value-less entry its value."""
    if isinstance(environment, dict):
        environment[name] = value
    else:
        environment[int(below[0])] = f"{name}={value}"
