"""Validate scenario files: every problem in every file, each at its line, before anything starts.

The stages run in pipeline order: read and parse (safely), fill `${var}` references, unknown
keys, structure (the models), then the rules that need the whole scenario (references,
dependencies, files, acceptance). Every command that takes a scenario goes through here.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poc_runner.compose import project as compose_project  # the stage imports these rules too
from poc_runner.diagnostics import Diagnostic, count_errors, in_order, render, tally
from poc_runner.discovery import discover
from poc_runner.interpolation import Interpolation, Values, interpolate, scalar_text
from poc_runner.loader import START, LoadError, Mark, parse, read_text
from poc_runner.masking import SECRETS
from poc_runner.model import Scenario
from poc_runner.validation.acceptance import check_acceptance
from poc_runner.validation.builds import check_builds
from poc_runner.validation.compose import check_compose
from poc_runner.validation.dependencies import check_dependencies
from poc_runner.validation.files import check_files
from poc_runner.validation.findings import Findings, did_you_mean
from poc_runner.validation.keys import check_keys
from poc_runner.validation.references import check_references
from poc_runner.validation.salvage import SetAside, salvage
from poc_runner.validation.structure import check_structure

if TYPE_CHECKING:
    from poc_runner.compose.project import Composition


@dataclass
class Validation:
    """One file's outcome: the scenario when it is valid, and everything found either way
    (`poc_runner.validate` returns it: docs/python-api.md)."""

    path: Path
    scenario: Scenario | None
    findings: Findings

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return in_order(self.findings.diagnostics, self.findings.file)

    @property
    def ok(self) -> bool:
        """No error (warnings allowed)."""
        return self.scenario is not None and count_errors(self.diagnostics) == 0

    def __str__(self) -> str:
        """What `poc validate` prints for this file: each problem, then the tally."""
        found = self.diagnostics
        lines = [render(found, "text")] if found else []
        return "\n".join([*lines, tally(1, int(self.ok), found)])


def validate_file(
    path: Path,
    variables: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> Validation:
    """Validate one scenario file; `variables` are `--var` overrides. `secrets` is where a run
    reads secret values from (the host environment); without it they stay `${NAME}`. A valid
    scenario knows the file and the overrides it was read with (`Scenario.source`)."""
    findings = Findings(str(path))
    overrides = dict(variables or {})
    scenario = _validate_into(findings, path, overrides, secrets)
    if scenario is not None:
        scenario.read_from(path, overrides)
    return Validation(path, scenario, findings)


@dataclass(frozen=True)
class Checked:
    """What `poc validate` reports of one file: its diagnostics and whether it is valid, and
    its scenario's name and where it is written (to tell two files of one name apart)."""

    path: Path
    diagnostics: list[Diagnostic]
    ok: bool
    name: str | None = None
    name_at: Mark = START


def validate_paths(
    arguments: Sequence[str], variables: Mapping[str, str] | None = None
) -> list[Checked]:
    """Validate every scenario the arguments name; a path that names none is itself a finding.
    Many files are validated on every core at once (the work is Python's, one core each)."""
    found = discover(list(arguments))
    results: list[Checked] = []
    for argument, message in found.problems:
        findings = Findings(argument)
        findings.file_error(message, "file")
        results.append(Checked(Path(argument), findings.diagnostics, ok=False))
    owners: dict[str, Path] = {}
    for checked in _check_all(found.files, dict(variables or {})):
        if checked.name is not None:
            first = owners.setdefault(checked.name, checked.path)
            if first != checked.path:
                checked = _named_twice(checked, first)
        results.append(checked)
    return results


_PARALLEL_FROM = 16  # files: below this, starting workers costs more than it saves


