"""A run, start to finish: validate, provision the sandbox, run the steps, judge, tear down.

Runs execute in worker threads, so the main thread stays free to catch Ctrl-C and SIGTERM and
tear every live sandbox down at once; each worker then finishes its result (verdict `error`,
"interrupted") and the command exits 130. Teardown happens on every path: success, failure,
exception, interruption. Only SIGKILL skips it, and the owner label on every object then lets
the next `poc run` or `poc clean` prove the run dead and sweep what it left.

Start-up is on the clock (a demo is watched): the engine makes each run's network and holders
while the files are validated (sandbox/headstart.py); reading the engine's version and sweeping dead
runs' leftovers happen aside, while the sandbox comes up; the checks, reports and history are
imported while the sandbox is removed, when this process would only wait (importing them
aside earlier took the CPU from the start-up itself).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poc_runner import __version__
from poc_runner.diagnostics import render
from poc_runner.engine import EngineInfo, answers, connect
from poc_runner.errors import (
    CannotWrite,
    EngineLost,
    ExitCode,
    Interrupted,
    InvalidInput,
    SandboxError,
    ToolUnavailable,
    reason,
    world_failure,
)
from poc_runner.inputs import compose_files, decisive_files, digests, variables_used
from poc_runner.interrupts import signals_ignored, sigterm_as_interrupt, wait_all
from poc_runner.masking import SECRETS
from poc_runner.model import Scenario
from poc_runner.model.checks import needs_sandbox
from poc_runner.progress import Progress, services_of
from poc_runner.result import (
    CriterionResult,
    Job,
    RunInputs,
    RunResult,
    Stakeholder,
    StepRecord,
    Verdict,
)
from poc_runner.sandbox.headstart import Draft, HeadStart
from poc_runner.sandbox.labels import new_run_id
from poc_runner.sandbox.lifecycle import Sandbox
from poc_runner.sandbox.reaper import sweep
from poc_runner.sandbox.reuse import refuse_if_up
from poc_runner.sandbox.uplock import bringing_up
from poc_runner.scoring import score, settled, verdict
from poc_runner.steps import Announce, StepResult, run_steps
from poc_runner.timeline import build_timeline
from poc_runner.validation import validate_file

if TYPE_CHECKING:
    import docker


@dataclass
class RunOptions:
    out: Path = Path("runs")
    variables: Mapping[str, str] = field(default_factory=dict)
    keep: bool = False
    parallel: int = 1
    reuse: bool = False  # run on the sandbox `poc up` or `--keep` left up, and leave it up
    pdf: bool = False  # also report.pdf (needs Chromium: checked before any run starts)
    history: bool = True  # record in the run history (`poc run` does; the Python API if asked)


def load(path: Path, variables: Mapping[str, str], *, secrets: bool = True) -> Scenario:
    """The scenario, valid and (with `secrets`) its secrets filled from the environment, or
    InvalidInput listing every problem."""
    validated = validate_file(path, variables, secrets=os.environ if secrets else None)
    if validated.scenario is None or not validated.ok:
        problems = [d for d in validated.diagnostics if d.severity == "error"]
        raise InvalidInput(
            f"{path} is not a valid scenario, so no service was started:\n"
            f"{render(problems, 'text')}",
            problems,
        )
    return validated.scenario


def host_platform() -> str:
    """What `platform.platform()` says (Linux-6.1.0-18-amd64-x86_64-with-glibc2.36), without
    its cost: it reads the whole Python executable to find the C library's version (17 ms)."""
    system = os.uname()
    libc = os.confstr("CS_GNU_LIBC_VERSION") if "CS_GNU_LIBC_VERSION" in os.confstr_names else None
    suffix = f"-with-{libc.replace(' ', '')}" if libc else ""
    return f"{system.sysname}-{system.release}-{system.machine}{suffix}"


