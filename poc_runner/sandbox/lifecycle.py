"""One run's sandbox: brought up hardened and isolated, and always torn down (spec, "services").

Every object is recorded the moment it exists, so a failure halfway through start-up, Ctrl-C or
SIGTERM still removes everything. Removal is immediate (`remove(force=True)`): the sandbox is
disposable, so nothing waits out Docker's 10 s stop grace.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from poc_runner.engine import is_remote
from poc_runner.errors import InvalidInput, SandboxError, ServiceStopped
from poc_runner.interrupts import wait_all
from poc_runner.masking import SECRETS
from poc_runner.model import Scenario
from poc_runner.result import Incident, IncidentKind
from poc_runner.sandbox import labels as label
from poc_runner.sandbox.artifacts import clear
from poc_runner.sandbox.data import (
    FILL_AT,
    DataVolume,
    cache_use,
    checksums,
    data_plan,
    fill_volumes,
    mounts_for,
    plan_volumes,
    provide_volumes,
)
from poc_runner.sandbox.datacache import Pin
from poc_runner.sandbox.execute import Outcome, execute
from poc_runner.sandbox.forwarder import (
    bridge_of,
    create_forwarder,
    create_publishing_network,
    endpoints,
    forwards,
    start_forwarder,
)
from poc_runner.sandbox.forwarder import role as forwarder_role
from poc_runner.sandbox.hardening import confinement
from poc_runner.sandbox.health import last_logs, raise_if_stopped, wait_healthy
from poc_runner.sandbox.helpers import confined, create_helper
from poc_runner.sandbox.images import ensure_image, existing_image, image_healthcheck
from poc_runner.sandbox.netprobe import (
    Targets,
    create_reader,
    create_within,
    gateways,
    read_addresses,
)
from poc_runner.sandbox.network import (
    address_on,
    create_network,
    dns_names,
    placement,
    resolver,
)
from poc_runner.sandbox.portclash import holders
from poc_runner.sandbox.removal import remove_container, remove_quietly
from poc_runner.sandbox.reuse import DEFINITION, definition, find_kept, refresh, refused
from poc_runner.sandbox.startup import jobs, start_in_order
from poc_runner.sandbox.streams import Streams
from poc_runner.sandbox.volumes import RunVolumes, plan_mounts
from poc_runner.sandbox.watch import Watch

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container
    from docker.models.networks import Network

    from poc_runner.sandbox.headstart import HeadStart

Report = Callable[[str, str], None]  # (service, what is happening)
SETTLE_WITHIN = 1.0  # seconds a killed step's container may take to be seen going
T = TypeVar("T")


@dataclass
class Sandbox:
    client: docker.DockerClient
    scenario: Scenario
    folder: Path
    run_id: str
    kept: bool = False
    publish: bool = False  # `poc up`: publish the declared ports (publish_ports)
    report: Report = lambda _service, _status: None
    head: HeadStart | None = None  # the network and holders made while the file was validated
    containers: dict[str, Container] = field(default_factory=dict)
    forwarders: dict[str, Container] = field(default_factory=dict)  # service -> its forwarder
    networks: list[Network] = field(default_factory=list)
    volumes: list[DataVolume] = field(default_factory=list)
    mounted: RunVolumes | None = None  # Compose's volumes, configs and secrets (volumes.py)
    image_ids: dict[str, str] = field(default_factory=dict)
    data_sha256: dict[str, str] = field(default_factory=dict)
    data_cache: dict[str, str] = field(default_factory=dict)  # item -> cached | copied
    pins: list[Container] = field(default_factory=list)  # hold the data cache entries it mounts
    ready_at: dict[str, tuple[float, float]] = field(default_factory=dict)  # start, ready
    # (service, artifact path) -> why it could not be removed before a reused run's steps
    uncleared: dict[tuple[str, str], str] = field(default_factory=dict)
    deadline: float | None = None  # time.monotonic() at which sandbox.timeout runs out
    watching: Watch | None = None  # once the services are up (`watch`)
    reusing: bool = False  # a sandbox left up, run again (`reused`)
    streams: Streams = field(default_factory=Streams)  # builds and pulls in progress
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _teardown: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _probe_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _probe: Container | None = None
    _within: dict[str, Container] = field(default_factory=dict)  # netns helpers, by service
    _targets: Targets | None = None
    _closed: bool = False

    def __hash__(self) -> int:
        return id(self)

    def _adopt(self, thing: T, remove: Callable[[T], object]) -> T:
        """Record a new object, unless teardown already ran (Ctrl-C during start-up): then it
        is removed at once instead of being left behind."""
        with self._guard:
            if not self._closed:
                return thing
        remove_quietly(str(thing), lambda: remove(thing))
        raise SandboxError("the sandbox was torn down while it was being built")

    @property
    def labels(self) -> dict[str, str]:
        return label.run_labels(self.run_id, self.scenario.name, kept=self.kept)

    @property
    def prefix(self) -> str:
        return label.name_prefix(self.run_id)

    def up(self) -> None:
        """Network, images, data, containers, then start in dependency order; everything that
        does not wait on something else happens at the same time (see `_Provisioning`). A
        reused sandbox is up already: only its data is brought up to date."""
        if self.reusing:
            self._refresh()
            return
        self.volumes = plan_volumes(self.scenario, self.folder)
        plan = plan_mounts(self.scenario, self.folder, self.prefix)
        self.mounted = RunVolumes(self.client, plan, self.labels)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="setup") as background:
            provisioning = _Provisioning(self, background)
            start_in_order(
                self.scenario,
                self._start,
                self._wait_healthy,
                prepare=provisioning.prepare,
                wait_completed=self._wait_completed,
            )
            provisioning.data_filled()
        done = jobs(self.scenario)
        for name, container in self.containers.items():
            if name not in done:
                self.ensure_running(name, container)
        if self.publish:
            self.publish_ports()

    def _create_networks(self) -> None:
        made = self.head.network_made() if self.head is not None else None
        if made is not None:
            self.networks.append(self._adopt(made, lambda n: n.remove()))
            return
        kind = self.scenario.sandbox.network
        network = create_network(self.client, f"{self.prefix}-net", kind, self.labels)
        self.networks.append(self._adopt(network, lambda n: n.remove()))

    def publish_ports(self) -> None:
        """Publish every declared port on 127.0.0.1, through a forwarder per service
        (forwarder.py); the services themselves stay on the run's network alone. `up` calls
        it once every service is up (healthy, where it has a healthcheck), so an endpoint
        shown leads to a service that is ready, and a failed start-up publishes nothing."""
        published = [name for name, service in self.scenario.services.items() if service.ports]
        if not published:
            return
        network = create_publishing_network(self.client, f"{self.prefix}_ports", self.labels)
        self.networks.append(self._adopt(network, lambda n: n.remove()))
        publishing = (str(network.name), bridge_of(network))
        with ThreadPoolExecutor(max_workers=len(published), thread_name_prefix="ports") as pool:
            started = [pool.submit(self._forward, name, *publishing) for name in published]
            wait_all(started)
        for future in started:
            future.result()

    def _forward(self, name: str, publishing: str, bridge: str) -> None:
        ports = forwards(self.scenario.services[name].ports)
        target = address_on(self.client, self.containers[name], str(self.networks[0].name))
        forwarder = create_forwarder(
            self.client,
            target,
            ports,
            publishing=publishing,
            bridge=bridge,
            name=f"{self.prefix}_ports-{name}",
            labels={
                **self.labels,
                label.SERVICE: forwarder_role(name),
                label.FOLDER: str(self.folder.resolve()),  # what `poc down` frees its ports
            },
        )
        self.forwarders[name] = self._adopt(forwarder, remove_container)  # before it starts
        try:
            start_forwarder(forwarder, self.networks[0], name)
        except SandboxError as exc:
            held = holders(self.client, ports, self.run_id)
            raise SandboxError(f"{exc}; {held}" if held else str(exc)) from None

    def endpoints(self, name: str) -> list[str]:
        """Where the host reaches a service's published ports (none without a forwarder); on
        a remote engine they are on that machine's 127.0.0.1 (`ssh -L` brings one here)."""
        forwarder = self.forwarders.get(name)
        ports = self.scenario.services[name].ports
        found = [] if forwarder is None else endpoints(forwarder, forwards(ports))
        return (
            [f"{where} on the engine's machine" for where in found]
            if is_remote(self.client)
            else found
        )

    def _fill_data(self, image: str) -> None:
        """The data volumes: from the data cache, or (a sandbox left up, which `--reuse` fills
        again in place) of the run's own."""
        if self.kept:
            digests = fill_volumes(
                self.client, self.volumes, image, self.labels, self.prefix, self._was_cut
            )
        else:
            holder = {**self.labels, label.SERVICE: "(data)"}
            pin = Pin(image, f"{self.prefix}_data", holder, FILL_AT)
            digests = provide_volumes(self.client, self.volumes, pin, self._pin, self._was_cut)
        self._adopt(self.volumes, self._remove_volumes)
        self.data_sha256 = checksums(self.scenario, digests)
        self.data_cache = cache_use(self.scenario, self.folder, self.volumes)

    def _was_cut(self) -> bool:
        """Whether teardown began: a data copy in progress stops at its next chunk."""
        return self.streams.cut

    def _pin(self, container: Container) -> Container:
        self.pins.append(self._adopt(container, remove_container))
        return container

    def _create(self, name: str) -> Container:
        import docker

        service = self.scenario.services[name]
        try:
            return self.client.containers.create(
                self.image_ids[name],
                name=f"{self.prefix}-{name}",
                command=service.command,
                entrypoint=service.entrypoint,
                working_dir=service.working_dir,
                user=service.user,
                environment=service.env,
                labels={
                    **service.label_map,
                    **self.labels,
                    label.SERVICE: name,
                    DEFINITION: self.fingerprint(name),
                },
                mounts=[*mounts_for(name, self.volumes), *self._mounted().mounts(name)],
                **confinement(service),
                **self._place(name),
            )
        except docker.errors.APIError as exc:
            raise SandboxError(
                f"service {name!r} could not be created: {exc.explanation or exc}"
            ) from None

    def fingerprint(self, name: str, image: str | None = None) -> str:
        """What the service's container is made from (see reuse.py)."""
        plan = data_plan(name, self.volumes)
        return definition(self.scenario.services[name], plan, image or self.image_ids[name])

    @classmethod
    def reused(
        cls, client: docker.DockerClient, scenario: Scenario, path: Path, report: Report
    ) -> Sandbox:
        """The sandbox `poc up` (or `poc run --keep`) left up for this scenario, checked to be
        still the scenario's; `up` then only brings its data up to date (reuse.py)."""
        kept = find_kept(client, scenario, str(path))
        sandbox = cls(client, scenario, path.parent, kept.run_id, kept=True, report=report)
        sandbox.reusing = True
        sandbox.volumes = plan_volumes(scenario, path.parent)
        for index, volume in enumerate(sandbox.volumes):
            volume.name = f"{sandbox.prefix}-data{index}"
        images = {
            name: existing_image(client, scenario, name, path.parent) for name in scenario.services
        }
        fingerprints = {
            name: sandbox.fingerprint(name, images[name] or "(none)") for name in images
        }
        if (problem := refused(kept, fingerprints, str(path))) is not None:
            raise InvalidInput(problem)
        sandbox.containers, sandbox.networks = dict(kept.containers), [kept.network]
        sandbox.forwarders = dict(kept.forwarders)
        sandbox.image_ids = {name: image or "" for name, image in images.items()}
        return sandbox

    def _refresh(self) -> None:
        """A reused sandbox: its services still running (a job others waited for completed
        at `poc up`, and is not run again), its data as the scenario's now."""
        done = jobs(self.scenario)
        for name, container in self.containers.items():
            if name not in done:
                self.ensure_running(name, container)
        digests = refresh(self.client, self.volumes, self.labels, self.prefix, self._was_cut)
        self.data_sha256 = checksums(self.scenario, digests)
        self._clear_artifacts()

    def _clear_artifacts(self) -> None:
        """Remove what earlier runs left at the steps' artifact paths (artifacts.clear)."""
        paths: dict[str, list[str]] = {}
        for step in self.scenario.steps:
            paths.setdefault(step.service, []).extend(step.artifacts)
        for service, declared in paths.items():
            left = clear(self.containers[service], sorted(set(declared)))
            self.uncleared |= {(service, path): why for path, why in left.items()}

    def _place(self, name: str) -> dict[str, Any]:
        """The service's place on the network: its holder's, when it has one."""
        if (holder := self._holder(name)) is not None:
            return {"network_mode": f"container:{holder.id}"}
        network, kind = str(self.networks[0].name), self.scenario.sandbox.network
        names, hostname = dns_names(self.scenario, name), self.scenario.services[name].hostname
        return placement(self.client, network, name, kind, names, hostname)

    def _mounted(self) -> RunVolumes:
        assert self.mounted is not None  # made by `up`
        return self.mounted

    def _holder(self, name: str) -> Container | None:
        """The service's holder from the head start (waiting until it runs), if it has one;
        the head start keeps track of it, and teardown removes it from there."""
        return None if self.head is None else self.head.holder(name)

    def _start(self, name: str) -> None:
        import docker

        container = self.containers[name]
        self.report(name, "starting")
        self.ready_at[name] = (time.monotonic(), time.monotonic())
        try:
            container.start()
        except docker.errors.APIError as exc:
            raise SandboxError(
                f"service {name!r} could not start: {exc.explanation or exc}"
            ) from None
        self.ready_at[name] = (self.ready_at[name][0], time.monotonic())
        self.report(name, "started")

    def _wait_healthy(self, name: str) -> None:
        check = self.scenario.services[name].healthcheck
        assert check is not None
        if check.from_image:
            check = image_healthcheck(self.client, self.image_ids[name], name, check)
        self.report(name, "waiting to be healthy")
        report = partial(self.report, name)
        waited = wait_healthy(self.containers[name], name, check, report)
        self.ready_at[name] = (self.ready_at[name][0], time.monotonic())
        self.report(name, f"healthy after {waited:.1f} s")

    def _wait_completed(self, name: str) -> None:
        """A job others wait for: it must exit with code 0 (`service_completed_successfully`)."""
        import requests

        container = self.containers[name]
        self.report(name, "running to completion")
        try:
            left = self.remaining()  # `poc up` has no deadline: wait as long as it takes
            code = container.wait(timeout=None if math.isinf(left) else max(left, 1.0))[
                "StatusCode"
            ]
        except requests.exceptions.Timeout:  # the wait outlasted the run's timeout
            raise SandboxError(
                f"service {name!r} did not complete within the run's sandbox.timeout; the"
                " services that wait for it were never started" + last_logs(container, 20)
            ) from None
        self.ready_at[name] = (self.ready_at[name][0], time.monotonic())
        if code != 0:
            raise SandboxError(
                f"service {name!r} exited with code {code}, and the services that wait for it to"
                " complete successfully were never started" + last_logs(container, 20)
            )
        self.report(name, "completed")

    def ensure_running(self, name: str, container: Container | None = None) -> Container:
        """The service's container, or ServiceStopped saying why: with its last logs during
        start-up; once watched, what the watch found (it exited, ran out of memory, ...)."""
        container = container or self.containers[name]
        if self.watching is None:
            raise_if_stopped(container, name)
            return container
        self.watching.check()
        incident = self.watching.about(name)
        if incident is not None:
            raise ServiceStopped(incident.message)
        return container

    def watch(self, started: float) -> None:
        """From now on (the services are up), watch them: deaths and disk use (watch.py)."""
        resources = {name: self.scenario.services[name].limits for name in self.containers}
        limits = {name: (given.memory, given.disk) for name, given in resources.items()}
        self.watching = Watch(
            self.client,
            self.run_id,
            dict(self.containers),
            limits,
            started,
            report=lambda incident: self.report(incident.service, incident.status),
            done=jobs(self.scenario),
        ).start()

    def settle(self, name: str, within: float = SETTLE_WITHIN) -> None:
        """Wait, briefly, until the engine says the service's container is running or is not
        there any more. A step killed outright (SIGKILL) may have gone with its container
        (`poc down` of the sandbox under a `--reuse`, a kill through the engine), which the
        engine shows a moment after the step has ended; the next reading then sees it."""
        import docker

        deadline = time.monotonic() + within
        container = self.containers[name]
        while time.monotonic() < deadline:
            try:
                container.reload()
            except docker.errors.NotFound:
                return
            if container.status != "running":
                return
            time.sleep(0.05)

    def checkpoint(self, *, read: bool = False) -> None:
        """A fault the watch found (out of memory, over the disk limit) ends the run here, as a
        sandbox error. Between steps what its last reading found is enough (a service that
        died since fails the next step that needs it); with `read`, once the steps are done,
        the engine is asked again, so no fault escapes the verdict."""
        if self.watching is None:
            return
        if read:
            self.watching.check()
        fault = self.watching.fault
        if fault is not None:
            raise SandboxError(fault.message)

    @property
    def incidents(self) -> list[Incident]:
        return list(self.watching.incidents) if self.watching else []

    @property
    def taken_away(self) -> bool:
        """Whether something outside the run removed a service of it (watch.py)."""
        return any(incident.kind is IncidentKind.REMOVED for incident in self.incidents)

    def exec(
        self,
        service: str,
        argv: list[str],
        timeout: float,
        environment: dict[str, str] | None = None,
    ) -> Outcome:
        """Run a command in a service (checks use this: sql clients, custom check scripts)."""
        container = self.ensure_running(service)
        return execute(container, argv, timeout=self.time_left(timeout), environment=environment)

    def remaining(self) -> float:
        """Seconds until the run's `sandbox.timeout` (negative once it has passed)."""
        return math.inf if self.deadline is None else self.deadline - time.monotonic()

    def time_left(self, limit: float) -> float:
        """`limit`, cut short so nothing runs past the run's `sandbox.timeout`."""
        return max(min(limit, self.remaining()), 0.1)

    def probe(self, argv: list[str], timeout: float) -> Outcome:
        """Run a command from inside the run's network, in a small helper container made on
        first use: `http` checks are sent from there, never from the host."""
        with self._probe_lock:
            container = self._probe or self._create_probe()
        return execute(container, argv, timeout=self.time_left(timeout))

    def _create_probe(self) -> Container:
        container = self._adopt(
            create_helper(
                self.client,
                "checks that reach services over the network",
                ["sleep", "infinity"],
                # '_': a service may be called "probe"; none on a reused sandbox, whose next
                # run makes its own (a killed run's probe would hold the name)
                name=None if self.reusing else f"{self.prefix}_probe",
                labels={**self.labels, label.SERVICE: "(probe)"},
                network=self.networks[0].name,
                init=True,
                **confined(memory="128m", pids=64),
                **resolver(self.scenario.sandbox.network),
            ),
            remove_container,
        )
        self._probe = container  # recorded before it starts, so teardown removes it
        container.start()
        return container

    def probe_within(self, service: str, argv: list[str], timeout: float) -> Outcome:
        """Run a command in a helper that shares a service's network namespace (the isolation
        check looks from there), made on first use and removed with the sandbox."""
        container = self.ensure_running(service)
        with self._probe_lock:
            helper = self._within.get(service)
            if helper is None:  # no name: a reused sandbox's next run makes its own
                labels = {**self.labels, label.SERVICE: f"(netns of {service})"}
                helper = self._adopt(
                    create_within(self.client, container, None, labels), remove_container
                )
                self._within[service] = helper  # recorded before it starts: teardown removes it
                helper.start()
        return execute(helper, argv, timeout=self.time_left(timeout))

    def isolation_targets(self) -> Targets:
        """The host's addresses (read on the engine's host, nothing sent) and the gateways of
        the sandbox's network."""
        with self._probe_lock:
            if self._targets is None:
                labels = {**self.labels, label.SERVICE: "(host addresses)"}
                reader = self._adopt(create_reader(self.client, None, labels), remove_container)
                self._within["(host addresses)"] = reader
                try:
                    reader.start()
                    found = read_addresses(reader)
                finally:
                    del self._within["(host addresses)"]
                    remove_quietly(reader.name, partial(remove_container, reader))
                self._targets = Targets(found, gateways(self.networks[0]))
            return self._targets

    def save_logs(self, folder: Path) -> None:
        """Each service's output into logs/<service>.log (the engine caps it at LOG_MAX_SIZE)."""
        folder.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="logs") as pool:
            for name, container in self.containers.items():
                pool.submit(_save_log, container, folder / f"{name}.log")

    def down(self) -> list[str]:
        """Remove everything, whatever state it is in; returns what could not be removed.

        Safe to call twice at once (the run's worker and the Ctrl-C handler both do): the
        second call waits for the first and finds nothing left to remove."""
        with self._teardown:
            return self._remove_everything()

    def _remove_everything(self) -> list[str]:
        with self._guard:
            self._closed = True
        self.streams.cut_all()  # builds and pulls in progress end now, not when they are done
        if self.watching is not None:  # removals are not deaths
            self.watching.stop()
        if self.reusing:  # left up as it was found, interrupted or not: this run's helpers go
            probe = [self._probe] if self._probe else []
            helpers, self._within, self._probe = [*self._within.values(), *probe], {}, None
            problems = [remove_quietly(h.name, partial(remove_container, h)) for h in helpers]
            return [problem for problem in problems if problem]
        holders: list[Container] = []
        if self.head is not None:  # what it made, whether or not start-up took it yet
            network, holders = self.head.made()
            if network is not None and network not in self.networks:
                self.networks.append(network)
        probe = [self._probe] if self._probe else []
        containers = [
            *self._within.values(),  # helpers first: they share the services' namespaces
            *self.containers.values(),
            *self.forwarders.values(),
            *holders,
            *probe,
            *self.pins,
        ]
        self._probe = None
        self._within = {}
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="down") as pool:
            problems = list(
                pool.map(lambda c: remove_quietly(c.name, partial(remove_container, c)), containers)
            )
            # what the containers used goes next, all at once
            removals = [(n.name, n.remove) for n in self.networks]
            removals += self._volume_removals(self.volumes)
            made = self.mounted.close() if self.mounted else []
            api = self.client.api
            removals += [(v, partial(api.remove_volume, v, force=True)) for v in made]
            problems += list(pool.map(lambda pair: remove_quietly(*pair), removals))
        self.containers.clear()
        self.forwarders.clear()
        self.networks.clear()
        self.pins.clear()
        self.volumes = []
        return [problem for problem in problems if problem]

    def _remove_volumes(self, volumes: list[DataVolume]) -> list[str | None]:
        return [remove_quietly(*removal) for removal in self._volume_removals(volumes)]

    def _volume_removals(self, volumes: list[DataVolume]) -> list[tuple[str, Callable[[], object]]]:
        """The run's own data volumes; data cache entries outlive it (datacache.py)."""
        api = self.client.api
        return [
            (v.name, partial(api.remove_volume, v.name, force=True))
            for v in volumes
            if v.name and not v.shared
        ]


