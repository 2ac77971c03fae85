"""The Python API's one door into the run machinery: an adapter, and nothing else.

Every call the public API (`_api.py`, `_sandbox.py`) makes into the code that runs scenarios is
here. It calls the pipeline's front door, and nothing more:

- `pipeline.run_all(files, Options(...), on_event=...)`: validated, run (the engine gets a head
  start on the first runs while the files are validated), one `Finished` per file;
  `pipeline.run_loaded` for scenarios validated already; `pipeline.load`, `pipeline.writable`;
- `live.start` (`poc up`, the sandbox itself kept for commands), `live.attach` (the sandbox
  left up, checked against the scenario), `live.describe` (where its ports answer), and
  `live.down` (`poc down`); on a live sandbox (backend.Sandbox) `.exec` and `.down`.

Nothing here prints: what could not be written beside a run's own files (report.pdf, the
history) is a Python warning (`NotWritten`; `poc run` shows it as `warning: ...`, pytest in
its warnings summary). Progress goes to the caller's `on_event` as `Event`s, or nowhere;
Ctrl-C and SIGTERM tear down what is up and end as `Interrupted`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from poc_runner.errors import Interrupted
from poc_runner.events import Event, OnEvent, ignore
from poc_runner.interrupts import signals_ignored, sigterm_as_interrupt
from poc_runner.masking import SECRETS
from poc_runner.progress import Progress

if TYPE_CHECKING:
    from poc_runner.backend import Endpoint, Outcome, Sandbox
    from poc_runner.model import Scenario
    from poc_runner.pipeline import Finished, Options
    from poc_runner.result import RunResult


class NotWritten(UserWarning):
    """Something beside a finished run's own files could not be written (report.pdf, the
    history): the run and its result stand."""


@dataclass(frozen=True)
class Request:
    """What a run is asked to do: `poc run`'s options, and who listens."""

    out: Path
    variables: Mapping[str, str] = field(default_factory=dict)
    keep: bool = False
    reuse: bool = False
    pdf: bool = False
    history: bool = False
    parallel: int = 1
    on_event: OnEvent | None = None

    def options(self) -> Options:
        from poc_runner.pipeline import Options

        return Options(
            self.out,
            dict(self.variables),
            keep=self.keep,
            reuse=self.reuse,
            parallel=self.parallel,
            pdf=self.pdf,
            history=self.history,
        )


def run_files(files: list[Path], request: Request) -> list[RunResult]:
    """Validate and run scenario files as `poc run` does."""
    from poc_runner.pipeline import run_all

    with interrupted_as_error():
        finished = run_all(files, request.options(), on_event=display(request.on_event))
    return _located(finished, files)


def run_scenarios(scenarios: list[tuple[Path, Scenario]], request: Request) -> list[RunResult]:
    """Run scenarios validated already (each with its file)."""
    from poc_runner.pipeline import run_loaded

    with interrupted_as_error():
        finished = run_loaded(scenarios, request.options(), on_event=display(request.on_event))
    return _located(finished, [file for file, _ in scenarios])


def _located(finished: list[Finished], files: list[Path]) -> list[RunResult]:
    """Each result knowing its run folder, its scenario file and, when its sandbox is still
    up, where its services answer; what could not be written beside it, a warning."""
    results = []
    for run, file in zip(finished, files, strict=True):
        for warning in run.warnings:
            warnings.warn(SECRETS.mask(warning), NotWritten, stacklevel=4)
        endpoints = _shown(run.left_up) if run.left_up is not None else {}
        results.append(run.result.at(run.folder, endpoints, file))
    return results


def _shown(endpoints: Mapping[str, Sequence[Endpoint]]) -> dict[str, list[str]]:
    """service -> `127.0.0.1:49153 -> 8080/tcp`, as `poc up` says it."""
    return {service: [str(endpoint) for endpoint in found] for service, found in endpoints.items()}


def load(path: Path, variables: Mapping[str, str]) -> Scenario:
    """The scenario, valid, its secrets filled from the environment; else InvalidInput."""
    from poc_runner.pipeline import load as load_valid

    return load_valid(path, variables)


def writable(out: Path) -> None:
    from poc_runner.pipeline import writable as check

    check(out)


@dataclass
class Live:
    """A sandbox up for a caller: the scenario's services, and whether this process started
    it (`up`) or found it left up (`attach`)."""

    path: Path
    scenario: Scenario
    run_id: str
    sandbox: Sandbox
    started_here: bool
    endpoints: dict[str, list[str]]  # service -> `127.0.0.1:49153 -> 8080/tcp`


def up(path: Path, variables: Mapping[str, str], on_event: OnEvent | None) -> Live:
    """`poc up`: the services up, kept, their ports published on 127.0.0.1; no steps."""
    from poc_runner import live

    with interrupted_as_error(), sigterm_as_interrupt():
        sandbox = live.start(path, variables, on_event=display(on_event))
    return _live(path, sandbox, started_here=True)


def attach(path: Path, scenario: Scenario, on_event: OnEvent | None) -> Live:
    """The sandbox `poc up` (or `run(keep=True)`) left up for this scenario, checked to be
    still the scenario's."""
    from poc_runner import live

    sandbox = live.attach(scenario, path, on_event=display(on_event))
    return _live(path, sandbox, started_here=False)


def _live(path: Path, sandbox: Sandbox, *, started_here: bool) -> Live:
    from poc_runner.live import describe

    found = describe(sandbox)
    endpoints = {service: found.endpoints.get(service, ()) for service in found.services}
    return Live(path, sandbox.scenario, sandbox.run_id, sandbox, started_here, _shown(endpoints))


def execute(live: Live, service: str, argv: list[str], timeout: float) -> Outcome:
    return live.sandbox.exec(service, argv, timeout)


def down(live: Live) -> list[str]:
    """Remove the sandbox; what could not be removed. One started here goes object by object
    (it knows them); one found left up goes as `poc down` removes it."""
    with signals_ignored():  # a second Ctrl-C must not leave it half removed
        if live.started_here:
            return live.sandbox.down()
        from poc_runner.live import down as sweep_kept

        return sweep_kept(live.path).problems


@contextmanager
def interrupted_as_error() -> Iterator[None]:
    """Ctrl-C, once what was up is torn down, as the API's Interrupted."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted("interrupted: every sandbox was removed") from None


def display(on_event: OnEvent | None) -> Progress:
    """What the run machinery reports progress to: the caller's listener, or no one."""
    if isinstance(on_event, Progress):
        return on_event  # `poc`'s own display
    return _Relay(on_event or ignore)


class _Relay(Progress):
    """Progress as `Event`s to a caller's listener. A listener that raises is not called
    again (with a warning): a display must never fail the run it watches."""

    def __init__(self, listener: OnEvent) -> None:
        super().__init__()
        self.listener: OnEvent | None = listener

    def __call__(self, event: Event) -> None:
        listener = self.listener
        if listener is None:
            return
        try:
            listener(event)
        except Exception as exc:
            self.listener = None
            warnings.warn(
                f"on_event raised {type(exc).__name__}: {exc}; it is sent no more events",
                RuntimeWarning,
                stacklevel=2,
            )

    def update(self, scope: str, subject: str, status: str, *, active: bool = False) -> None:
        self(Event(scope, subject, status, active))


__all__ = [
    "Live",
    "Request",
    "attach",
    "display",
    "down",
    "execute",
    "interrupted_as_error",
    "load",
    "run_files",
    "run_scenarios",
    "up",
    "writable",
]