def _check_all(files: list[Path], variables: dict[str, str]) -> Iterator[Checked]:
    workers = min(os.cpu_count() or 1, 8)
    if len(files) < _PARALLEL_FROM or workers < 2 or sys.platform != "linux":
        yield from (_check(path, variables) for path in files)
        return
    # fork: the workers start with every module already imported (spawn would import again)
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        chunk = max(len(files) // (workers * 4), 1)
        yield from pool.imap(partial(_check, variables=variables), files, chunksize=chunk)


def _check(path: Path, variables: dict[str, str]) -> Checked:
    result = validate_file(path, variables)
    scenario = result.scenario
    if scenario is None:
        return Checked(path, result.diagnostics, result.ok)
    name_at = result.findings.source_map.value_at(("name",))
    return Checked(path, result.diagnostics, result.ok, scenario.name, name_at)


def _named_twice(checked: Checked, first: Path) -> Checked:
    findings = Findings(str(checked.path))
    findings.add(
        checked.name_at,
        ("name",),
        f"scenario name {checked.name!r} is also used by {first}; each scenario needs its own"
        " name so their runs and history stay apart",
        "duplicate-name",
    )
    diagnostics = in_order([*checked.diagnostics, *findings.diagnostics], str(checked.path))
    return Checked(checked.path, diagnostics, False, checked.name, checked.name_at)


def _validate_into(
    findings: Findings,
    path: Path,
    overrides: Mapping[str, str],
    secrets: Mapping[str, str] | None,
) -> Scenario | None:
    try:
        return _run_stages(findings, path, overrides, secrets)
    except LoadError as exc:
        findings.file_error(exc.message, exc.rule, exc.mark)
    except RecursionError:  # every reader bounds nesting; this stays a clear refusal regardless
        findings.file_error(
            "the file (or a file it names) nests too deeply to be read; flatten it", "size"
        )
    except MemoryError:  # every reader bounds what it builds; likewise
        findings.file_error(
            "reading the file (or a file it names) would take more memory than is available;"
            " it is refused",
            "size",
        )
    except Exception as exc:  # a bug must not hide the other files' results behind a traceback
        findings.file_error(
            f"poc-runner could not finish checking this file (a bug, please report it):"
            f" {type(exc).__name__}: {exc}",
            "internal",
        )
    return None


def _run_stages(
    findings: Findings,
    path: Path,
    overrides: Mapping[str, str],
    secrets: Mapping[str, str] | None,
) -> Scenario | None:
    document = parse(read_text(path))
    findings.source_map = document.source_map
    for problem in document.problems:
        findings.add(problem.mark, problem.path, problem.message, problem.rule)
    data = document.data
    if not isinstance(data, dict):
        findings.error(
            (),
            "a scenario file is a mapping of keys, starting with `apiVersion: poc-runner/v1`",
            "schema",
        )
        return None

    declared = _declared_vars(data)
    variables = {**declared, **overrides}
    known_secrets = _secrets(data, secrets, findings)
    composition = compose_project.compose_services(
        data, path, findings, variables, known_secrets, document.references
    )
    rest = [where for where in document.references if where[:1] != ("services",)]
    budget = composition.interpolation.budget  # one bound on what filling adds, file-wide
    filled = interpolate(
        data, rest, Values(variables, known_secrets), result=Interpolation(budget=budget)
    )
    for where, message in filled.problems:
        findings.error(where, message, "undefined-var")
        findings.explain(where)
    filled.absorb(composition.interpolation)

    explained = {where for where, _ in filled.problems}
    keys = check_keys(data, findings)
    scenario, broken = check_structure(data, findings, keys)
    if scenario is not None:
        _check_whole(scenario, path, findings, SetAside(), composition)
    else:
        rescued = salvage(data, broken | keys.unknown | explained)
        if rescued.scenario is not None:
            findings.remap = rescued.original_path
            _check_whole(rescued.scenario, path, findings, rescued.set_aside, composition)
            findings.remap = None
    for name in declared.keys() - filled.used - overrides.keys():
        findings.warning(("vars", name), f"var {name!r} is never used", "unused-var", at_key=True)
    for name in overrides.keys() - filled.referenced:
        findings.file_error(
            f"--var {name} is not used by this scenario or its Compose files"
            f"{did_you_mean(name, filled.referenced)}",
            "unused-var",
        )
    return scenario


def _check_whole(
    scenario: Scenario,
    path: Path,
    findings: Findings,
    set_aside: SetAside,
    composition: Composition,
) -> None:
    """The rules that need the whole scenario (or what is left of it after a salvage)."""
    check_references(scenario, findings, set_aside, composition.left_out)
    check_dependencies(scenario, findings, set_aside, composition.left_out)
    check_files(scenario, path.parent, findings)
    check_builds(scenario, path.parent, findings)
    check_compose(scenario, findings)
    if set_aside.acceptance_is_whole:
        check_acceptance(scenario, findings)


def _secrets(
    data: dict[str, Any], source: Mapping[str, str] | None, findings: Findings
) -> dict[str, str | None]:
    """Secret names and, for a run, their values; `poc validate` never sees the values."""
    names = data.get("secrets")
    if not isinstance(names, list):
        return {}
    values: dict[str, str | None] = {}
    for index, name in enumerate(names):
        if not isinstance(name, str):
            continue
        values[name] = value = None if source is None else source.get(name)
        if value is not None:
            SECRETS.add(value)  # masked everywhere from the moment the process knows it
        elif source is not None:
            findings.error(
                ("secrets", index),
                f"secret {name!r} is not set: export {name} in the environment before the run",
                "missing-secret",
            )
    return values


def _declared_vars(data: dict[str, Any]) -> dict[str, str]:
    declared = data.get("vars")
    if not isinstance(declared, dict):
        return {}
    return {
        name: text for name, value in declared.items() if (text := scalar_text(value)) is not None
    }
