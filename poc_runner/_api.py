"""The public API's functions (docs/python-api.md; the contract is python-api.md): validate,
load, run, run_all, load_result. `poc_runner/__init__.py` exports them lazily.

A run is exactly what `poc run` does (the same sandbox, the same files written), without
printing: progress goes to `on_event`, and the run history is written only when asked. Every
failure of the input, the engine, the disk or the network leaves as a `PocError` (`public`);
any other exception is a bug. What these functions ask of the run machinery goes through
`_runs.py`, the one adapter onto it.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from poc_runner.errors import InvalidInput, world_failure

if TYPE_CHECKING:
    from poc_runner._runs import Request
    from poc_runner.events import OnEvent
    from poc_runner.model import Scenario
    from poc_runner.result import RunResult
    from poc_runner.validation import Validation

PathLike = str | os.PathLike[str]
P = ParamSpec("P")
T = TypeVar("T")


def public(function: Callable[P, T]) -> Callable[P, T]:
    """A public function: a failure of the world outside (the engine, the disk, permissions)
    leaves as the PocError that says so in the user's words, never as the library's own."""

    @functools.wraps(function)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            known = world_failure(exc)
            if known is None or known is exc:
                raise
            raise known from exc

    return guarded


def scenario_file(path: PathLike) -> Path:
    """The one scenario file `path` names: the file, or the one scenario.yaml (or .yml) in the
    folder; InvalidInput otherwise, saying what is there."""
    file, problem = _one_file(path)
    if file is None:
        raise InvalidInput(f"{os.fspath(path)}: {problem}")
    return file


def _one_file(path: PathLike) -> tuple[Path | None, str]:
    """The scenario file of `path`, or None and why there is not one."""
    from poc_runner.discovery import discover

    found = discover([os.fspath(path)])
    if found.problems:
        return None, "; ".join(message for _, message in found.problems)
    if len(found.files) != 1:
        names = ", ".join(str(file) for file in found.files[:5])
        more = ", ..." if len(found.files) > 5 else ""
        return None, (
            f"{len(found.files)} scenarios are under it ({names}{more}): name one scenario"
            " file or its folder (run_all runs several)"
        )
    return found.files[0], ""


@public
def validate(
    path: PathLike,
    variables: Mapping[str, str] | None = None,
    *,
    secrets: Mapping[str, str] | None = None,
) -> Validation:
    """Check a scenario file (or its folder) as `poc validate` does; nothing starts.
    `variables` are `--var`s; `secrets` the secret values (default: the environment's, as
    `poc run` reads them). Problems are in the result, never raised."""
    from poc_runner.validation import Validation, validate_file
    from poc_runner.validation.findings import Findings

    file, problem = _one_file(path)
    if file is None:
        findings = Findings(os.fspath(path))
        findings.file_error(problem, "file")
        return Validation(Path(path), None, findings)
    values = os.environ if secrets is None else secrets
    return validate_file(file, _names_to_text(variables), secrets=values)


@public
def load(path: PathLike, variables: Mapping[str, str] | None = None) -> Scenario:
    """The valid scenario of a file or its folder, secrets from the environment; else
    InvalidInput with every problem in `.diagnostics`."""
    from poc_runner import _runs

    return _runs.load(scenario_file(path), _names_to_text(variables))


@public
def run(
    path_or_scenario: PathLike | Scenario,
    *,
    variables: Mapping[str, str] | None = None,
    out: PathLike | None = None,
    history: bool = False,
    reuse: bool = False,
    keep: bool = False,
    pdf: bool = False,
    on_event: OnEvent | None = None,
) -> RunResult:
    """Run one scenario as `poc run` does, silently; its RunResult whatever the verdict.
    `out`: the root of run folders (None: a new temporary folder); `history`: record it in the
    user's run history; `reuse`/`keep`: as `--reuse`/`--keep`; `on_event`: progress."""
    from poc_runner import _runs
    from poc_runner.model import Scenario

    with _results_root(out) as root:
        if isinstance(path_or_scenario, Scenario):
            scenario = path_or_scenario
            if scenario.file is None:
                raise InvalidInput(
                    "this Scenario was not read from a file, so it has no folder to run in (its"
                    " data, builds and checks): read it with poc_runner.load(path)"
                )
            if variables is not None and dict(variables) != scenario.overrides:
                raise InvalidInput(
                    "variables go with a path: this Scenario was read with its own"
                    f" ({_shown(scenario.overrides)}); load it again with the variables wanted"
                )
            request = _request(root, scenario.overrides, history, reuse, keep, pdf, 1, on_event)
            (result,) = _runs.run_scenarios([(scenario.file, scenario)], request)
            return result
        file = scenario_file(path_or_scenario)
        request = _request(root, variables, history, reuse, keep, pdf, 1, on_event)
        (result,) = _runs.run_files([file], request)
        return result


