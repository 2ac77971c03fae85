"""A run, as stages that take and return records: plan -> provision -> steps -> judge ->
teardown -> assemble -> publish. `run_all` is the front door, for `poc run` and for the Python
API alike: it prints nothing (what happens goes to an `OnEvent` listener), returns one
`Finished` per scenario, and raises `Interrupted` on Ctrl-C once every sandbox is torn down.

The engine is reached through the seam (backend.py): a `Sandbox` from an `Engine`, Docker's by
default. Runs execute in worker threads (parallel.py), so the main thread stays free to catch
Ctrl-C and SIGTERM and tear every live sandbox down at once; each worker then finishes its
result (verdict `error`, "interrupted"). Teardown happens on every path: success, failure,
exception, interruption. Only SIGKILL skips it, and the owner label on every object then lets
the next `poc run` or `poc clean` prove the run dead and sweep what it left.

Start-up is on the clock (a demo is watched): the engine gets a head start on each run while
the files are validated (`Engine.reserve`), so this module imports nothing heavy before that;
reading the engine's version and sweeping dead runs' leftovers happen aside, while the sandbox
comes up; the checks, reports and history are imported while the sandbox is removed, when this
process would only wait (importing them aside earlier took the CPU from the start-up itself).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poc_runner import __version__
from poc_runner.backend import (
    Endpoint,
    Engine,
    EngineInfo,
    Provisioned,
    Reservation,
    Sandbox,
    SandboxOptions,
)
from poc_runner.backends import default_engine
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
from poc_runner.events import Event, OnEvent, ignore
from poc_runner.interrupts import signals_ignored
from poc_runner.masking import SECRETS
from poc_runner.parallel import LiveSandboxes, run_each

if TYPE_CHECKING:
    from poc_runner.model import Scenario
    from poc_runner.plan import SandboxPlan
    from poc_runner.result import CriterionResult, Incident, Job, RunResult
    from poc_runner.steps import StepResult


@dataclass(frozen=True)
class Options:
    """How scenarios are run: `poc run`'s options, and the Python API's keywords."""

    out: Path = Path("runs")  # run folders: OUT/<scenario>/<run id>/
    variables: Mapping[str, str] = field(default_factory=dict)  # --var
    keep: bool = False  # leave each sandbox up afterwards, its ports published (`poc down`)
    reuse: bool = False  # run on the sandbox `poc up` or `--keep` left up, and leave it up
    parallel: int = 1  # runs at once, each in its own sandbox
    pdf: bool = False  # also report.pdf (needs Chromium: checked before any run starts)
    history: bool = True  # record each run in the run history (the Python API asks for it)


@dataclass(frozen=True)
class Finished:
    """One scenario's run: its result (result.json) and where its files are; for a sandbox
    still up (`keep`, `reuse`), where its services answer; what could not be written beside
    the run's own files (report.pdf, the history), for whoever shows warnings."""

    result: RunResult
    folder: Path
    left_up: Mapping[str, tuple[Endpoint, ...]] | None = None
    warnings: tuple[str, ...] = ()


def run_all(
    paths: Sequence[Path],
    options: Options = Options(),
    *,
    on_event: OnEvent | None = None,
    engine: Engine | None = None,
) -> list[Finished]:
    """Run these scenario files: every file validated first (InvalidInput, naming every
    problem, before anything starts), then each in its sandbox, `options.parallel` at once.
    On Ctrl-C or SIGTERM, every sandbox is torn down and Interrupted raised."""
    engine = engine or default_engine()
    fresh = [] if options.reuse else list(paths[: max(1, options.parallel)])
    with engine.reserve(fresh, keep=options.keep) as reserved:  # a reused sandbox has its own
        plans = [(path, plan_of(path, options.variables)) for path in paths]
        return _Runs(engine, options, on_event or ignore, reserved).run(plans)


