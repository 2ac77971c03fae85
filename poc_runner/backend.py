"""The seam between a run and the engine that hosts its sandbox: two Protocols and the plain
records that cross them. Nothing above this line knows which engine it talks to.

- `Engine`: one per engine (a Docker daemon, local or remote; tomorrow a Kubernetes cluster).
  It describes itself, may get a head start on the runs it is about to host (`reserve`), makes
  a `Sandbox` from a plan, finds the one a user left up (`kept`, `left_up`), sweeps what dead
  runs left, and makes the images a sandbox needs (`poc setup`).
- `Sandbox`: one run's services. `up()` brings them up and says what it made (`Provisioned`);
  then commands run in a service (`exec`) or beside them (`probe`, `probe_within`), artifacts
  come out (`copy_out`), what happened to the services is on record (`incidents`, `fault`),
  logs are saved, published ports are shown (`endpoints`), a person gets a shell (`shell`),
  and `down()` removes everything, whatever state it is in.
- `SandboxAccess`: the part of a sandbox the checks see, and all they get.

A backend implements both Protocols over its own objects (backends/docker/ over the docker
SDK, backends/fake.py in memory for tests); the compliance test (tests/unit/test_backends.py)
holds every backend to them. Records cross the seam, never an engine's objects: a command's
`Outcome`, `Provisioned`, an `Incident` (result.py: it is part of result.json), `EngineInfo`,
`Endpoint`, `Swept`. What a run reports as it happens goes to one `OnEvent` listener
(events.py). See docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from poc_runner.events import Event, OnEvent
from poc_runner.sandbox.capture import Capture

if TYPE_CHECKING:
    from poc_runner.model import Scenario
    from poc_runner.plan import SandboxPlan
    from poc_runner.result import Incident
    from poc_runner.setup.request import Made, Request


@dataclass(frozen=True)
class EngineInfo:
    """What an engine is, for `poc doctor` and the run's fingerprint in result.json."""

    version: str
    api_version: str
    os: str
    kernel: str
    cgroup_version: str
    runtimes: tuple[str, ...]
    name: str = "?"  # the engine's machine, as it names itself
    kind: str = "docker"
    address: str = ""  # where it is reached, in words
    remote: bool = False  # on another machine (its published ports are on that machine)


@dataclass(frozen=True)
class Outcome:
    """How one command in the sandbox ended, and what it printed (kept bounded: Capture)."""

    exit_code: int | None  # None when it timed out
    timed_out: bool
    duration_s: float
    stdout: Capture
    stderr: Capture


@dataclass(frozen=True)
class Targets:
    """What the isolation check tries to reach from inside each service."""

    host: list[str]  # every address the engine's host holds, loopback included
    gateways: list[str]  # of the sandbox's network, as the engine configured it
    # Why asking the sandbox's resolver for an outside name would send the question beyond this
    # machine, when the engine would: the check then asks nothing and counts it a way out.
    lookup_leaks: str | None = None


@dataclass(frozen=True)
class Endpoint:
    """Where the host reaches one published port of a service."""

    host: str  # 127.0.0.1
    port: int  # the host port
    service_port: int
    protocol: str = "tcp"
    remote: bool = False  # on the engine's machine, not this one (`ssh -L` brings it here)

    def __str__(self) -> str:
        where = f"{self.host}:{self.port} -> {self.service_port}/{self.protocol}"
        return f"{where} on the engine's machine" if self.remote else where


@dataclass(frozen=True)
class Provisioned:
    """What `up()` made the sandbox of, for the run's fingerprint and timeline."""

    images: Mapping[str, str] = field(default_factory=dict)  # service -> image id
    data_sha256: Mapping[str, str] = field(default_factory=dict)  # data item -> sha256
    data_cache: Mapping[str, str] = field(default_factory=dict)  # data item -> cached | copied
    ready_at: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # started, ready


@dataclass(frozen=True)
class SandboxOptions:
    """How a sandbox is made and used."""

    keep: bool = False  # left up afterwards (`poc up`, `--keep`): only `poc down` removes it
    publish: bool = False  # the declared ports published on 127.0.0.1
    timed: bool = True  # nothing runs past the plan's `sandbox.timeout`, counted from `up()`
    watch: bool = True  # once up, its services are watched (`incidents`) until `down()`
    # time.time() when the run began: incidents are timed from it; 0: from `up()` (a sandbox
    # found left up, before its run begins)
    started: float = 0.0


@dataclass
class Swept:
    """What a sweep removed, could not remove, and left on purpose (why -> how many)."""

    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    left: dict[str, int] = field(default_factory=dict)

    def merge(self, other: Swept) -> None:
        self.removed += other.removed
        self.problems += other.problems
        for why, count in other.left.items():
            self.left[why] = self.left.get(why, 0) + count


@runtime_checkable
class SandboxAccess(Protocol):
    """What checks need of a live sandbox, and all they get. Every way of running a command is
    cut short at the run's `sandbox.timeout`, and raises ServiceStopped when the service it
    needs is not running."""

    @property
    def scenario(self) -> Scenario: ...

    def exec(
        self,
        service: str,
        argv: list[str],
        timeout: float,
        environment: dict[str, str] | None = None,
    ) -> Outcome:
        """Run `argv` in a service (the `sql`, `data` and `command` checks, custom scripts)."""
        ...

    def probe(self, argv: list[str], timeout: float) -> Outcome:
        """Run `argv` from inside the sandbox's network, in none of its services (`http`)."""
        ...

    def probe_within(self, service: str, argv: list[str], timeout: float) -> Outcome:
        """Run `argv` where it sees the service's network as the service does (its routes,
        addresses and resolver), with no tool needed in its image (`isolation`)."""
        ...

    def isolation_targets(self) -> Targets:
        """Every address of the machine the sandbox runs on and every gateway of its network,
        read from their tables: nothing is sent (`isolation`)."""
        ...


