"""An engine in memory with scripted outcomes, for tests of whole runs without Docker (as
httpx's MockTransport stands in for the network).

Nothing runs: every command a run sends (a step, a check's SQL client, the `http` probe, the
`isolation` helper) is a `Call` given to the script's handler, and the `Reply` it returns is
how the command ended: its exit code, what it printed, how long it took (past its timeout it
is cut short, as the engine would), the files it left in its service (the artifacts steps
collect), what happened to the services meanwhile (an `Incident`: out of memory, removed under
the run), or the error the engine raised.

    def handler(call: Call) -> Reply:
        if call.service == "app" and call.line.startswith("python3 /app/dedupe.py"):
            return Reply(stdout="flagged 12\\n", writes={"/out/flagged.csv": "invoice\\n7\\n"})
        return Reply(exit_code=127, stderr=f"{call.argv[0]}: not found")

    engine = FakeEngine(Script(handler, unhealthy={"db": "pg_isready never answered"}))
    finished = pipeline.run_all([path], Options(out=tmp), engine=engine)

The sandboxes keep what they made for a test to read (`engine.made`, each sandbox's `calls`,
`files`, `removed`). A sandbox left up (`keep`) is found again by `kept` and `left_up` until
`sweep` or its own `down` removes it, so `--reuse` and `poc down` run as on an engine. The
compliance test (tests/unit/test_backends.py) holds it to the Protocols Docker's engine is held
to; docs/architecture.md says what each method must do.
"""

from __future__ import annotations

import hashlib
import posixpath
import shlex
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from poc_runner.backend import (
    Endpoint,
    EngineInfo,
    Outcome,
    Provisioned,
    Reservation,
    SandboxOptions,
    Swept,
    Targets,
    service_event,
)
from poc_runner.errors import InvalidInput, SandboxError, ServiceStopped
from poc_runner.events import OnEvent, ignore
from poc_runner.plan import not_up, refusal
from poc_runner.result import Incident, IncidentKind
from poc_runner.sandbox.capture import Capture
from poc_runner.sandbox.dataplan import checksums
from poc_runner.sandbox.labels import new_run_id

if TYPE_CHECKING:
    from poc_runner.model import Scenario
    from poc_runner.model.scenario import DataItem
    from poc_runner.plan import SandboxPlan
    from poc_runner.setup.request import Made, Request

INFO = EngineInfo("0.0-fake", "0.0", "memory", "none", "2", ("fake",), name="fake", kind="fake")
TARGETS = Targets(["127.0.0.1", "192.0.2.10"], ["172.30.0.1"])  # documentation addresses
FIRST_PORT = 49153  # where the fake says published ports answer (nothing listens)


@dataclass(frozen=True)
class Call:
    """One command a run sends: in `service`, or from the sandbox's network (`service` None,
    the `http` probe), or where it sees a service's network (`within`, `isolation`)."""

    service: str | None
    argv: tuple[str, ...]
    timeout: float
    environment: Mapping[str, str] = field(default_factory=dict)
    within: bool = False

    @property
    def line(self) -> str:
        """The command as one line: what `sh -c` runs, else the argv joined."""
        if len(self.argv) == 3 and self.argv[1] == "-c" and self.argv[0].endswith("sh"):
            return self.argv[2]
        return shlex.join(self.argv)


@dataclass(frozen=True)
class Reply:
    """How a command ends. Longer than its timeout, it is cut short there (`timed_out`, no
    exit code); `writes` are files it leaves in its service (text or bytes; None removes);
    `incident` is what happened to a service meanwhile; `raises` what the engine raised."""

    exit_code: int = 0
    stdout: str | bytes = ""
    stderr: str | bytes = ""
    duration_s: float = 0.01
    writes: Mapping[str, str | bytes | None] = field(default_factory=dict)
    incident: Incident | None = None
    raises: Exception | None = None


Handler = Callable[[Call], Reply]


