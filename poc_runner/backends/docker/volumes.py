"""A service's Compose `volumes`, `configs` and `secrets` on the Docker engine, as the plan says
(sandbox/volumeplan.py): each volume made, and filled, by the first service that mounts it.
Every volume carries the run's labels and is removed at teardown. Nothing is bind-mounted.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from poc_runner.backends.docker.helpers import create_unstarted
from poc_runner.backends.docker.objects import create_volume
from poc_runner.errors import SandboxError
from poc_runner.sandbox.archive import Cut, pack
from poc_runner.sandbox.volumeplan import RunVolume, VolumePlan, named

if TYPE_CHECKING:
    import docker


class RunVolumes:
    """The plan, carried out as services need it: each volume made (and filled) once, by the
    first service that mounts it, and each recorded the moment it exists, so a teardown at any
    point removes it."""

    def __init__(
        self, client: docker.DockerClient, plan: VolumePlan, labels: dict[str, str], prefix: str
    ) -> None:
        self.client, self.plan, self.labels, self.prefix = client, plan, labels, prefix
        self.made: list[str] = []
        self._ready: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._closed = False

    def mounts(self, service: str) -> list[object]:
        from docker.types import Mount

        return [
            Mount(a.target, self.name(a.volume), "volume", a.read_only, no_copy=a.no_copy)
            for a in self.plan.mounts.get(service, [])
        ]

    def name(self, volume: str) -> str:
        """A planned volume's name on the engine: under the run's prefix."""
        return named(self.prefix, volume)

    def ready_for(self, service: str, image: str) -> None:
        """Make and fill every volume `service` (whose image is `image`) mounts."""
        for attach in self.plan.mounts.get(service, []):
            volume = self.plan.volumes[attach.volume]
            with self._lock:
                first = volume.name not in self._ready
                done = self._ready.setdefault(volume.name, threading.Event())
            if not first:
                done.wait()
                continue
            try:
                self._make(volume, image)
            finally:
                done.set()

    def _make(self, volume: RunVolume, image: str) -> None:
        with self._lock:
            if self._closed:
                raise SandboxError("the sandbox was torn down while it was being built")
            name = self.name(volume.name)
            create_volume(self.client, name, self.labels)
            self.made.append(name)
        if volume.entries:  # a copy in progress stops once the sandbox closes
            _fill(self.client, volume, name, image, self.labels, cut=lambda: self._closed)

    def close(self) -> list[str]:
        """No volume is made from now on; the names of those made, for removal."""
        with self._lock:
            self._closed = True
            return list(self.made)


def _fill(
    client: docker.DockerClient,
    volume: RunVolume,
    name: str,
    image: str,
    labels: dict[str, str],
    cut: Cut | None = None,
) -> None:
    """Copy the volume's entries in through a container that is created, never started. Made
    from the service's image and mounted where the service mounts it, the engine first copies
    what the image has in that folder (a copy of the scenario folder skips that)."""
    from docker.types import Mount

    mount = Mount(volume.at, name, type="volume", no_copy=volume.copies)
    filler = create_unstarted(client, image, [mount], labels)
    try:
        packed = pack(volume.entries, as_host=volume.as_host, cut=cut)
        if not filler.put_archive(volume.at, packed.chunks()):
            raise SandboxError(f"could not copy files into the sandbox at {volume.at}")
    finally:
        filler.remove(force=True)