@public
def run_all(
    paths: Iterable[PathLike],
    *,
    parallel: int = 1,
    shard: str | None = None,
    shard_durations: PathLike | None = None,
    variables: Mapping[str, str] | None = None,
    out: PathLike | None = None,
    history: bool = False,
    reuse: bool = False,
    keep: bool = False,
    pdf: bool = False,
    on_event: OnEvent | None = None,
) -> list[RunResult]:
    """Run every scenario the paths name (files, or folders searched as `poc run` does), up to
    `parallel` at once; with `shard="i/n"`, only that part of them (`--shard`), recorded in
    `out` for `poc report --merge`. One RunResult per scenario, in the order found."""
    from poc_runner import _runs
    from poc_runner.discovery import discover

    if isinstance(paths, str | os.PathLike):  # a lone path is a list of one
        given = [os.fspath(paths)]
    else:
        given = [os.fspath(path) for path in paths]
    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        raise InvalidInput(
            f"parallel is how many scenarios run at once: 1 or more, not {parallel!r}"
        )
    if shard_durations is not None and shard is None:
        raise InvalidInput("--shard-durations balances --shard I/N: give both")
    found = discover(given)
    if found.problems:
        raise InvalidInput("; ".join(f"{where}: {message}" for where, message in found.problems))
    if not found.files:
        raise InvalidInput("no scenario to run: give scenario files or folders that hold some")
    with _results_root(out) as root:
        files = found.files
        if shard is not None:
            durations = None if shard_durations is None else Path(shard_durations)
            files = _shard_of(files, shard, durations, root)
        request = _request(root, variables, history, reuse, keep, pdf, parallel, on_event)
        return _runs.run_files(files, request)


@public
def load_result(path: PathLike) -> RunResult:
    """A run folder (or its result.json) read back: the RunResult `run` returned."""
    from poc_runner.result import load_result as read

    return read(Path(path))


def _request(
    out: Path,
    variables: Mapping[str, str] | None,
    history: bool,
    reuse: bool,
    keep: bool,
    pdf: bool,
    parallel: int,
    on_event: OnEvent | None,
) -> Request:
    """The run asked for, checked before anything starts."""
    from poc_runner._runs import Request

    if keep and reuse:
        raise InvalidInput("--reuse leaves the sandbox up already; give --keep or --reuse")
    if pdf:
        from poc_runner.report.pdf import chromium

        chromium()  # no PDF printer: said before any sandbox starts
    if on_event is not None and not callable(on_event):
        raise InvalidInput(f"on_event is called with each Event; {on_event!r} is not callable")
    values = _names_to_text(variables)
    return Request(out, values, keep, reuse, pdf, history, parallel, on_event)


def _shard_of(files: list[Path], shard: str, durations: Path | None, out: Path) -> list[Path]:
    """This part's files; `out` records the suite they were cut from, before any run."""
    from poc_runner import _runs
    from poc_runner.shards import Shard, pick

    mine, record = pick(files, Shard.parse(shard), durations)
    _runs.writable(out)
    record.write(out)
    return mine


@contextmanager
def _results_root(out: PathLike | None) -> Iterator[Path]:
    """The root of run folders: the one given, or a new temporary folder, removed again when
    it is left empty (a run refused before it started)."""
    root = Path(tempfile.mkdtemp(prefix="poc-runs-")) if out is None else Path(out)
    try:
        yield root
    finally:
        if out is None and root.is_dir() and not any(root.iterdir()):
            root.rmdir()


def _names_to_text(variables: Mapping[str, str] | None) -> dict[str, str]:
    """`--var`s: names as `${NAME}` writes them, values as text."""
    from poc_runner.interpolation import NAME

    values: dict[str, str] = {}
    for name, value in (variables or {}).items():
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise InvalidInput(f"variable {name!r} is not a NAME (letters, digits and _)")
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise InvalidInput(f"variable {name} is {value!r}; give its value as text")
        values[name] = str(value)
    return values


def _shown(values: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in values.items()) or "none"
