"""What a run was given, on record (spec, "Run results": `inputs`), so two runs can be told
apart ("safety_days 7 against 14", "a new scoring script") and one repeated on the same files.

`vars`: every variable's value as the run used it: the scenario's `vars`, `--var` over them,
and each secret as `***` (its name is on record, never its value).

`files`: the sha256 of each file that decides the run, by its path in the scenario folder:
- the scenario file itself, and its Compose files (`compose_files`; not their env file, which
  may hold passwords);
- its check scripts: the files of the scenario folder that a step's or a `command` check's
  `run` names by their path in the containers, through a `data` mount. With
  `data: [{path: scoring, mount: /poc/scoring}]`, a step running
  `python3 /poc/scoring/score.py` makes `scoring/score.py` one. (A data item named whole is
  data: its sha256 is in `environment.data`. A program built into an image is covered by the
  image's id in `environment.images`. A file a Compose file bind-mounts is not listed yet.)
- the files checks compare against: each csv check's `expected`.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from poc_runner.masking import MASK
from poc_runner.model import Scenario
from poc_runner.model.checks import CommandCheck, CsvCheck
from poc_runner.model.compose import ComposeFiles

# An absolute path in a command: not inside a URL (`http://api/x`) or a longer word.
_CONTAINER_PATH = re.compile(r"(?<![\w.:/-])/[^\s'\"`;|&<>()$,]+")


def variables_used(scenario: Scenario, overrides: Mapping[str, str]) -> dict[str, str]:
    """Every variable's value as used, `--var` overrides included, secrets as ***."""
    values = {**scenario.vars, **overrides}
    return values | {name: MASK for name in scenario.secrets if name not in values}


def compose_files(scenario: Scenario, folder: Path) -> list[Path]:
    """The Compose files the scenario takes services from, in the order they merge."""
    if scenario.compose is None:
        return []
    return [folder / name for name in ComposeFiles.of(scenario.compose).files]


def decisive_files(scenario: Scenario, folder: Path) -> list[Path]:
    """The check scripts and expected files of the scenario in `folder` (module doc)."""
    checks = [criterion.check for criterion in scenario.acceptance.criteria]
    found = [folder / check.expected for check in checks if isinstance(check, CsvCheck)]
    for text in _commands(scenario):
        found += _through_data(scenario, folder, _CONTAINER_PATH.findall(text))
    inside = folder.resolve()
    return [path for path in dict.fromkeys(found) if _within(path, inside) and path.is_file()]


def digests(folder: Path, files: Iterable[Path]) -> dict[str, str]:
    """sha256 per file, keyed by its path relative to `folder` (posix), in the order given.
    A file that cannot be read any more is left out rather than failing the run's record."""
    found: dict[str, str] = {}
    for path in files:
        try:
            with path.open("rb") as stream:
                digest = hashlib.file_digest(stream, "sha256").hexdigest()
        except OSError:
            continue
        found.setdefault(path.relative_to(folder).as_posix(), digest)
    return found


def _commands(scenario: Scenario) -> Iterator[str]:
    """Each step's and command check's `run`, as one text."""
    runs = [step.run for step in scenario.steps]
    runs += [c.check.run for c in scenario.acceptance.criteria if isinstance(c.check, CommandCheck)]
    for run in runs:
        yield run if isinstance(run, str) else "\n".join(run)


def _through_data(scenario: Scenario, folder: Path, paths: list[str]) -> list[Path]:
    """The scenario-folder files that container paths reach inside a data folder's mount."""
    found = []
    for path in map(posixpath.normpath, paths):
        for item in scenario.data:
            mount = posixpath.normpath(item.mount)
            if path.startswith(mount + "/"):
                found.append(folder / item.path / path[len(mount) + 1 :])
    return found


def _within(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder)
    except OSError:
        return False