class Runner:
    """Runs scenarios (several at once with `parallel`), and tears down on interruption."""

    def __init__(
        self,
        options: RunOptions,
        progress: Progress,
        head_starts: dict[Path, HeadStart] | None = None,
    ) -> None:
        self.options = options
        self.progress = progress
        self.head_starts = head_starts if head_starts is not None else {}  # a run takes its own
        self.interrupted = threading.Event()
        self._live: set[Sandbox] = set()
        self._lock = threading.Lock()
        self._client: docker.DockerClient | None = None
        self._engine: Future[EngineInfo] | None = None
        self._reused: dict[Path, Sandbox] = {}
        self.endpoints: dict[str, dict[str, list[str]]] = {}  # run id -> service -> where

    def run_all(self, paths: list[Path]) -> list[RunResult]:
        return self.run_loaded([(path, load(path, self.options.variables)) for path in paths])

    def run_loaded(self, scenarios: list[tuple[Path, Scenario]]) -> list[RunResult]:
        """Run scenarios already validated (each with its file)."""
        writable(self.options.out)
        heads = list(self.head_starts.values())
        self._client = heads[0].client if heads else connect()  # a head start has connected
        with ExitStack() as held:
            if self.options.keep:  # one sandbox left up per scenario: --reuse, down know which
                for path, scenario in scenarios:
                    held.enter_context(bringing_up(scenario.name, "`poc run --keep`", str(path)))
                    refuse_if_up(self._client, scenario.name, str(path))
            if self.options.reuse:  # every sandbox found and checked before any step runs
                self._reused = {
                    path: Sandbox.reused(
                        self._client, scenario, path, services_of(self.progress, scenario.name)
                    )
                    for path, scenario in scenarios
                }
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aside") as aside:
                self._engine = aside.submit(EngineInfo.read, self._client)
                aside.submit(sweep, self._client, include_kept=False)  # what killed runs left
                return self._run_each(scenarios)

    def _head_start(self, path: Path, scenario: Scenario) -> HeadStart | None:
        """This run's head start, if it guessed the validated scenario right."""
        head = self.head_starts.pop(path, None)
        if head is not None and not head.fits(Draft.of(scenario)):
            head.discard()
            return None
        return head

    def _run_each(self, scenarios: list[tuple[Path, Scenario]]) -> list[RunResult]:
        pool = ThreadPoolExecutor(
            max_workers=max(1, self.options.parallel), thread_name_prefix="run"
        )
        futures: list[Future[RunResult]] = [
            pool.submit(self.run_one, path, scenario) for path, scenario in scenarios
        ]
        try:
            with sigterm_as_interrupt():
                wait_all(futures)
        except KeyboardInterrupt:
            self.interrupted.set()
            with signals_ignored():
                self._tear_down_live()
                pool.shutdown(wait=True, cancel_futures=True)
            raise Interrupted("interrupted: every sandbox was removed") from None
        pool.shutdown()
        return [future.result() for future in futures]

    def run_one(self, path: Path, scenario: Scenario) -> RunResult:
        """One run as its stages: provision, steps, judge, teardown, assemble, publish."""
        assert self._client is not None
        head = self._head_start(path, scenario)
        run = _Run.begin(path, scenario, head.run_id if head else new_run_id(), self.options.out)
        sandbox = self._reused.get(path) or self._sandbox(run, head)
        sandbox.deadline = time.monotonic() + scenario.sandbox.timeout
        with self._registered(sandbox):
            work = self._work(run, sandbox)
        work = self._teardown(run, sandbox, work)
        if (self.options.keep or sandbox.reusing) and not sandbox.taken_away:  # still up
            self.endpoints[run.run_id] = {
                name: sandbox.endpoints(name) for name in sandbox.containers
            }
        result = assemble(run, sandbox, work, self._engine_info(), self.options.variables)
        publish(result, run.folder, pdf=self.options.pdf, history=self.options.history)
        self.progress.update(scenario.name, "result", f"{result.verdict} -> {run.folder}")
        return result

    def _sandbox(self, run: _Run, head: HeadStart | None) -> Sandbox:
        assert self._client is not None
        return Sandbox(
            self._client,
            run.scenario,
            run.path.parent,
            run.run_id,
            kept=self.options.keep,
            publish=self.options.keep,  # as `poc up` does: through the forwarders
            head=head,
            report=services_of(self.progress, run.scenario.name),
        )

    def _work(self, run: _Run, sandbox: Sandbox) -> _Work:
        """Provision, steps, and the criteria judged in the sandbox (sql, http, command),
        as far as they get: an error ends the work and is recorded, never raised."""
        work = _Work()
        try:
            with run.phases("sandbox reused" if sandbox.reusing else "sandbox up"):
                sandbox.up()
            if self.interrupted.is_set():
                raise Interrupted("interrupted")
            sandbox.watch(run.started)
            with run.phases("steps"):
                run_steps(sandbox, run.scenario.steps, run.folder, self._announce(run), work.steps)
            if _judged_in_sandbox(run.scenario):
                work.criteria = judge(run, work.steps, sandbox)
                sandbox.checkpoint(read=True)
        except Exception as exc:
            work.error = self._failure(exc)
        return work

    def _announce(self, run: _Run) -> Announce:
        def announce(step: str, status: str) -> None:
            self.progress.update(
                run.scenario.name, f"step {step}", status, active=status == "running"
            )

        return announce

    def _failure(self, exc: Exception) -> str:
        """What a run's error says: the sandbox's own words, the engine's or the disk's; only
        an error of poc-runner itself is called a bug."""
        if self.interrupted.is_set():
            return "interrupted"
        known = world_failure(exc)
        if isinstance(known, EngineLost):
            return f"the Docker engine stopped during the run ({reason(exc)})"
        if known is not None:
            return str(known)
        return (
            f"poc-runner failed unexpectedly ({type(exc).__name__}: {exc}); this is a bug in"
            " poc-runner, not in the product: please report it with this run's folder"
        )

    def _teardown(self, run: _Run, sandbox: Sandbox, work: _Work) -> _Work:
        """Logs saved, the sandbox removed (unless kept); meanwhile, the criteria that need no
        sandbox are judged, and what writes the results is imported."""
        if self.interrupted.is_set():
            work.error = "interrupted"
        with run.phases("teardown"), ThreadPoolExecutor(1, "teardown") as aside:
            removing = aside.submit(self._remove, sandbox, run.folder)
            try:
                if work.criteria is None:
                    work.criteria = judge(run, work.steps)
                import poc_runner.history
                import poc_runner.report  # noqa: F401
            finally:
                problems = removing.result()
        if problems:
            note = _removal_note(problems, sandbox)
            work.error = f"{work.error}; {note}" if work.error else note
        return work

    def _remove(self, sandbox: Sandbox, folder: Path) -> list[str]:
        with signals_ignored():
            sandbox.save_logs(folder / "logs")
            if self.options.keep and not self.interrupted.is_set():
                return []
            return sandbox.down()  # a reused sandbox stays up

    def _engine_info(self) -> EngineInfo | None:
        engine = self._engine
        return None if engine is None or engine.exception() else engine.result()

    @contextmanager
    def _registered(self, sandbox: Sandbox) -> Iterator[None]:
        with self._lock:
            self._live.add(sandbox)
        try:
            yield
        finally:
            with self._lock:
                self._live.discard(sandbox)

    def _tear_down_live(self) -> None:
        with self._lock:
            live = list(self._live)
        for sandbox in live:
            sandbox.down()


