"""A head start: the engine sets up while Python validates.

Validation imports pydantic and builds the scenario models: about 0.3 s of CPU during which the
Docker engine would sit idle. So `poc run` first reads each file's raw YAML (no models), and
asks the engine at once for what that run will need: its network, and a network holder for
each service that waits on another's health (backends/docker/holder.py). The engine makes them while
the file is validated, and such a service then starts in about 0.1 s instead of 0.3 s once
what it waits for is healthy. Holders for the other services were tried too: the engine had
no CPU to spare for them while Python imported (two cores), so they gained nothing measurable
and doubled the containers.

A head start is a guess from the raw file, taken only if the validated scenario agrees (same
name, network and waiting services; `${VAR}` in any of them means no head start). Otherwise,
and when the file is invalid or the run is interrupted, what it made is removed before anything
else happens. Its objects carry the run's labels, this process as their owner among them, so
no sweep takes them for a dead run's; after a SIGKILL, `poc clean` finds them. A head start
that fails is no error: the run then sets up as usual and reports what goes wrong there.

Nothing here imports pydantic or the models: the point is to run before they load.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poc_runner.backends.docker.holder import create_holder
from poc_runner.backends.docker.network import Kind, create_network, placement
from poc_runner.backends.docker.objects import remove_container, remove_quietly
from poc_runner.interrupts import interrupts_noted, signals_ignored
from poc_runner.loader import LoadError, parse, read_text
from poc_runner.sandbox import labels as label
from poc_runner.sandbox.startup import waits_on_health

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container
    from docker.models.networks import Network

    from poc_runner.plan import SandboxPlan


@dataclass(frozen=True)
class Draft:
    """What a raw scenario file says about the objects a head start makes."""

    name: str
    network: Kind
    waiting: tuple[str, ...]  # services that wait on another's health

    @classmethod
    def of(cls, plan: SandboxPlan) -> Draft:
        """What the validated scenario says, to hold against the guess from the raw file."""
        waiting = (
            name
            for name, service in plan.services.items()
            if _waits(service) and not service.aliases and not service.hostname
        )
        return cls(plan.name, plan.network, tuple(waiting))


def draft_of(path: Path) -> Draft | None:
    """The draft of a file, or None when its raw YAML does not say plainly."""
    try:
        data = parse(read_text(path)).data
    except LoadError:
        return None
    if not isinstance(data, dict):
        return None
    name, sandbox, services = data.get("name"), data.get("sandbox", {}), data.get("services", {})
    network = sandbox.get("network", "isolated") if isinstance(sandbox, dict) else None
    if not (_plain(name) and network in ("isolated", "egress") and isinstance(services, dict)):
        return None
    if "compose" in data or any(_composes(spec) for spec in services.values()):
        return None  # its services are known once merged: no guess
    waiting = tuple(
        str(service)
        for service, spec in services.items()
        if _waits(spec) and not _OWN_NAMES & set(spec)
    )
    if not all(_plain(service) for service in waiting):
        return None
    return Draft(str(name), network, waiting)


_OWN_NAMES = frozenset({"container_name", "hostname", "networks"})  # a holder has no such names


def _composes(spec: Any) -> bool:
    """Services whose names or fields come from elsewhere: links, extends."""
    return isinstance(spec, dict) and ("links" in spec or "extends" in spec)


def _plain(value: Any) -> bool:
    return isinstance(value, str) and "${" not in value and value != ""


def _waits(service: Any) -> bool:
    """Whether a service, raw or validated, waits on another's health."""
    raw = isinstance(service, dict)
    return waits_on_health(service.get("depends_on") if raw else service.depends_on)


@contextmanager
def head_starts(
    client: Callable[[], docker.DockerClient | None], paths: Sequence[Path], *, keep: bool
) -> Iterator[dict[Path, HeadStart]]:
    """Head starts for these files, for the `with` block, in which a run takes its own out of
    the dict. Whatever is left at the end is removed, however the block ends. Meanwhile Ctrl-C
    and SIGTERM are only noted, and raised where it is safe (see interrupts.py): the block
    imports and validates, which a KeyboardInterrupt could leave half done."""
    with interrupts_noted():
        started = _begin(client, paths, keep=keep)
        try:
            yield started
        finally:
            with signals_ignored():
                while started:
                    started.popitem()[1].discard()