def run_loaded(
    scenarios: Sequence[tuple[Path, Scenario]],
    options: Options = Options(),
    *,
    on_event: OnEvent | None = None,
    engine: Engine | None = None,
) -> list[Finished]:
    """`run_all` for scenarios validated already, each with its file (the Python API's
    `run(scenario)`): there is no validation to overlap, so no head start."""
    from poc_runner.plan import plan_sandbox

    plans = [(path, plan_sandbox(scenario, path.parent)) for path, scenario in scenarios]
    return _Runs(engine or default_engine(), options, on_event or ignore, {}).run(plans)


def load(path: Path, variables: Mapping[str, str], *, secrets: bool = True) -> Scenario:
    """The scenario, valid and (with `secrets`) its secrets filled from the environment, or
    InvalidInput listing every problem."""
    from poc_runner.diagnostics import render
    from poc_runner.validation import validate_file

    validated = validate_file(path, variables, secrets=os.environ if secrets else None)
    if validated.scenario is None or not validated.ok:
        problems = [d for d in validated.diagnostics if d.severity == "error"]
        raise InvalidInput(
            f"{path} is not a valid scenario, so no service was started:\n"
            f"{render(problems, 'text')}",
            problems,
        )
    return validated.scenario


def plan_of(path: Path, variables: Mapping[str, str], *, secrets: bool = True) -> SandboxPlan:
    """Stage one: the validated scenario of a file, as its sandbox's plan."""
    from poc_runner.plan import plan_sandbox

    return plan_sandbox(load(path, variables, secrets=secrets), path.parent)


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


def exit_code(results: Sequence[RunResult]) -> ExitCode:
    """The worst outcome wins: a sandbox error, then a fail, then a pass."""
    from poc_runner.result import Verdict

    return Verdict.worst(r.verdict for r in results).exit_code


def refuse_if_up(engine: Engine, scenario: str, path: Path | str) -> None:
    """One sandbox left up per scenario and user, so `poc shell`, `--reuse` and `poc down`
    know which one they mean. What this process made (its own head start) does not count."""
    runs = engine.left_up(scenario, others_only=True)
    if runs:
        raise SandboxError(
            f"{scenario} is already up (run {', '.join(sorted(runs))}); use it (`poc run --reuse"
            f" {path}`, `poc shell {path} SERVICE`), or `poc down {path}` first"
        )


# -- the records a run's stages pass on ----------------------------------------------------


@dataclass(frozen=True)
class Begun:
    """A run as it begins: its plan, id, folder and clock."""

    path: Path
    plan: SandboxPlan
    run_id: str
    folder: Path
    started_at: str  # UTC, as result.json writes it
    origin: float  # time.monotonic() at the start, for the timeline
    started: float  # the same moment, time.time(), for the engine's times

    @property
    def scenario(self) -> Scenario:
        return self.plan.scenario


@dataclass(frozen=True)
class Worked:
    """What the sandbox's part of a run produced: what it was made of, the steps as far as
    they got, the criteria judged in the sandbox, and the error that ended it early."""

    provisioned: Provisioned
    steps: tuple[StepResult, ...]
    criteria: tuple[CriterionResult, ...] | None
    error: str | None
    phases: Mapping[str, tuple[float, float]]
    reused: str | None  # the run that left up the sandbox it ran on (`--reuse`), if it did


@dataclass(frozen=True)
class TornDown:
    """A run once its sandbox is down (or left up): every criterion judged, the error (with
    what could not be removed), what happened to the services, and where one left up answers."""

    criteria: tuple[CriterionResult, ...]
    error: str | None
    incidents: tuple[Incident, ...]
    left_up: Mapping[str, tuple[Endpoint, ...]] | None
    phases: Mapping[str, tuple[float, float]]


