"""One run's sandbox on a Docker engine: brought up hardened and isolated as its plan says, and
always torn down (spec, "services"). It implements backend.Sandbox.

Every object is recorded the moment it exists, so a failure halfway through start-up, Ctrl-C or
SIGTERM still removes everything. Removal is immediate (`remove(force=True)`): the sandbox is
disposable, so nothing waits out Docker's 10 s stop grace.
"""

from __future__ import annotations

import math
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from poc_runner.backend import (
    Endpoint,
    Outcome,
    Provisioned,
    SandboxOptions,
    Targets,
    service_event,
)
from poc_runner.backends.docker.artifacts import clear, collect
from poc_runner.backends.docker.client import is_remote
from poc_runner.backends.docker.data import fill_volumes, mounts_for, provide_volumes
from poc_runner.backends.docker.datacache import Pin
from poc_runner.backends.docker.execute import execute
from poc_runner.backends.docker.forwarder import (
    bridge_of,
    create_forwarder,
    create_publishing_network,
    endpoints,
    forwards,
    start_forwarder,
)
from poc_runner.backends.docker.forwarder import role as forwarder_role
from poc_runner.backends.docker.hardening import confinement
from poc_runner.backends.docker.health import last_logs, raise_if_stopped, wait_healthy
from poc_runner.backends.docker.helpers import confined, create_helper
from poc_runner.backends.docker.images import ensure_image, existing_image, image_healthcheck
from poc_runner.backends.docker.netprobe import (
    create_reader,
    create_within,
    gateways,
    lookup_leaks,
    read_host,
)
from poc_runner.backends.docker.network import address_on, create_network, placement, resolver
from poc_runner.backends.docker.objects import (
    create_container,
    remove_container,
    remove_quietly,
    remove_volume,
)
from poc_runner.backends.docker.portclash import holders
from poc_runner.backends.docker.reuse import DEFINITION, find_kept, refresh
from poc_runner.backends.docker.servicewatch import ServiceWatch
from poc_runner.backends.docker.streams import Streams
from poc_runner.backends.docker.volumes import RunVolumes
from poc_runner.errors import InvalidInput, SandboxError, ServiceStopped
from poc_runner.events import OnEvent, ignore
from poc_runner.interrupts import wait_all
from poc_runner.masking import SECRETS
from poc_runner.plan import refusal
from poc_runner.result import Incident
from poc_runner.sandbox import labels as label
from poc_runner.sandbox.capture import Capture
from poc_runner.sandbox.dataplan import DataVolume, cache_use, checksums
from poc_runner.sandbox.startup import start_in_order
from poc_runner.sandbox.volumeplan import FILL_AT

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container
    from docker.models.networks import Network

    from poc_runner.backends.docker.headstart import HeadStart
    from poc_runner.model import Scenario
    from poc_runner.plan import SandboxPlan

SETTLE_WITHIN = 1.0  # seconds a killed command's container may take to be seen going
KILLED = 128 + 9  # the exit code of a command SIGKILL ended
T = TypeVar("T")


