"""The prospect's data, copied into the sandbox read-only (spec, "data"), as the plan says
(sandbox/dataplan.py): each planned volume a Docker volume, mounted read-only. Read-only mounts
hold even against a process running as root inside the container (it has no CAP_SYS_ADMIN to
remount), which file modes alone would not. Nothing is bind-mounted from the host: the volumes
hold copies, streamed in (archive.py) through a container that is created, never started.

A run's data volumes come from the data cache (datacache.py) when an earlier run filled one with
the same files, found without reading them while the hash index (hashindex.py) vouches for their
digests; otherwise they are filled now and kept there for the next run. A sandbox left up
(`poc up`, `--keep`) has volumes of its own instead, since `--reuse` fills them again in place.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from poc_runner.backends.docker import datacache
from poc_runner.backends.docker.helpers import create_unstarted
from poc_runner.backends.docker.objects import create_volume
from poc_runner.errors import SandboxError
from poc_runner.sandbox.archive import Cut, Packed, hash_file, pack, walk
from poc_runner.sandbox.dataplan import DataVolume
from poc_runner.sandbox.hashindex import HashIndex
from poc_runner.sandbox.volumeplan import FILL_AT

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

PREHASH_MAX = 64 * 1024 * 1024


def fill_volumes(
    client: docker.DockerClient,
    volumes: list[DataVolume],
    image: str,
    labels: dict[str, str],
    prefix: str,
    cut: Cut | None = None,
) -> dict[str, str]:
    """Create and fill volumes of the run's own (a sandbox left up); returns the sha256 of
    every file by its container path. `cut` stops a copy in progress (see `copy_in`)."""
    from docker.types import Mount

    if not volumes:
        return {}
    for index, volume in enumerate(volumes):
        volume.name = f"{prefix}-data{index}"
        create_volume(client, volume.name, labels)
    mounts = [Mount(f"{FILL_AT}/{i}", v.name, type="volume") for i, v in enumerate(volumes)]
    filler = create_unstarted(client, image, mounts, labels)
    hashes = HashIndex.load()
    digests: dict[str, str] = {}
    try:
        for index, volume in enumerate(volumes):
            packed = copy_in(filler, f"{FILL_AT}/{index}", volume, hashes, cut)
            digests |= _at_mount(volume, packed.digests)
    finally:
        filler.remove(force=True)
        hashes.save()
    return digests


def provide_volumes(
    client: docker.DockerClient,
    volumes: list[DataVolume],
    pin: datacache.Pin,
    adopt: Callable[[Container], Container],
    cut: Cut | None = None,
) -> dict[str, str]:
    """Each volume from the data cache, or filled now as a new entry of it; returns the sha256
    of every file by its container path. `adopt` takes each container that pins an entry for
    the run (teardown removes it); `cut` stops a fill in progress (the entry is abandoned)."""
    if not volumes:
        return {}
    cap = datacache.cap_bytes()
    hashes = HashIndex.load()
    digests: dict[str, str] = {}
    filled = False
    try:
        for index, volume in enumerate(volumes):
            mine = replace(pin, name=f"{pin.name}{index}")
            found = _from_cache(client, volume, mine, adopt, hashes)
            if found is None:
                found, filled = _new_entry(client, volume, mine, adopt, hashes, cut), True
            digests |= _at_mount(volume, found)
    finally:
        hashes.save()
    if filled:
        datacache.evict(client, cap)
    return digests


def _from_cache(
    client: docker.DockerClient,
    volume: DataVolume,
    pin: datacache.Pin,
    adopt: Callable[[Container], Container],
    hashes: HashIndex,
) -> dict[str, str] | None:
    """The digests of the volume's files, when an entry holding exactly them is there (then
    pinned, and the volume is that entry's); None when it must be filled."""
    content = known_content(volume, hashes)
    if content is None:
        return None
    entry = datacache.lookup(client, content.key)
    taken = None if entry is None else datacache.take(client, entry, pin)
    if entry is None or taken is None:
        return None
    adopt(taken)
    volume.name, volume.shared, volume.from_cache = entry.data_volume, True, True
    return content.files


@dataclass(frozen=True)
class Content:
    """A volume's files as the archive would have them: member name -> sha256 and size (the
    size as the file system says it now), and its folders."""

    files: dict[str, str]
    sizes: dict[str, int]
    folders: list[str]

    @property
    def key(self) -> str:
        return datacache.content_key(self.files, self.sizes, self.folders)


def known_content(volume: DataVolume, hashes: HashIndex) -> Content | None:
    """The volume's files, without reading those the index vouches for. The others are hashed
    here only when they are small (`PREHASH_MAX` in all), so a copy of a scenario folder finds
    the entry its original filled; None when they are big: they are hashed once, while they
    are copied. A digest the index gives goes with the size the file has now, so the entry
    found must hold a file of that size too (datacache.content_key)."""
    files: dict[str, str] = {}
    sizes: dict[str, int] = {}
    folders = list(volume.folders)
    unknown: list[tuple[str, str]] = []
    size = 0
    for source, name in volume.entries:
        for path, member, info in walk(source, name):
            if member.isdir():
                folders.append(member.name)
                continue
            sizes[member.name] = info.st_size
            if (digest := hashes.digest(path, info)) is not None:
                files[member.name] = digest
            else:
                unknown.append((path, member.name))
                size += info.st_size
                if size > PREHASH_MAX:
                    return None
    for path, name in unknown:
        files[name] = hash_file(path, hashes)
    return Content(files, sizes, folders)


def _new_entry(
    client: docker.DockerClient,
    volume: DataVolume,
    pin: datacache.Pin,
    adopt: Callable[[Container], Container],
    hashes: HashIndex,
    cut: Cut | None,
) -> dict[str, str]:
    """Fill a new cache entry through a writable filler, stamp it with what went in, pin it
    read-only for the run, and only then remove the filler: it is never unpinned meanwhile."""
    entry = datacache.begin(client)
    done = False
    try:
        filler = pin.create(client, entry.data_volume, writable=True)
        try:
            packed = copy_in(filler, pin.at, volume, hashes, cut)
            key = datacache.content_key(packed.digests, packed.sizes, packed.folders)
            datacache.finish(client, entry, key, packed.size)
            done = True
            adopt(pin.create(client, entry.data_volume))
        finally:
            filler.remove(force=True)
    except BaseException:
        if not done:
            datacache.abandon(client, entry)
        raise
    volume.name, volume.shared = entry.data_volume, True
    return packed.digests


def copy_in(
    filler: Container, at: str, volume: DataVolume, hashes: HashIndex, cut: Cut | None = None
) -> Packed:
    """Stream the volume's files into `at` of a container mounting it, hashed on the way; once
    `cut` says the sandbox was torn down, the upload ends with an error."""
    packed = pack(volume.entries, volume.folders, index=hashes, cut=cut)
    if not filler.put_archive(at, packed.chunks()):
        raise SandboxError(f"could not copy the data for {volume.mount} into the sandbox")
    return packed


def _at_mount(volume: DataVolume, digests: dict[str, str]) -> dict[str, str]:
    """Member names as container paths."""
    return {
        posixpath.normpath(posixpath.join(volume.mount, member)): digest
        for member, digest in digests.items()
    }


def mounts_for(service: str, volumes: list[DataVolume]) -> list[object]:
    from docker.types import Mount

    return [
        Mount(v.mount, v.name, type="volume", read_only=True)
        for v in volumes
        if service in v.services
    ]