def replies(table: Mapping[str, Reply], default: Reply | None = None) -> Handler:
    """A handler by command line: the reply of the first entry the line starts with, else
    `default` (exit 0, nothing printed)."""

    def handler(call: Call) -> Reply:
        for start, reply in table.items():
            if call.line.startswith(start):
                return reply
        return default or Reply()

    return handler


@dataclass(frozen=True)
class Script:
    """What the fake engine's sandboxes do: how each command ends, the services that never
    become healthy (service -> why; `up` fails there, a sandbox error), the addresses the
    `isolation` check tries, and, on a reused sandbox, artifact paths it could not clear."""

    handler: Handler = field(default=replies({}))
    unhealthy: Mapping[str, str] = field(default_factory=dict)
    targets: Targets = field(default_factory=lambda: TARGETS)
    uncleared: Mapping[tuple[str, str], str] = field(default_factory=dict)
    answers: bool = True  # whether the engine answers (after a failed teardown)
    head_start: bool = True  # `reserve` gives each run a run id before its file is validated


@dataclass
class _State:
    """What a sandbox made, shared with the sandbox that reuses it."""

    run_id: str
    services: dict[str, str]  # name -> running | stopped | removed
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    provisioned: Provisioned = field(default_factory=Provisioned)
    logs: dict[str, list[str]] = field(default_factory=dict)
    kept: bool = False
    removed: bool = False


class FakeReservation:
    """A head start that made nothing but the run's id."""

    def __init__(self, run_id: str, fits: bool = True) -> None:
        self._run_id, self._fits = run_id, fits
        self.discarded = False

    @property
    def run_id(self) -> str:
        return self._run_id

    def fits(self, plan: SandboxPlan) -> bool:
        return self._fits

    def discard(self) -> list[str]:
        self.discarded = True
        return []


class FakeEngine:
    """An engine in memory: sandboxes whose commands end as the script says."""

    def __init__(self, script: Script | Handler | None = None) -> None:
        if script is None or isinstance(script, Script):
            self.script = script or Script()
        else:
            self.script = Script(script)
        self.made: list[FakeSandbox] = []  # every sandbox made or found, in order
        self.reservations: list[FakeReservation] = []
        self._kept: dict[str, _State] = {}  # scenario -> its sandbox left up
        self._lock = threading.Lock()

    @property
    def address(self) -> str:
        return "a fake engine in memory"

    def describe(self) -> EngineInfo:
        return INFO

    def answers(self) -> bool:
        return self.script.answers

    def reserve(
        self, paths: Sequence[Path], *, keep: bool
    ) -> AbstractContextManager[dict[Path, Reservation]]:
        return self._reserved(paths)

    @contextmanager
    def _reserved(self, paths: Sequence[Path]) -> Iterator[dict[Path, Reservation]]:
        made = [FakeReservation(new_run_id()) for _ in paths] if self.script.head_start else []
        self.reservations += made
        reserved: dict[Path, Reservation] = dict(zip(paths, made, strict=False))
        try:
            yield reserved
        finally:
            for left in reserved.values():
                left.discard()

    def sandbox(
        self,
        plan: SandboxPlan,
        run_id: str,
        *,
        options: SandboxOptions | None = None,
        on_event: OnEvent | None = None,
        reservation: Reservation | None = None,
    ) -> FakeSandbox:
        state = _State(run_id, dict.fromkeys(plan.services, "absent"))
        made = FakeSandbox(self, plan, state, options or SandboxOptions(), on_event)
        self.made.append(made)
        return made

    def kept(
        self,
        plan: SandboxPlan,
        path: Path,
        *,
        on_event: OnEvent | None = None,
        checked: bool = True,
    ) -> FakeSandbox:
        with self._lock:
            state = self._kept.get(plan.name)
        if state is None:
            raise not_up(plan.name, path)
        if checked:
            now = {name: _fingerprint(plan, name) for name in plan.services}
            if (problem := refusal(state.fingerprints, now, path)) is not None:
                raise InvalidInput(problem)
        options = SandboxOptions(keep=True, publish=True)
        found = FakeSandbox(self, plan, state, options, on_event, reused=True)
        self.made.append(found)
        return found

    def left_up(self, scenario: str, *, others_only: bool = False) -> set[str]:
        with self._lock:
            state = self._kept.get(scenario)
        return {state.run_id} if state is not None else set()

    def sweep(
        self,
        *,
        include_kept: bool,
        scenario: str | None = None,
        only_kept: bool = False,
        everyone: bool = False,
        images: bool = False,
        cache: bool = False,
        by: str = "a sweep of ended runs",
    ) -> Swept:
        """No run of the fake outlives its process: only sandboxes left up go, when asked."""
        swept = Swept()
        if not include_kept:
            return swept
        with self._lock:
            names = [name for name in self._kept if scenario in (None, name)]
            states = [self._kept.pop(name) for name in names]
        for state in states:
            for service in state.services:
                state.services[service] = "removed"
                swept.removed.append(f"service {service} of run {state.run_id} ({by})")
            state.removed = True
        return swept

    def set_up(self, request: Request, on_event: OnEvent | None = None) -> list[Made]:
        from poc_runner.setup import tag_of
        from poc_runner.setup.request import Made

        return [
            Made(tag_of(name, request.prefix), _image_id(name), "fake") for name in request.images
        ]

    def _keep(self, name: str, state: _State) -> None:
        with self._lock:
            self._kept[name] = state

    def _forget(self, name: str, state: _State) -> None:
        with self._lock:
            if self._kept.get(name) is state:
                del self._kept[name]