class _Runs:
    """One `run_all`: its engine, options and listener, the sandboxes live at any moment."""

    def __init__(
        self,
        engine: Engine,
        options: Options,
        on_event: OnEvent,
        reserved: dict[Path, Reservation],
    ) -> None:
        self.engine, self.options, self.on_event = engine, options, on_event
        self.reserved = reserved  # a run takes its own head start out of it
        self.live = LiveSandboxes()
        self._engine_info: Future[EngineInfo] | None = None
        self._reused: dict[Path, Sandbox] = {}

    def run(self, plans: list[tuple[Path, SandboxPlan]]) -> list[Finished]:
        writable(self.options.out)
        from poc_runner.sandbox.uplock import bringing_up

        with ExitStack() as held:
            if self.options.keep:  # one sandbox left up per scenario: --reuse, down know which
                for path, plan in plans:
                    where = self.engine.address
                    held.enter_context(bringing_up(plan.name, "`poc run --keep`", str(path), where))
                    refuse_if_up(self.engine, plan.name, path)
            if self.options.reuse:  # every sandbox found and checked before any step runs
                self._reused = {
                    path: self.engine.kept(plan, path, on_event=self.on_event)
                    for path, plan in plans
                }
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aside") as aside:
                self._engine_info = aside.submit(self.engine.describe)
                aside.submit(self.engine.sweep, include_kept=False)  # what killed runs left
                jobs = [partial(self.one, path, plan) for path, plan in plans]
                return run_each(jobs, self.options.parallel, self.live)

    def one(self, path: Path, plan: SandboxPlan) -> Finished:
        """One run, stage by stage."""
        reservation = claim(self.reserved, path, plan)
        run = begin(path, plan, reservation.run_id if reservation else None, self.options.out)
        sandbox = self._reused.get(path) or self.engine.sandbox(
            plan,
            run.run_id,
            options=SandboxOptions(
                keep=self.options.keep,
                publish=self.options.keep,  # as `poc up` does: through the forwarders
                started=run.started,
            ),
            on_event=self.on_event,
            reservation=reservation,
        )
        with self.live.registered(sandbox):
            worked = self.work(run, sandbox)
        down = self.teardown(run, sandbox, worked)
        result = assemble(run, worked, down, self._info(), self.options.variables)
        warnings = publish(result, run.folder, pdf=self.options.pdf, history=self.options.history)
        self.on_event(Event(plan.name, "result", f"{result.verdict} -> {run.folder}"))
        return Finished(result, run.folder, down.left_up, warnings)

    def work(self, run: Begun, sandbox: Sandbox) -> Worked:
        """Provision, steps, and the criteria judged in the sandbox (sql, http, command, ...),
        as far as they get: an error ends the work and is recorded, never raised."""
        from poc_runner.steps import checkpoint, run_steps

        phases: dict[str, tuple[float, float]] = {}
        steps: tuple[StepResult, ...] = ()
        criteria = None
        error = None
        try:
            with _timed(phases, "sandbox reused" if sandbox.reused else "sandbox up"):
                sandbox.up()
            if self.live.interrupted.is_set():
                raise Interrupted("interrupted")
            with _timed(phases, "steps"):
                ran = run_steps(sandbox, run.scenario.steps, run.folder, self.on_event)
            steps = ran.steps
            if ran.failure is not None:
                raise ran.failure
            if _judged_in_sandbox(run.scenario):
                with _timed(phases, "checks"):
                    criteria = judge(run, steps, sandbox)
                checkpoint(sandbox)
        except Exception as exc:
            error = self.failure(exc)
        reused = sandbox.run_id if sandbox.reused else None
        return Worked(sandbox.made(), steps, criteria, error, phases, reused)

    def failure(self, exc: Exception) -> str:
        """What a run's error says, in one place: the sandbox's own words, the engine's or the
        disk's; only an error of poc-runner itself is called a bug."""
        if self.live.interrupted.is_set():
            return "interrupted"
        known = world_failure(exc)
        if isinstance(known, EngineLost):
            return f"the {known.engine} engine stopped during the run ({reason(exc)})"
        if known is not None:
            return str(known)
        return (
            f"poc-runner failed unexpectedly ({type(exc).__name__}: {exc}); this is a bug in"
            " poc-runner, not in the product: please report it with this run's folder"
        )

    def teardown(self, run: Begun, sandbox: Sandbox, worked: Worked) -> TornDown:
        """Logs saved, the sandbox removed (unless kept); meanwhile, the criteria that need no
        sandbox are judged, and what writes the results is imported."""
        error = "interrupted" if self.live.interrupted.is_set() else worked.error
        phases = dict(worked.phases)
        criteria = worked.criteria
        with _timed(phases, "teardown"), ThreadPoolExecutor(1, "teardown") as aside:
            removing = aside.submit(self._remove, sandbox, run.folder)
            try:
                if criteria is None:
                    with _timed(phases, "checks"):
                        criteria = judge(run, worked.steps)
                import poc_runner.history
                import poc_runner.report  # noqa: F401
            finally:
                problems = removing.result()
        if problems:
            note = self._removal_note(problems)
            error = f"{error}; {note}" if error else note
        incidents = tuple(sandbox.incidents())
        still_up = (self.options.keep or sandbox.reused) and not _taken_away(incidents)
        left_up = _endpoints(sandbox) if still_up else None
        return TornDown(tuple(criteria), error, incidents, left_up, phases)

    def _remove(self, sandbox: Sandbox, folder: Path) -> list[str]:
        with signals_ignored():
            sandbox.save_logs(folder / "logs")
            if self.options.keep and not self.live.interrupted.is_set():
                return []
            return sandbox.down()  # a reused sandbox stays up

    def _removal_note(self, problems: list[str]) -> str:
        if not self.engine.answers():
            return (
                "the engine did not answer at teardown: what was still up is removed by the"
                " next `poc run` or `poc clean` once it answers again"
            )
        return "could not remove: " + "; ".join(problems) + " (run `poc clean`)"

    def _info(self) -> EngineInfo | None:
        info = self._engine_info
        return None if info is None or info.exception() else info.result()