class DockerSandbox:
    """One run's containers, networks and volumes on a Docker engine."""

    def __init__(
        self,
        client: docker.DockerClient,
        plan: SandboxPlan,
        run_id: str,
        *,
        options: SandboxOptions | None = None,
        on_event: OnEvent | None = None,
        head: HeadStart | None = None,
    ) -> None:
        self.client, self.plan, self._run_id = client, plan, run_id
        self.options = options or SandboxOptions()
        self._on_event = on_event or ignore
        self.head = head  # the network and holders made while the file was validated
        self.path: Path | None = None  # the scenario file of a sandbox left up, run again
        self.containers: dict[str, Container] = {}
        self.forwarders: dict[str, Container] = {}  # service -> what publishes its ports
        self.networks: list[Network] = []
        # the plan's data volumes, copies of our own: filling them names them
        self.volumes: list[DataVolume] = [_copy(volume) for volume in plan.data]
        self.mounted: RunVolumes | None = None  # Compose's volumes, configs and secrets
        self.image_ids: dict[str, str] = {}
        self.data_sha256: dict[str, str] = {}
        self.data_cache: dict[str, str] = {}  # item -> cached | copied
        self.pins: list[Container] = []  # hold the data cache entries it mounts
        self.ready_at: dict[str, tuple[float, float]] = {}  # service -> started, ready
        # (service, artifact path) -> why it could not be removed before a reused run's steps
        self._uncleared: dict[tuple[str, str], str] = {}
        self.watching: ServiceWatch | None = None  # once the services are up
        self.streams = Streams()  # builds and pulls in progress
        self._guard = threading.Lock()
        self._teardown = threading.Lock()
        self._probe_lock = threading.Lock()
        self._probe: Container | None = None
        self._within: dict[str, Container] = {}  # netns helpers, by service
        self._targets: Targets | None = None
        self._closed = False
        self._deadline: float | None = None  # time.monotonic() when sandbox.timeout runs out
        self._began = 0.0  # time.time() its incidents are timed from (SandboxOptions.started)

    @property
    def scenario(self) -> Scenario:
        return self.plan.scenario

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def reused(self) -> bool:
        return self.path is not None  # found by `kept`

    @property
    def kept(self) -> bool:
        return self.options.keep

    @property
    def labels(self) -> dict[str, str]:
        return label.run_labels(self.run_id, self.plan.name, kept=self.kept)

    @property
    def prefix(self) -> str:
        return label.name_prefix(self.run_id)

    def _report(self, service: str, status: str) -> None:
        self._on_event(service_event(self.plan.name, service, status))

    def _adopt(self, thing: T, remove: Callable[[T], object]) -> T:
        """Record a new object, unless teardown already ran (Ctrl-C during start-up): then it
        is removed at once instead of being left behind."""
        with self._guard:
            if not self._closed:
                return thing
        remove_quietly(str(thing), lambda: remove(thing))
        raise SandboxError("the sandbox was torn down while it was being built")

    # -- up ------------------------------------------------------------------------------------

    def up(self) -> Provisioned:
        """Network, images, data, containers, then start in dependency order; everything that
        does not wait on something else happens at the same time (see `_Provisioning`). A
        reused sandbox is up already: only its data is brought up to date. Then the services
        are watched (servicewatch.py) unless the sandbox is only left up (`poc up`). The run's
        `sandbox.timeout` counts from here."""
        self._began = self.options.started or time.time()
        if self.options.timed:
            self._deadline = time.monotonic() + self.plan.timeout
        if self.reused:
            self._refresh()
        else:
            self._bring_up()
        if self.options.watch:
            self._watch()
        return self.made()

    def made(self) -> Provisioned:
        return Provisioned(
            images=dict(self.image_ids),
            data_sha256=dict(self.data_sha256),
            data_cache=dict(self.data_cache),
            ready_at=dict(self.ready_at),
        )

    def _bring_up(self) -> None:
        self.mounted = RunVolumes(self.client, self.plan.volumes, self.labels, self.prefix)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="setup") as background:
            provisioning = _Provisioning(self, background)
            start_in_order(
                self.plan,
                self._start,
                self._wait_healthy,
                prepare=provisioning.prepare,
                wait_completed=self._wait_completed,
            )
            provisioning.data_filled()
        self._still_running()
        if self.options.publish:
            self.publish_ports()

    def _create_networks(self) -> None:
        made = self.head.network_made() if self.head is not None else None
        if made is not None:
            self.networks.append(self._adopt(made, lambda n: n.remove()))
            return
        network = create_network(self.client, f"{self.prefix}-net", self.plan.network, self.labels)
        self.networks.append(self._adopt(network, lambda n: n.remove()))

    def publish_ports(self) -> None:
        """Publish every declared port on 127.0.0.1, through a forwarder per service
        (forwarder.py); the services themselves stay on the run's network alone. `up` calls
        it once every service is up (healthy, where it has a healthcheck), so an endpoint
        shown leads to a service that is ready, and a failed start-up publishes nothing."""
        published = [name for name, service in self.plan.services.items() if service.ports]
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
        ports = forwards(self.plan.services[name].ports)
        target = address_on(self.client, self.containers[name], str(self.networks[0].name))
        folder = self.plan.folder.resolve()
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
                label.FOLDER: str(folder),  # what `poc down` frees its ports
            },
        )
        self.forwarders[name] = self._adopt(forwarder, remove_container)  # before it starts
        try:
            start_forwarder(forwarder, self.networks[0], name)
        except SandboxError as exc:
            held = holders(self.client, ports, self.run_id)
            raise SandboxError(f"{exc}; {held}" if held else str(exc)) from None

    def endpoints(self) -> dict[str, list[Endpoint]]:
        """Where the host reaches each service's published ports (none without a forwarder);
        on a remote engine they are on that machine's 127.0.0.1 (`ssh -L` brings one here)."""
        remote = is_remote(self.client)
        found: dict[str, list[Endpoint]] = {}
        for name in self.containers:
            forwarder = self.forwarders.get(name)
            ports = forwards(self.plan.services[name].ports)
            found[name] = [] if forwarder is None else endpoints(forwarder, ports, remote=remote)
        return found

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
        self.data_cache = cache_use(self.scenario, self.plan.folder, self.volumes)

    def _was_cut(self) -> bool:
        """Whether teardown began: a data copy in progress stops at its next chunk."""
        return self.streams.cut

    def _pin(self, container: Container) -> Container:
        self.pins.append(self._adopt(container, remove_container))
        return container

    def _create(self, name: str) -> Container:
        import docker

        service = self.plan.services[name]
        try:
            return create_container(
                self.client,
                self.image_ids[name],
                name=f"{self.prefix}-{name}",
                command=service.command,
                entrypoint=service.entrypoint,
                working_dir=service.working_dir,
                user=service.user,
                environment=dict(service.environment),
                labels={
                    **service.labels,
                    **self.labels,
                    label.SERVICE: name,
                    DEFINITION: self.plan.fingerprint(name, self.image_ids[name]),
                },
                mounts=[*mounts_for(name, self.volumes), *self._mounted().mounts(name)],
                **confinement(service.confinement),
                **self._place(name),
            )
        except docker.errors.APIError as exc:
            raise SandboxError(
                f"service {name!r} could not be created: {exc.explanation or exc}"
            ) from None

    @classmethod
    def kept_for(
        cls,
        client: docker.DockerClient,
        plan: SandboxPlan,
        path: Path,
        *,
        on_event: OnEvent | None = None,
        checked: bool = True,
    ) -> DockerSandbox:
        """The sandbox `poc up` (or `poc run --keep`) left up for this scenario, checked (with
        `checked`) to be still the scenario's; `up` then only brings its data up to date."""
        kept = find_kept(client, plan, str(path))
        options = SandboxOptions(keep=True)
        sandbox = cls(client, plan, kept.run_id, options=options, on_event=on_event)
        sandbox.path = path
        for index, volume in enumerate(sandbox.volumes):
            volume.name = f"{sandbox.prefix}-data{index}"
        images = {name: existing_image(client, plan.services[name].image) for name in plan.services}
        if checked:
            fingerprints = {
                name: plan.fingerprint(name, images[name] or "(none)") for name in images
            }
            made = {name: c.labels.get(DEFINITION) for name, c in kept.containers.items()}
            if (problem := refusal(made, fingerprints, path)) is not None:
                raise InvalidInput(problem)
        sandbox.containers, sandbox.networks = dict(kept.containers), [kept.network]
        sandbox.forwarders = dict(kept.forwarders)
        sandbox.image_ids = {name: image or "" for name, image in images.items()}
        return sandbox

    def _refresh(self) -> None:
        """A reused sandbox: its services still running (a job others waited for completed
        at `poc up`, and is not run again), its data as the scenario's now."""
        self._still_running()
        digests = refresh(self.client, self.volumes, self.labels, self.prefix, self._was_cut)
        self.data_sha256 = checksums(self.scenario, digests)
        self._clear_artifacts()

    def _still_running(self) -> None:
        """Every service running, but the jobs others waited to complete (they have exited)."""
        done = self.plan.jobs
        for name, container in self.containers.items():
            if name not in done:
                self.ensure_running(name, container)

    def _clear_artifacts(self) -> None:
        """Remove what earlier runs left at the steps' artifact paths (artifacts.clear)."""
        for name, service in self.plan.services.items():
            if service.artifacts:
                left = clear(self.containers[name], list(service.artifacts))
                self._uncleared |= {(name, path): why for path, why in left.items()}

    def uncleared(self) -> Mapping[tuple[str, str], str]:
        return dict(self._uncleared)

    def _place(self, name: str) -> dict[str, Any]:
        """The service's place on the network: its holder's, when it has one."""
        if (holder := self._holder(name)) is not None:
            return {"network_mode": f"container:{holder.id}"}
        service = self.plan.services[name]
        network = str(self.networks[0].name)
        return placement(
            self.client, network, name, self.plan.network, service.aliases, service.hostname
        )

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
        self._report(name, "starting")
        self.ready_at[name] = (time.monotonic(), time.monotonic())
        try:
            container.start()
        except docker.errors.APIError as exc:
            raise SandboxError(
                f"service {name!r} could not start: {exc.explanation or exc}"
            ) from None
        self.ready_at[name] = (self.ready_at[name][0], time.monotonic())
        self._report(name, "started")

    def _wait_healthy(self, name: str) -> None:
        check = self.plan.services[name].healthcheck
        assert check is not None
        if check.from_image:
            check = image_healthcheck(self.client, self.image_ids[name], name, check)
        self._report(name, "waiting to be healthy")
        report = partial(self._report, name)
        waited = wait_healthy(self.containers[name], name, check, report)
        self.ready_at[name] = (self.ready_at[name][0], time.monotonic())
        self._report(name, f"healthy after {waited:.1f} s")

    def _wait_completed(self, name: str) -> None:
        """A job others wait for: it must exit with code 0 (`service_completed_successfully`)."""
        import requests

        container = self.containers[name]
        self._report(name, "running to completion")
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
        self._report(name, "completed")

    # -- watching ------------------------------------------------------------------------------

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

    def _watch(self) -> None:
        """From now on (the services are up), watch them: deaths and disk use."""
        limits = {
            name: (service.confinement.memory, service.confinement.disk)
            for name, service in self.plan.services.items()
            if name in self.containers
        }
        self.watching = ServiceWatch(
            self.client,
            self.run_id,
            dict(self.containers),
            limits,
            self._began,
            report=lambda incident: self._report(incident.service, incident.status),
            done=self.plan.jobs,
        ).start()

    def _settle(self, name: str, within: float = SETTLE_WITHIN) -> None:
        """Wait, briefly, until the engine says the service's container is running or is not
        there any more. A command killed outright (SIGKILL) may have gone with its container
        (`poc down` of the sandbox under a `--reuse`, a kill through the engine), which the
        engine shows a moment after the command has ended; the next reading then sees it."""
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

    def fault(self, *, read: bool = False) -> Incident | None:
        """A fault the watch found (out of memory, over the disk limit, removed): between steps
        what its last reading found is enough (a service that died since fails the next step
        that needs it); with `read`, the engine is asked again, so no fault escapes."""
        if self.watching is None:
            return None
        if read:
            self.watching.check()
        return self.watching.fault

    def incidents(self) -> list[Incident]:
        return list(self.watching.incidents) if self.watching else []

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
        """Run a command in a service (steps, and the checks: sql clients, custom scripts); a
        service that stopped cannot, and ServiceStopped says why."""
        import docker

        container = self.containers[service]
        try:
            outcome = execute(
                container,
                argv,
                timeout=self.time_left(timeout),
                environment=environment,
                workdir=workdir,
                stdout=stdout,
                stderr=stderr,
            )
        except docker.errors.APIError:
            self.ensure_running(service)  # why it could not run, if it stopped
            raise
        if outcome.exit_code == KILLED:  # its container may be on its way out: let it go
            self._settle(service)
        return outcome

    def remaining(self) -> float:
        """Seconds until the run's `sandbox.timeout` (negative once it has passed)."""
        deadline = self._deadline
        return math.inf if deadline is None else deadline - time.monotonic()

    def time_left(self, limit: float) -> float:
        """`limit`, cut short so nothing runs past the run's `sandbox.timeout`."""
        return max(min(limit, self.remaining()), 0.1)

    def copy_out(self, service: str, path: str, into: Path) -> bool:
        return collect(self.containers[service], path, into)

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
                name=None if self.reused else f"{self.prefix}_probe",
                labels={**self.labels, label.SERVICE: "(probe)"},
                network=self.networks[0].name,
                init=True,
                **confined(memory="128m", pids=64),
                **resolver(self.plan.network),
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
        """The host's addresses (read on the engine's host, nothing sent), the gateways of the
        sandbox's network, and whether the engine would carry a name lookup out."""
        with self._probe_lock:
            if self._targets is None:
                labels = {**self.labels, label.SERVICE: "(host addresses)"}
                reader = self._adopt(create_reader(self.client, None, labels), remove_container)
                self._within["(host addresses)"] = reader
                try:
                    reader.start()
                    found, resolvers = read_host(reader)
                finally:
                    del self._within["(host addresses)"]
                    remove_quietly(reader.name, partial(remove_container, reader))
                version = str(self.client.version().get("Version", "?"))
                leaks = lookup_leaks(version, resolvers)
                self._targets = Targets(found, gateways(self.networks[0]), leaks)
            return self._targets

    def shell(self, service: str, argv: list[str], *, terminal: bool) -> list[str]:
        """`docker exec` into the service: an interactive shell, or `argv`. The input is passed
        on either way (`-i`); a terminal only when there is one (`-t`)."""
        container = self.containers[service]
        if container.status != "running":
            where = f" {self.path}" if self.path else ""
            raise SandboxError(
                f"service {service!r} of the sandbox left up by run {self.run_id} is"
                f" {container.status}, so there is nothing to open: run `poc down{where}`, then"
                f" `poc up{where}`"
            )
        docker_cli = shutil.which("docker")
        if docker_cli is None:
            raise SandboxError("`poc shell` needs the docker command-line client on PATH")
        pick = "command -v bash >/dev/null && exec bash || exec sh"
        command = argv or ["/bin/sh", "-c", pick]
        return [
            docker_cli,
            "exec",
            "-i",
            *(["-t"] if terminal else []),
            str(container.id),
            *command,
        ]

    # -- down ----------------------------------------------------------------------------------

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
        if self.reused:  # left up as it was found, interrupted or not: this run's helpers go
            probe = [self._probe] if self._probe else []
            helpers, self._within, self._probe = [*self._within.values(), *probe], {}, None
            problems = [remove_quietly(h.name, partial(remove_container, h)) for h in helpers]
            return [problem for problem in problems if problem]
        held: list[Container] = []
        if self.head is not None:  # what it made, whether or not start-up took it yet
            network, held = self.head.made()
            if network is not None and network not in self.networks:
                self.networks.append(network)
        probe = [self._probe] if self._probe else []
        containers = [
            *self._within.values(),  # helpers first: they share the services' namespaces
            *self.containers.values(),
            *self.forwarders.values(),
            *held,
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
            removals += [(v, partial(remove_volume, self.client, v, force=True)) for v in made]
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
        return [
            (v.name, partial(remove_volume, self.client, v.name, force=True))
            for v in volumes
            if v.name and not v.shared
        ]


class _Provisioning:
    """What the services' start-up threads share: the network, made once in the background, and
    the data volumes, filled in the background with the first image that is ready (filling
    needs an image to create its container from). A service waits only for what it uses."""

    def __init__(self, sandbox: DockerSandbox, background: ThreadPoolExecutor) -> None:
        self.sandbox = sandbox
        self.background = background
        self.network: Future[None] = background.submit(sandbox._create_networks)
        self.data: Future[None] | None = None
        self.lock = threading.Lock()

    def prepare(self, name: str) -> None:
        sandbox = self.sandbox
        image_plan = sandbox.plan.services[name].image
        with sandbox.streams.open(sandbox.client):  # a teardown cuts a build short
            image = ensure_image(
                sandbox.client, sandbox.plan.name, name, image_plan, sandbox._report
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


def _copy(volume: DataVolume) -> DataVolume:
    return replace(
        volume,
        services=set(volume.services),
        entries=list(volume.entries),
        folders=list(volume.folders),
    )


def _save_log(container: Container, path: Path) -> None:
    try:
        masker = SECRETS.stream()
        with path.open("wb") as log:
            for chunk in container.logs(stream=True, follow=False):
                log.write(masker.feed(chunk))
            log.write(masker.flush())
    except Exception as exc:  # a missing log must not hide the run's real outcome
        path.write_text(f"[poc-runner: logs unavailable: {exc}]\n")