def exit_code(results: list[RunResult]) -> ExitCode:
    """The worst outcome wins: a sandbox error, then a fail, then a pass."""
    return Verdict.worst(r.verdict for r in results).exit_code


class _Phases(dict[str, tuple[float, float]]):
    """Start and end (time.monotonic()) of each phase of a run, for the timeline."""

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self[name] = (start, time.monotonic())


@dataclass
class _Run:
    """What a run is while it happens: its scenario, id, folder and clock."""

    path: Path
    scenario: Scenario
    run_id: str
    folder: Path
    started_at: str
    origin: float = field(default_factory=time.monotonic)  # for the timeline
    started: float = field(default_factory=time.time)  # the same moment, for the engine's times
    phases: _Phases = field(default_factory=_Phases)

    @classmethod
    def begin(cls, path: Path, scenario: Scenario, run_id: str, out: Path) -> _Run:
        folder = out / scenario.name / run_id
        folder.mkdir(parents=True, exist_ok=True)
        return cls(path, scenario, run_id, folder, _now())


@dataclass
class _Work:
    """What the sandbox's part of a run produced: the steps as far as they got, the criteria
    once judged, and the error that ended it early, if one did."""

    steps: list[StepResult] = field(default_factory=list)
    criteria: list[CriterionResult] | None = None
    error: str | None = None


def _removal_note(problems: list[str], sandbox: Sandbox) -> str:
    if not answers(sandbox.client):
        return (
            "the engine did not answer at teardown: what was still up is removed by the next"
            " `poc run` or `poc clean` once it answers again"
        )
    return "could not remove: " + "; ".join(problems) + " (run `poc clean`)"


def judge(
    run: _Run, steps: list[StepResult], sandbox: Sandbox | None = None
) -> list[CriterionResult]:
    """Every criterion on the evidence; without a sandbox, those that need one are not judged."""
    with run.phases("checks"):
        from poc_runner.checks import Evidence, judge_criteria

        evidence = Evidence(
            {step.name: step for step in steps},
            run.folder,
            run.path.parent,
            sandbox,
            data_items={item.name: item.path for item in run.scenario.data},
        )
        return judge_criteria(run.scenario, evidence)