def claim(reserved: dict[Path, Reservation], path: Path, plan: SandboxPlan) -> Reservation | None:
    """The file's head start, taken out of `reserved`, if it guessed the validated scenario
    right; one that guessed wrong is discarded."""
    reservation = reserved.pop(path, None)
    if reservation is not None and not reservation.fits(plan):
        reservation.discard()
        return None
    return reservation


def begin(path: Path, plan: SandboxPlan, run_id: str | None, out: Path) -> Begun:
    """A run's id (its head start's, if it has one), folder and clock."""
    from poc_runner.sandbox.labels import new_run_id

    run_id = run_id or new_run_id()
    folder = out / plan.name / run_id
    folder.mkdir(parents=True, exist_ok=True)
    return Begun(path, plan, run_id, folder, _now(), time.monotonic(), time.time())


def judge(
    run: Begun, steps: Sequence[StepResult], sandbox: Sandbox | None = None
) -> tuple[CriterionResult, ...]:
    """Every criterion on the evidence; without a sandbox, those that need one are not judged."""
    from poc_runner.checks import Evidence, judge_criteria

    evidence = Evidence(
        {step.name: step for step in steps},
        run.folder,
        run.path.parent,
        sandbox,
        data_items={item.name: item.path for item in run.scenario.data},
    )
    return tuple(judge_criteria(run.scenario, evidence))


def assemble(
    run: Begun,
    worked: Worked,
    down: TornDown,
    engine: EngineInfo | None,
    variables: Mapping[str, str],
) -> RunResult:
    """The run's result, from what each stage produced and the `--var`s it was given."""
    from poc_runner.inputs import compose_files, decisive_files, digests, variables_used
    from poc_runner.result import RunInputs, RunResult, Verdict
    from poc_runner.scoring import score, settled, verdict
    from poc_runner.timeline import build_timeline

    scenario, folder = run.scenario, run.path.parent
    criteria = settled(list(down.criteria), down.error is not None)
    made = worked.provisioned
    return RunResult(
        scenario.name,
        run.run_id,
        run.started_at,
        finished_at=_now(),
        verdict=Verdict.ERROR if down.error else verdict(criteria, scenario.acceptance.pass_score),
        score=score(criteria),
        pass_score=scenario.acceptance.pass_score,
        error=down.error,
        title=scenario.title,
        job=_job(scenario),
        criteria=criteria,
        steps=[step.record() for step in worked.steps],
        timeline=build_timeline(
            run.origin, down.phases, made.ready_at, list(worked.steps), down.incidents
        ),
        incidents=list(down.incidents),
        reused=worked.reused,
        environment=_fingerprint(scenario, made, engine),
        inputs=RunInputs(
            vars=variables_used(scenario, variables),
            files=digests(
                folder,
                [run.path, *compose_files(scenario, folder), *decisive_files(scenario, folder)],
            ),
        ),
    )