@runtime_checkable
class Sandbox(SandboxAccess, Protocol):
    """One run's services, from `up()` to `down()`."""

    @property
    def run_id(self) -> str: ...

    @property
    def reused(self) -> bool:
        """Left up by an earlier `poc up` or `--keep`, run again (`--reuse`)."""
        ...

    def up(self) -> Provisioned:
        """Bring every service up (in dependency order, healthy where it has a healthcheck),
        the data in read-only; a reused sandbox only brings its data up to date and clears the
        steps' artifact paths. From then on the services are watched (`incidents`)."""
        ...

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
        """Run `argv` in a service; at `timeout` it and everything it started are stopped.
        Output goes to the captures given (bounded ones in memory otherwise)."""
        ...

    def made(self) -> Provisioned:
        """What the sandbox is made of so far (after a failed `up()`, what it made before)."""
        ...

    def remaining(self) -> float:
        """Seconds until the run's `sandbox.timeout` (negative once passed; inf: no limit)."""
        ...

    def copy_out(self, service: str, path: str, into: Path) -> bool:
        """Copy a step's artifact `path` (a file or folder) to `into/<path>`; False when it is
        absent, ArtifactRefused when what is there cannot be copied as it is."""
        ...

    def uncleared(self) -> Mapping[tuple[str, str], str]:
        """On a reused sandbox, the artifact paths (service, path) that could not be removed
        before the steps, each with why: what is there may be an earlier run's."""
        ...

    def incidents(self) -> list[Incident]:
        """What happened to the services since they were up: one stopped, ran out of memory,
        went over its disk limit, or was removed under the run."""
        ...

    def fault(self, *, read: bool = False) -> Incident | None:
        """The first incident that decides the run (verdict `error`): a limit of the sandbox,
        a service removed, or one stopped before any step. With `read`, the engine is asked
        now; otherwise what its last reading found."""
        ...

    def save_logs(self, folder: Path) -> None:
        """Each service's output into folder/<service>.log."""
        ...

    def endpoints(self) -> dict[str, list[Endpoint]]:
        """Where the host reaches each service's published ports (none unless published)."""
        ...

    def shell(self, service: str, argv: list[str], *, terminal: bool) -> list[str]:
        """The command line that runs `argv` (or an interactive shell when empty) in a
        service, for `poc shell` to become."""
        ...

    def down(self) -> list[str]:
        """Remove everything, whatever state it is in (a reused sandbox: only what this run
        added); what could not be removed. Safe to call twice, also at once."""
        ...


@runtime_checkable
class Reservation(Protocol):
    """A head start on one run: what the engine began making before the file was validated."""

    @property
    def run_id(self) -> str: ...

    def fits(self, plan: SandboxPlan) -> bool:
        """Whether the validated scenario is the one this head start guessed."""
        ...

    def discard(self) -> list[str]:
        """Remove what it made; what could not be removed."""
        ...


@runtime_checkable
class Engine(Protocol):
    """An engine that hosts sandboxes."""

    @property
    def address(self) -> str:
        """Where the engine is, in words (no request is made): one user's sandboxes left up
        are one per scenario and engine."""
        ...

    def describe(self) -> EngineInfo: ...

    def answers(self) -> bool:
        """Whether the engine answers right now (after a failed teardown: say why)."""
        ...

    def reserve(
        self, paths: Sequence[Path], *, keep: bool
    ) -> AbstractContextManager[dict[Path, Reservation]]:
        """Head starts for the runs of these files, for the `with` block (a run takes its own
        out of the dict); whatever is left at its end is discarded. An engine with nothing to
        gain yields an empty dict."""
        ...

    def sandbox(
        self,
        plan: SandboxPlan,
        run_id: str,
        *,
        options: SandboxOptions | None = None,
        on_event: OnEvent | None = None,
        reservation: Reservation | None = None,
    ) -> Sandbox:
        """A new sandbox for the plan (nothing is made before `up()`)."""
        ...

    def kept(
        self,
        plan: SandboxPlan,
        path: Path,
        *,
        on_event: OnEvent | None = None,
        checked: bool = True,
    ) -> Sandbox:
        """This user's sandbox of the scenario left up; with `checked`, refused (InvalidInput,
        naming what changed) when its services are no longer the scenario's."""
        ...

    def left_up(self, scenario: str, *, others_only: bool = False) -> set[str]:
        """The run ids of this user's sandboxes of the scenario left up (with `others_only`,
        not counting what this process made)."""
        ...

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
        """Remove what runs whose owner has ended left (and, as asked, sandboxes left up, the
        images poc-runner built, the data cache); never anything a live run uses."""
        ...

    def set_up(self, request: Request, on_event: OnEvent | None = None) -> list[Made]:
        """Make the images a sandbox needs on this engine (`poc setup`)."""
        ...


_UNDER_WAY = ("building", "pulling", "starting", "waiting")  # a service's statuses with a clock


def service_event(scenario: str, service: str, status: str) -> Event:
    """How a sandbox says what one of its services is doing; work under way shows a clock."""
    return Event(scenario, f"service {service}", status, active=status.startswith(_UNDER_WAY))


__all__ = [
    "Endpoint",
    "Engine",
    "EngineInfo",
    "Outcome",
    "Provisioned",
    "Reservation",
    "Sandbox",
    "SandboxAccess",
    "SandboxOptions",
    "Swept",
    "Targets",
    "service_event",
]