class _Provisioning:
    """What the services' start-up threads share: the network, made once in the background, and
    the data volumes, filled in the background with the first image that is ready (filling
    needs an image to create its container from). A service waits only for what it uses."""

    def __init__(self, sandbox: Sandbox, background: ThreadPoolExecutor) -> None:
        self.sandbox = sandbox
        self.background = background
        self.network: Future[None] = background.submit(sandbox._create_networks)
        self.data: Future[None] | None = None
        self.lock = threading.Lock()

    def prepare(self, name: str) -> None:
        sandbox = self.sandbox
        with sandbox.streams.open(sandbox.client):  # a teardown cuts a build short
            image = ensure_image(
                sandbox.client, sandbox.scenario, name, sandbox.folder, sandbox.report
            )
        sandbox.image_ids[name] = image
        data = self._filling(image)
        self.network.result()
        if any(name in volume.services for volume in sandbox.volumes):
            data.result()
        sandbox._mounted().ready_for(name, image)
        sandbox.containers[name] = sandbox._adopt(sandbox._create(name), remove_container)

    def _filling(self, image: str) -> Future[None]:
        with self.lock:
            if self.data is None:
                self.data = self.background.submit(self.sandbox._fill_data, image)
            return self.data

    def data_filled(self) -> None:
        """Wait for the data (and surface its errors) even if no service needed it."""
        self.network.result()
        if self.data is not None:
            self.data.result()


def _save_log(container: Container, path: Path) -> None:
    try:
        masker = SECRETS.stream()
        with path.open("wb") as log:
            for chunk in container.logs(stream=True, follow=False):
                log.write(masker.feed(chunk))
            log.write(masker.flush())
    except Exception as exc:  # a missing log must not hide the run's real outcome
        path.write_text(f"[poc-runner: logs unavailable: {exc}]\n")
