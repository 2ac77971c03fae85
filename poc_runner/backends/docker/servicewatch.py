"""The service watch: a sandbox's services while the steps run, those that stop and what they
write (not `poc watch`, which is loop.py).

Once the services are up nothing else would notice one that dies: a run passed while its
service had been killed for lack of memory, and its timeline said "ready". So a watch asks
the engine about the run's service containers about once a second, and at every boundary
of the steps (`check`). A service that exits is an incident on record: the product stopped,
and the steps and checks that need it fail, saying so. A service killed for running out of
memory, or stopped here for writing more than its `resources.disk` to its own file system,
is a fault: the sandbox's limits, not the product, decided the outcome, so the run's verdict
is `error`, with a message naming the service and the limit. A service whose container is
removed under the run (`poc down` or `poc clean` of a sandbox a `--reuse` runs on, `docker rm`)
is a fault too, naming what removed it when a command of poc-runner noted it (sandbox/notes.py).

Docker sets no size on a container's writable layer (overlay2 on ext4 cannot), so the watch
reads each one's size (the engine's SizeRw) and kills a service the moment it is over its
limit; the space is given back as the sandbox is removed, right after. Between two readings
a service writes what the disk lets it in that time. Reading sizes costs the engine a walk of
the written files, so on a service that writes very many files the readings space out (ten
times as long as the last reading took, at least a second).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from datetime import datetime
from typing import TYPE_CHECKING

from poc_runner.backends.docker.health import tail
from poc_runner.backends.docker.objects import container_rows
from poc_runner.result import Incident, IncidentKind
from poc_runner.sandbox import labels
from poc_runner.sandbox.notes import removed_by
from poc_runner.units import size_text

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

INTERVAL = 1.0  # seconds between readings, at least
_REMOVED = ("removing", "dead")  # the engine's states of a container on its way out
_PATIENCE = 10  # readings space out to ten times as long as the last one took
_LOG_LINES = 10

Report = Callable[[Incident], None]


class ServiceWatch:
    """Incidents of one run's services, found by polling the engine in a thread of its own."""

    def __init__(
        self,
        client: docker.DockerClient,
        run_id: str,
        services: dict[str, Container],
        limits: dict[str, tuple[int, int]],  # service -> (memory, disk) in bytes
        started: float,  # time.time() when the run began: incidents are timed from it
        report: Report = lambda _incident: None,
        done: Collection[str] = (),  # jobs others waited to complete: their exit is no death
    ) -> None:
        self._client, self._run_id = client, run_id
        self._services = {c.id: name for name, c in services.items() if name not in done}
        self._containers = services
        self._limits, self._started, self._report = limits, started, report
        self._began = self._since_start(None)  # the services were up: the steps begin
        self.incidents: list[Incident] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name=f"watch-{run_id}", daemon=True)

    def start(self) -> ServiceWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        """No more readings, and a reading under way records nothing (before teardown, whose
        removals would read as deaths). Not waited for: teardown goes on at once."""
        self._stop.set()

    @property
    def fault(self) -> Incident | None:
        """The first incident that makes the verdict `error`, if any: a limit of the sandbox
        decided, or a service had stopped before the steps began (it never came up for them)."""
        return next((i for i in self.incidents if self._decides(i)), None)

    def _decides(self, incident: Incident) -> bool:
        return incident.kind is not IncidentKind.EXITED or incident.at_s <= self._began

    def about(self, service: str) -> Incident | None:
        return next((i for i in self.incidents if i.service == service), None)

    def _poll(self) -> None:
        pause = INTERVAL
        while not self._stop.wait(pause):
            began = time.monotonic()
            try:
                self.check(sizes=True)
            except Exception:  # an engine that stops answering is the run's to report
                return
            pause = max(INTERVAL, _PATIENCE * (time.monotonic() - began))

    def check(self, *, sizes: bool = False) -> None:
        """Read the services' states now (and, with `sizes`, what they wrote); record what
        happened since the last reading."""
        listing = container_rows(self._client, [f"{labels.RUN}={self._run_id}"], size=sizes)
        with self._lock:
            if self._stop.is_set():
                return
            found = {entry["Id"]: entry for entry in listing}
            for container_id, name in self._services.items():
                entry = found.get(container_id)
                if name in self._seen:
                    continue
                if entry is None or entry.get("State") in _REMOVED:
                    self._record(self._removal(name))
                elif entry.get("State") != "running":
                    self._record(self._death(name))
                elif sizes and (entry.get("SizeRw") or 0) > self._limits[name][1]:
                    self._record(self._overflow(name, int(entry["SizeRw"])))

    def _record(self, incident: Incident) -> None:
        self._seen.add(incident.service)
        self.incidents.append(incident)
        self._report(incident)

    def _death(self, name: str) -> Incident:
        container = self._containers[name]
        container.reload()
        state = container.attrs.get("State", {})
        code, oom = state.get("ExitCode"), bool(state.get("OOMKilled"))
        at = self._since_start(state.get("FinishedAt"))
        if oom:
            limit = size_text(self._limits[name][0])
            message = (
                f"service {name!r} was killed at {at:.1f} s: it ran out of memory (its limit is"
                f" {limit}, resources.memory). The sandbox's limit decided this run, not the"
                " product: raise the limit and run it again"
            )
            kind = IncidentKind.OUT_OF_MEMORY
        else:
            message = f"service {name!r} stopped at {at:.1f} s (exit code {code})"
            if at <= self._began:
                message += ", as the sandbox was being brought up, before any step"
            kind = IncidentKind.EXITED
        return Incident(name, kind, at, code, message, tail(container, _LOG_LINES))

    def _removal(self, name: str) -> Incident:
        """Its container is gone (or going) while the run uses it: something outside the run
        took the sandbox away, which decides nothing about the product."""
        at = self._since_start(None)
        by = removed_by(self._run_id) or (
            "something outside this run (`docker rm`, or `poc down` or `poc clean` run by"
            " another user or on another machine)"
        )
        message = (
            f"service {name!r} was removed at {at:.1f} s, under the run, by {by}. The sandbox"
            " was taken away, the product did not stop: this run proves nothing either way;"
            " run it again on a sandbox that stays up"
        )
        return Incident(name, IncidentKind.REMOVED, at, None, message, [])

    def _overflow(self, name: str, written: int) -> Incident:
        container = self._containers[name]
        container.kill()
        at = self._since_start(None)
        limit = size_text(self._limits[name][1])
        message = (
            f"service {name!r} wrote {size_text(written)} to its own file system, over its"
            f" limit of {limit} (resources.disk), so it was stopped at {at:.1f} s and its space"
            " given back. The sandbox's limit decided this run, not the product: raise the"
            " limit and run it again"
        )
        return Incident(
            name, IncidentKind.DISK_LIMIT, at, None, message, tail(container, _LOG_LINES)
        )

    def _since_start(self, finished: str | None) -> float:
        """Seconds from the run's start to the engine's time of death (now, if it gave none)."""
        moment = time.time()
        if finished and not finished.startswith("0001"):
            try:  # the engine writes nanoseconds; Python reads up to microseconds
                head, _, rest = finished.rstrip("Z").partition(".")
                moment = datetime.fromisoformat(f"{head}.{rest[:6] or '0'}+00:00").timestamp()
            except ValueError:
                pass
        return round(max(moment - self._started, 0.0), 3)