class FakeSandbox:
    """One run's services in memory. Thread-safe as the pipeline needs: a teardown from the
    main thread (Ctrl-C) while a worker runs a command."""

    def __init__(
        self,
        engine: FakeEngine,
        plan: SandboxPlan,
        state: _State,
        options: SandboxOptions,
        on_event: OnEvent | None,
        *,
        reused: bool = False,
    ) -> None:
        self.engine, self.plan, self.state, self.options = engine, plan, state, options
        self.on_event = on_event or ignore
        self._reused = reused
        self.calls: list[Call] = []
        self._incidents: list[Incident] = []
        self._deadline: float | None = None
        self._downed = False
        self._lock = threading.Lock()

    # -- what it is ----------------------------------------------------------------------------

    @property
    def scenario(self) -> Scenario:
        return self.plan.scenario

    @property
    def run_id(self) -> str:
        return self.state.run_id

    @property
    def reused(self) -> bool:
        return self._reused

    @property
    def files(self) -> dict[tuple[str, str], bytes]:
        """Every file the commands left: (service, path) -> content."""
        return self.state.files

    @property
    def removed(self) -> bool:
        return self.state.removed

    # -- up ------------------------------------------------------------------------------------

    def up(self) -> Provisioned:
        if self.options.timed:
            self._deadline = time.monotonic() + self.plan.timeout
        if self._reused:
            self._clear_artifacts()
            digests = self._data(list(self._data_files()))
            self.state.provisioned = replace(self.state.provisioned, data_sha256=digests)
            return self.state.provisioned
        images = {name: _image_id(name) for name in self.plan.services}
        data = list(self._data_files())  # read once: digested now, mounted once up
        self.state.provisioned = Provisioned(images, self._data(data), {})
        ready: dict[str, tuple[float, float]] = {}
        for name in self.plan.order():
            self._say(name, "starting")
            started = time.monotonic()
            with self._lock:
                if self._downed:
                    raise SandboxError("the sandbox was removed while it came up")
                self.state.services[name] = "running"
            why = self.engine.script.unhealthy.get(name)
            if why is not None:
                self._say(name, "unhealthy")
                raise SandboxError(f"service {name!r} did not become healthy: {why}")
            self._say(name, "healthy" if self.plan.services[name].healthcheck else "running")
            ready[name] = (started, time.monotonic())
            self.state.fingerprints[name] = _fingerprint(self.plan, name)
        self._mount_data(data)
        self.state.provisioned = replace(self.state.provisioned, ready_at=ready)
        if self.options.keep:
            self.state.kept = True
            self.engine._keep(self.plan.name, self.state)
        return self.state.provisioned

    def made(self) -> Provisioned:
        return self.state.provisioned

    def remaining(self) -> float:
        deadline = self._deadline
        return float("inf") if deadline is None else deadline - time.monotonic()

    # -- commands ------------------------------------------------------------------------------

    def exec(
        self,
        service: str,
        argv: list[str],
        timeout: float,
        environment: dict[str, str] | None = None,
        *,
        workdir: str | None = None,
        stdout: Capture | None = None,
        stderr: Capture | None = None,
    ) -> Outcome:
        status = self.state.services.get(service)
        if status != "running":
            raise ServiceStopped(f"service {service!r} is {status or 'not in the sandbox'}")
        call = Call(service, tuple(argv), timeout, dict(environment or {}))
        return self._run(call, stdout, stderr)

    def probe(self, argv: list[str], timeout: float) -> Outcome:
        return self._run(Call(None, tuple(argv), timeout))

    def probe_within(self, service: str, argv: list[str], timeout: float) -> Outcome:
        if self.state.services.get(service) != "running":
            raise ServiceStopped(f"service {service!r} is not running")
        return self._run(Call(service, tuple(argv), timeout, within=True))

    def isolation_targets(self) -> Targets:
        return self.engine.script.targets

    def _run(
        self, call: Call, stdout: Capture | None = None, stderr: Capture | None = None
    ) -> Outcome:
        if self._downed or self.state.removed:
            raise SandboxError("the sandbox was removed")
        self.calls.append(call)
        reply = self.engine.script.handler(call)
        if reply.incident is not None:
            self._befall(reply.incident)
        if reply.raises is not None:
            raise reply.raises
        limit = min(call.timeout, max(self.remaining(), 0.1))
        timed_out = reply.duration_s > limit
        out, err = stdout or Capture(), stderr or Capture()
        out.write(_bytes(reply.stdout))
        err.write(_bytes(reply.stderr))
        out.close()
        err.close()
        if call.service is not None and not call.within:
            self.state.logs.setdefault(call.service, []).append(call.line)
            for path, content in reply.writes.items():
                key = (call.service, posixpath.normpath(path))
                if content is None:
                    self.state.files.pop(key, None)
                else:
                    self.state.files[key] = _bytes(content)
        duration = min(reply.duration_s, limit)
        return Outcome(None if timed_out else reply.exit_code, timed_out, duration, out, err)

    def _befall(self, incident: Incident) -> None:
        """Something happens to a service: it stops, or goes (removed under the run)."""
        with self._lock:
            self._incidents.append(incident)
            gone = "removed" if incident.kind is IncidentKind.REMOVED else "stopped"
            self.state.services[incident.service] = gone
        self._say(incident.service, incident.status)

    # -- what came of it -----------------------------------------------------------------------

    def copy_out(self, service: str, path: str, into: Path) -> bool:
        wanted = posixpath.normpath(path)
        found = {
            name: content
            for (owner, name), content in self.state.files.items()
            if owner == service and (name == wanted or name.startswith(wanted.rstrip("/") + "/"))
        }
        for name, content in found.items():
            target = into / name.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        return bool(found)

    def uncleared(self) -> Mapping[tuple[str, str], str]:
        return self.engine.script.uncleared if self._reused else {}

    def incidents(self) -> list[Incident]:
        with self._lock:
            return list(self._incidents)

    def fault(self, *, read: bool = False) -> Incident | None:
        """As the service watch decides: a limit of the sandbox or a removal, never the
        product stopping on its own once the steps began."""
        with self._lock:
            return next((i for i in self._incidents if i.kind is not IncidentKind.EXITED), None)

    def save_logs(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for service in self.plan.services:
            lines = self.state.logs.get(service, [])
            (folder / f"{service}.log").write_text("".join(f"{line}\n" for line in lines))

    def endpoints(self) -> dict[str, list[Endpoint]]:
        found: dict[str, list[Endpoint]] = {}
        port = FIRST_PORT
        for name, service in self.plan.services.items():
            found[name] = []
            for declared in service.ports if self.options.publish else ():
                target, _, protocol = declared.rpartition(":")[2].partition("/")
                found[name].append(Endpoint("127.0.0.1", port, int(target), protocol or "tcp"))
                port += 1
        return found

    def shell(self, service: str, argv: list[str], *, terminal: bool) -> list[str]:
        """Nothing runs in the fake: the command line says what would have run, and where."""
        return ["/bin/echo", f"[fake {service}]", *(argv or ["sh"])]

    def down(self) -> list[str]:
        with self._lock:
            if self._downed:
                return []
            self._downed = True
        if self._reused:  # left up as it was found: it added nothing
            return []
        for service in self.state.services:
            self.state.services[service] = "removed"
        self.state.removed = True
        self.engine._forget(self.plan.name, self.state)
        return []

    # -- helpers -------------------------------------------------------------------------------

    def _say(self, service: str, status: str) -> None:
        self.on_event(service_event(self.plan.name, service, status))

    def _data(self, files: list[tuple[DataItem, str, bytes]]) -> dict[str, str]:
        """sha256 per data item, as the engine's copy of it records it."""
        digests = {_mounted(item, rel): hashlib.sha256(raw).hexdigest() for item, rel, raw in files}
        return checksums(self.scenario, digests)

    def _data_files(self) -> Iterator[tuple[DataItem, str, bytes]]:
        for item in self.scenario.data:
            source = self.plan.folder / item.path
            if source.is_file():
                yield item, "", source.read_bytes()
            elif source.is_dir():
                for file in sorted(source.rglob("*")):
                    if file.is_file():
                        yield item, file.relative_to(source).as_posix(), file.read_bytes()

    def _mount_data(self, files: list[tuple[DataItem, str, bytes]]) -> None:
        """The data, read-only where the scenario mounts it, in the services that see it."""
        for item, rel, raw in files:
            seen = item.services if item.services is not None else list(self.plan.services)
            for service in seen:
                self.state.files[(service, _mounted(item, rel))] = raw

    def _clear_artifacts(self) -> None:
        """On a reused sandbox, the steps' artifact paths go first (grounds.py)."""
        for name, service in self.plan.services.items():
            for path in service.artifacts:
                if (name, path) in self.engine.script.uncleared:
                    continue
                prefix = posixpath.normpath(path).rstrip("/") + "/"
                for key in [k for k in self.state.files if k[0] == name]:
                    if key[1] == posixpath.normpath(path) or key[1].startswith(prefix):
                        del self.state.files[key]


def _fingerprint(plan: SandboxPlan, service: str) -> str:
    return plan.fingerprint(service, _image_id(service)) if service in plan.services else ""


def _mounted(item: DataItem, rel: str) -> str:
    """Where a data file is in the services: the item's mount, or a file under it."""
    return posixpath.join(item.mount, rel) if rel else item.mount


def _image_id(service: str) -> str:
    return "sha256:" + hashlib.sha256(f"fake {service}".encode()).hexdigest()


def _bytes(text: str | bytes) -> bytes:
    return text.encode() if isinstance(text, str) else text


__all__ = [
    "Call",
    "FakeEngine",
    "FakeReservation",
    "FakeSandbox",
    "Handler",
    "Reply",
    "Script",
    "replies",
]