def publish(
    result: RunResult, folder: Path, *, pdf: bool = False, history: bool = True
) -> tuple[str, ...]:
    """result.json, the reports (with `pdf`, report.pdf too), and (with `history`) the run
    history; what could not be written of report.pdf and the history, as warnings (the run's
    own files are its record)."""
    from poc_runner.report import FILES, print_pdf, write_reports

    warnings: list[str] = []
    try:
        result.write(folder)
        write_reports(folder, result)
        if pdf:
            try:
                print_pdf(folder / FILES["html"], folder / "report.pdf")
            except ToolUnavailable as exc:
                warnings.append(SECRETS.mask(f"report.pdf not written: {exc}"))
    except OSError as exc:
        raise CannotWrite(
            f"the results of {result.scenario} (verdict {result.verdict}) could not be written"
            f" to {folder}: {exc.strerror or exc}; the sandbox was removed, nothing is left"
            " running"
        ) from None
    if history:
        from poc_runner.history import record_run

        if (unrecorded := record_run(result, folder)) is not None:
            warnings.append(unrecorded)
    return tuple(warnings)


def host_platform() -> str:
    """What `platform.platform()` says (Linux-6.1.0-18-amd64-x86_64-with-glibc2.36), without
    its cost: it reads the whole Python executable to find the C library's version (17 ms)."""
    system = os.uname()
    libc = os.confstr("CS_GNU_LIBC_VERSION") if "CS_GNU_LIBC_VERSION" in os.confstr_names else None
    suffix = f"-with-{libc.replace(' ', '')}" if libc else ""
    return f"{system.sysname}-{system.release}-{system.machine}{suffix}"


def _fingerprint(
    scenario: Scenario, made: Provisioned, engine: EngineInfo | None
) -> dict[str, Any]:
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
        "images": dict(made.images),
        "data": dict(made.data_sha256),
        **({"data_cache": dict(made.data_cache)} if made.data_cache else {}),
    }


def _job(scenario: Scenario) -> Job:
    from poc_runner.result import Job, Stakeholder

    job, prospect = scenario.job, scenario.prospect
    return Job(
        statement=job.statement if job else None,
        current_solution=job.current_solution if job else None,
        stakeholders=[Stakeholder(s.role, s.wants) for s in job.stakeholders] if job else [],
        prospect=prospect.name if prospect else None,
        industry=prospect.industry if prospect else None,
    )


def _judged_in_sandbox(scenario: Scenario) -> bool:
    from poc_runner.model.checks import needs_sandbox

    return any(needs_sandbox(c.check) for c in scenario.acceptance.criteria)


def _taken_away(incidents: Sequence[Incident]) -> bool:
    """Whether something outside the run removed a service of it (`poc down` under --reuse)."""
    from poc_runner.result import IncidentKind

    return any(incident.kind is IncidentKind.REMOVED for incident in incidents)


def _endpoints(sandbox: Sandbox) -> dict[str, tuple[Endpoint, ...]]:
    return {name: tuple(found) for name, found in sandbox.endpoints().items()}


@contextmanager
def _timed(phases: dict[str, tuple[float, float]], name: str) -> Iterator[None]:
    """Start and end (time.monotonic()) of a phase of the run, for the timeline."""
    start = time.monotonic()
    try:
        yield
    finally:
        phases[name] = (start, time.monotonic())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


__all__ = [
    "Finished",
    "Options",
    "exit_code",
    "load",
    "plan_of",
    "run_all",
    "run_loaded",
]