def _begin(
    connect: Callable[[], docker.DockerClient | None], paths: Sequence[Path], *, keep: bool
) -> dict[Path, HeadStart]:
    """Head starts for the files whose draft is plain; none when no engine answers (`connect`
    gives no client)."""
    drafts = {path: draft for path in paths if (draft := draft_of(path)) is not None}
    if not drafts or (client := connect()) is None:
        return {}
    return {
        path: HeadStart(client, draft, label.new_run_id(), keep) for path, draft in drafts.items()
    }


@dataclass(eq=False)
class HeadStart:
    """The network and holders of one run, made in a background thread from its draft."""

    client: docker.DockerClient
    draft: Draft
    run_id: str
    kept: bool
    network: Future[Network] = field(init=False, default_factory=Future)
    holders: dict[str, Future[Container | None]] = field(init=False, default_factory=dict)
    _created: dict[str, Container] = field(init=False, default_factory=dict)  # started or not
    _closed: threading.Event = field(init=False, default_factory=threading.Event)
    _guard: threading.Lock = field(init=False, default_factory=threading.Lock)
    _thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.holders = {service: Future() for service in self.draft.waiting}
        self._thread = threading.Thread(target=self._make, name="head-start", daemon=True)
        self._thread.start()

    @property
    def prefix(self) -> str:
        return label.name_prefix(self.run_id)

    def fits(self, plan: SandboxPlan) -> bool:
        """Whether the validated scenario is the one this head start guessed."""
        return self.draft == Draft.of(plan)

    def _make(self) -> None:
        labels = label.run_labels(self.run_id, self.draft.name, kept=self.kept)
        try:
            network = create_network(self.client, f"{self.prefix}-net", self.draft.network, labels)
        except Exception as exc:
            self.network.set_exception(exc)
            self._settle_holders()
            return
        self.network.set_result(network)
        with ThreadPoolExecutor(min(len(self.holders), 4) or 1, "head-start") as pool:
            for service, future in self.holders.items():
                pool.submit(self._hold, service, future, labels)
        self._settle_holders()

    def _hold(self, service: str, future: Future[Container | None], labels: dict[str, str]) -> None:
        future.set_result(None if self._closed.is_set() else self._holder(service, labels))

    def _holder(self, service: str, labels: dict[str, str]) -> Container | None:
        """A started holder, or None (no pause image for this engine, or it failed): the
        service then joins the network itself."""
        network = self.network.result()
        options = {
            **placement(self.client, str(network.name), service, self.draft.network),
            "labels": {**labels, label.SERVICE: f"({service})"},
        }
        try:
            holder = create_holder(self.client, f"{self.prefix}_network-{service}", options)
            if holder is None:
                return None
            with self._guard:
                self._created[service] = holder
            holder.start()
        except Exception:
            return None
        return holder

    def _settle_holders(self) -> None:
        for future in self.holders.values():
            if not future.done():
                future.set_result(None)

    def network_made(self) -> Network | None:
        """The run's network, once made; None if making it failed (the run makes its own)."""
        return None if self.network.exception() else self.network.result()

    def holder(self, service: str) -> Container | None:
        """The service's started holder, once ready; None if it has none."""
        future = self.holders.get(service)
        return None if future is None else future.result()

    def made(self) -> tuple[Network | None, list[Container]]:
        """Everything made, once the background thread is done: the network (if any) and
        every holder, started or not. What a teardown removes."""
        self._thread.join()
        return self.network_made(), list(self._created.values())

    def discard(self) -> list[str]:
        """Remove everything this head start made; returns what could not be removed."""
        self._closed.set()
        network, holders = self.made()
        removals = [(str(h.name), partial(remove_container, h)) for h in holders]
        problems = [remove_quietly(*removal) for removal in removals]
        if network is not None:  # after the holders: it cannot go while they are attached
            problems.append(remove_quietly(str(network.name), network.remove))
        self._created.clear()
        return [problem for problem in problems if problem]
