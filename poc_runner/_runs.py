"""The Python API's one door into the run machinery: an adapter, and nothing else.

Every call the public API (`_api.py`, `_sandbox.py`) makes into the code that runs scenarios is
here, so that when the run moves behind the engine seam (Engine/Sandbox, pipeline.py) this
module alone is rewired. It calls, and nothing more:

- `sandbox.headstart.head_starts`: the engine makes the first runs' networks while the files
  are validated, as `poc run` does;
- `run.Runner(RunOptions(...), progress, head_starts)`: `.run_all(files)` and
  `.run_loaded([(file, scenario)])`, then `.endpoints` (sandboxes left up); `run.load`,
  `run.writable`;
- `live.up` (`poc up`) and `live.down` (`poc down`);
- `sandbox.lifecycle.Sandbox.reused` (the sandbox left up), and on a live sandbox `.exec`,
  `.endpoints`, `.down`; `engine.connect`; `progress.services_of`.

Nothing here prints. Progress goes to the caller's `on_event` as `Event`s, or nowhere; Ctrl-C
and SIGTERM tear down what is up and end as `Interrupted`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from poc_runner.errors import Interrupted
from poc_runner.events import Event, OnEvent, ignore
from poc_runner.interrupts import signals_ignored, sigterm_as_interrupt
from poc_runner.progress import Progress

if TYPE_CHECKING:
    from poc_runner.model import Scenario
    from poc_runner.result import RunResult
    from poc_runner.run import RunOptions
    from poc_runner.sandbox.execute import Outcome
    from poc_runner.sandbox.lifecycle import Sandbox


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

    def options(self) -> RunOptions:
        from poc_runner.run import RunOptions

        return RunOptions(
            self.out,
            dict(self.variables),
            keep=self.keep,
            parallel=self.parallel,
            reuse=self.reuse,
            pdf=self.pdf,
            history=self.history,
        )


def run_files(files: list[Path], request: Request) -> list[RunResult]:
    """Validate and run scenario files as `poc run` does: the engine makes the first runs'
    networks while the files are validated (none for a reused sandbox: it has its own)."""
    from poc_runner.sandbox import headstart

    fresh = [] if request.reuse else files[: request.parallel]
    with interrupted_as_error(), headstart.head_starts(fresh, keep=request.keep) as heads:
        from poc_runner.run import Runner  # loads the models while the engine works

        runner = Runner(request.options(), display(request.on_event), heads)
        return _located(runner.run_all(files), files, runner.endpoints)


def run_scenarios(scenarios: list[tuple[Path, Scenario]], request: Request) -> list[RunResult]:
    """Run scenarios validated already (each with its file)."""
    from poc_runner.run import Runner

    with interrupted_as_error():
        runner = Runner(request.options(), display(request.on_event))
        files = [file for file, _ in scenarios]
        return _located(runner.run_loaded(scenarios), files, runner.endpoints)


def _located(
    results: list[RunResult], files: list[Path], endpoints: dict[str, dict[str, list[str]]]
) -> list[RunResult]:
    """Each result knowing its scenario file and, when its sandbox is still up, where its
    services answer (its folder it knows from being written)."""
    return [
        result.at(result.folder, endpoints.get(result.run_id, {}), file)
        for result, file in zip(results, files, strict=True)
    ]


def load(path: Path, variables: Mapping[str, str]) -> Scenario:
    """The scenario, valid, its secrets filled from the environment; else InvalidInput."""
    from poc_runner.run import load as load_valid

    return load_valid(path, variables)


def writable(out: Path) -> None:
    from poc_runner.run import writable as check

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
        started = live.up(path, variables, display(on_event))
    return Live(path, started.scenario, started.run_id, started.sandbox, True, started.endpoints)


def attach(path: Path, scenario: Scenario, on_event: OnEvent | None) -> Live:
    """The sandbox `poc up` (or `run(keep=True)`) left up for this scenario, checked to be
    still the scenario's."""
    from poc_runner.engine import connect
    from poc_runner.progress import services_of
    from poc_runner.sandbox.lifecycle import Sandbox

    report = services_of(display(on_event), scenario.name)
    sandbox = Sandbox.reused(connect(), scenario, path, report)
    found = {name: sandbox.endpoints(name) for name in scenario.services}
    return Live(path, scenario, sandbox.run_id, sandbox, False, found)


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

    def update(self, scope: str, subject: str, status: str, *, active: bool = False) -> None:
        listener = self.listener
        if listener is None:
            return
        try:
            listener(Event(scope, subject, status, active))
        except Exception as exc:
            self.listener = None
            warnings.warn(
                f"on_event raised {type(exc).__name__}: {exc}; it is sent no more events",
                RuntimeWarning,
                stacklevel=2,
            )


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