def assemble(
    run: _Run,
    sandbox: Sandbox,
    work: _Work,
    engine: EngineInfo | None,
    variables: Mapping[str, str],
) -> RunResult:
    """The run's result, from what each stage produced and the `--var`s it was given."""
    scenario, folder = run.scenario, run.path.parent
    criteria = settled(work.criteria or [], work.error is not None)
    return RunResult(
        scenario.name,
        run.run_id,
        run.started_at,
        finished_at=_now(),
        verdict=Verdict.ERROR if work.error else verdict(criteria, scenario.acceptance.pass_score),
        score=score(criteria),
        pass_score=scenario.acceptance.pass_score,
        error=work.error,
        title=scenario.title,
        job=_job(scenario),
        criteria=criteria,
        steps=[_record(step) for step in work.steps],
        timeline=build_timeline(
            run.origin, run.phases, sandbox.ready_at, work.steps, sandbox.incidents
        ),
        incidents=sandbox.incidents,
        reused=sandbox.run_id if sandbox.reusing else None,
        environment=_fingerprint(scenario, sandbox, engine),
        inputs=RunInputs(
            vars=variables_used(scenario, variables),
            files=digests(
                folder,
                [run.path, *compose_files(scenario, folder), *decisive_files(scenario, folder)],
            ),
        ),
    )


def publish(result: RunResult, folder: Path, *, pdf: bool = False, history: bool = True) -> None:
    """result.json, the reports (with `pdf`, report.pdf too), and (with `history`) the history
    (a PDF or a history that cannot be written is only a warning: the run's own files are its
    record)."""
    from poc_runner.history import record_run
    from poc_runner.report import FILES, print_pdf, write_reports

    try:
        result.write(folder)
        write_reports(folder, result)
        if pdf:
            try:
                print_pdf(folder / FILES["html"], folder / "report.pdf")
            except ToolUnavailable as exc:
                sys.stderr.write(SECRETS.mask(f"warning: report.pdf not written: {exc}") + "\n")
    except OSError as exc:
        raise CannotWrite(
            f"the results of {result.scenario} (verdict {result.verdict}) could not be written"
            f" to {folder}: {exc.strerror or exc}; the sandbox was removed, nothing is left"
            " running"
        ) from None
    if history:
        record_run(result, folder)


def writable(out: Path) -> None:
    """Refuse an --out folder results cannot be written to, before anything starts."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise InvalidInput(
            f"results cannot be written to --out {out}: {exc.strerror or exc}; choose another"
            " folder with --out"
        ) from None


def _fingerprint(scenario: Scenario, sandbox: Sandbox, engine: EngineInfo | None) -> dict[str, Any]:
    return {
        "runner": {
            "version": __version__,
            "python": sys.version.split()[0],  # as platform.python_version(), unimported
            "platform": host_platform(),
        },
        "engine": None
        if engine is None
        else {
            "version": engine.version,
            "api_version": engine.api_version,
            "os": engine.os,
            "kernel": engine.kernel,
            "cgroup_version": engine.cgroup_version,
        },
        "network": scenario.sandbox.network,
        "images": dict(sandbox.image_ids),
        "data": dict(sandbox.data_sha256),
        **({"data_cache": dict(sandbox.data_cache)} if sandbox.data_cache else {}),
    }


def _job(scenario: Scenario) -> Job:
    job, prospect = scenario.job, scenario.prospect
    return Job(
        statement=job.statement if job else None,
        current_solution=job.current_solution if job else None,
        stakeholders=[Stakeholder(s.role, s.wants) for s in job.stakeholders] if job else [],
        prospect=prospect.name if prospect else None,
        industry=prospect.industry if prospect else None,
    )


def _judged_in_sandbox(scenario: Scenario) -> bool:
    return any(needs_sandbox(c.check) for c in scenario.acceptance.criteria)


def _record(step: StepResult) -> StepRecord:
    return StepRecord(
        step.name,
        step.service,
        step.exit_code,
        step.duration_s,
        step.timed_out,
        step.ran,
        step.error,
        step.output_bytes,
        step.artifacts,
        step.artifact_errors,
        step.last_lines,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


__all__ = ["RunOptions", "Runner", "SandboxError", "exit_code", "load"]
