"""The data cache: a data volume, once filled, is kept and mounted read-only by every later run
whose data is the same, so an unchanged extract is not copied again.

An entry is two kinds of volume, since a volume's labels are fixed when it is made and what an
entry holds is known only once it is filled (the files are hashed as they are copied):

- its data volume, `poc-cache-<id>`, made before the fill and labelled with the entry's id and
  the process filling it;
- a stamp, `poc-cache-<id>-<random>`, an empty volume made once the fill is complete, labelled
  with the content key (`content_key`: every name, sha256 and size), the bytes of files and when a
  run last took the entry (to the minute: a run taking it makes a new stamp, unless the last
  is that recent, and removes the older ones). So
  the engine itself says which entries are complete, what they hold and which were used least
  recently, for every user and machine sharing it.

Neither carries `io.poc-runner.run`: no run owns an entry, so no run's teardown or sweep takes
one. A run holds each entry it uses with a container of its own (its pin: never started, the
entry mounted read-only, removed with the run), and the engine refuses to remove a volume any
container mounts, so no eviction or `poc clean --cache` takes an entry a live run uses; a pin
is made before the entry is checked to be still there, which closes the race with a removal.
After its stamp, nothing mounts an entry writable: services mount it read-only like all data,
so no run can change what another sees. A fill its process did not finish (killed) is swept
like a dead run's objects.

When the entries hold more than the cap (`POC_DATA_CACHE_MAX`, 20 GiB by default), a run that
made a new entry removes those used least recently and mounted by no container until the rest
fits.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import posixpath
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from poc_runner import settings
from poc_runner.backend import Swept
from poc_runner.backends.docker.helpers import create_unstarted
from poc_runner.backends.docker.objects import create_volume, remove_volume, volume_rows
from poc_runner.errors import InvalidInput, SandboxError
from poc_runner.sandbox import labels as label
from poc_runner.sandbox.owner import Liveness, liveness
from poc_runner.units import parse_memory, size_text

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

PREFIX = "poc-cache-"
CAP_VARIABLE = settings.DATA_CACHE_MAX
DEFAULT_CAP = "20g"
_FORMAT = "poc-runner data v2: members root's, files 0444, folders 0555; name, sha256, size"
IN_USE = "data cache entries in use (a container mounts them)"
RENEW_NS = 60 * 10**9  # a stamp younger than this is not renewed when its entry is taken


def content_key(files: Mapping[str, str], sizes: Mapping[str, int], folders: Iterable[str]) -> str:
    """What a data volume holds, as one sha256: each file's name, digest and size, each
    folder's name (names as the archive has them, normalized). The sizes make the entry a
    witness of its own: a digest that the hash index claims for a file of another size than
    the one that was filled finds no entry, however the index came to claim it."""
    body = {
        "format": _FORMAT,
        "files": sorted(
            (posixpath.normpath(name), digest, sizes[name]) for name, digest in files.items()
        ),
        "folders": sorted({posixpath.normpath(name) for name in folders}),
    }
    return hashlib.sha256(json.dumps(body).encode("utf-8", "surrogateescape")).hexdigest()


def cap_bytes() -> int:
    """The most the entries may hold before the least recently used go: $POC_DATA_CACHE_MAX."""
    given = settings.data_cache_max() or DEFAULT_CAP
    try:
        return parse_memory(given)
    except ValueError as exc:
        raise InvalidInput(f"{CAP_VARIABLE}: {exc}") from None


@dataclass
class Entry:
    """One cache entry as the engine shows it."""

    id: str
    volume: str | None = None  # its data volume, if it exists
    owner: str | None = None  # the process that filled it (its data volume's label)
    key: str | None = None  # what it holds, once complete (its newest stamp's)
    size: int = 0
    used: int = 0  # when a run last took it (ns)
    stamps: list[str] = field(default_factory=list)

    @property
    def data_volume(self) -> str:
        return f"{PREFIX}{self.id}"


def entries(client: docker.DockerClient) -> list[Entry]:
    """Every entry on the engine, from one listing: data volumes and stamps, by entry id."""
    found: dict[str, Entry] = {}
    for volume in volume_rows(client, [label.DATA_CACHE]):
        marks = volume.get("Labels") or {}
        entry = found.setdefault(marks[label.DATA_CACHE], Entry(marks[label.DATA_CACHE]))
        if label.DATA_KEY not in marks:
            entry.volume, entry.owner = volume["Name"], marks.get(label.OWNER)
            continue
        entry.stamps.append(volume["Name"])
        if _used(marks) >= entry.used:
            entry.key, entry.size, entry.used = marks[label.DATA_KEY], _size(marks), _used(marks)
    return list(found.values())


def lookup(client: docker.DockerClient, key: str) -> Entry | None:
    """The complete entry holding `key` that was used last, if there is one (its data volume
    may be gone since: `take` makes sure)."""
    return max(_holding(client, key), key=lambda entry: entry.used, default=None)


def _holding(client: docker.DockerClient, key: str) -> list[Entry]:
    found: dict[str, Entry] = {}
    for stamp in volume_rows(client, [f"{label.DATA_KEY}={key}"]):
        marks = stamp.get("Labels") or {}
        entry = found.setdefault(marks[label.DATA_CACHE], Entry(marks[label.DATA_CACHE], key=key))
        entry.volume = entry.data_volume
        entry.stamps.append(stamp["Name"])
        entry.used, entry.size = max(entry.used, _used(marks)), _size(marks)
    return list(found.values())


def take(client: docker.DockerClient, entry: Entry, pin: Pin) -> Container | None:
    """Pin the entry for this run, then make sure it is still there; None when it was removed
    meanwhile (the pin's mount would have made an empty volume of that name: removed again)."""
    container = pin.create(client, entry.data_volume)
    marks = client.api.inspect_volume(entry.data_volume).get("Labels") or {}
    if marks.get(label.DATA_CACHE) != entry.id:
        container.remove(force=True)
        _remove_volume(client, entry.data_volume)
        return None
    if time.time_ns() - entry.used > RENEW_NS:  # least recently used to the minute will do
        with contextlib.suppress(SandboxError):  # a stamp not renewed only ages the entry
            _stamp(client, entry)
    return container


def begin(client: docker.DockerClient) -> Entry:
    """A new entry's data volume, to be filled; it counts only once `finish` stamps it."""
    entry = Entry(secrets.token_hex(8))
    marks = {label.DATA_CACHE: entry.id, **label.owner_labels()}
    create_volume(client, entry.data_volume, marks)
    return entry


def finish(client: docker.DockerClient, entry: Entry, key: str, size: int) -> None:
    """The entry is filled with `key`: from now on runs take it. Older entries holding the
    same (filled from a copy of the files, which the hash index did not know) go, unless in
    use."""
    entry.key, entry.size = key, size
    _stamp(client, entry)
    for other in _holding(client, key):
        if other.id != entry.id:
            _remove_entry(client, other, Swept())


def abandon(client: docker.DockerClient, entry: Entry) -> None:
    """A fill that failed: its data volume goes (the filler is gone, nothing else mounts it)."""
    _remove_volume(client, entry.data_volume)


@dataclass(frozen=True)
class Pin:
    """How a run's containers that hold entries are made: never started, no network, the
    entry mounted read-only; labelled as the run's, so its teardown or sweep removes them."""

    image: str
    name: str
    labels: dict[str, str]
    at: str

    def create(
        self, client: docker.DockerClient, volume: str, *, writable: bool = False
    ) -> Container:
        from docker.types import Mount

        mount = Mount(self.at, volume, type="volume", read_only=not writable)
        return create_unstarted(
            client, self.image, [mount], self.labels, None if writable else self.name
        )


def evict(client: docker.DockerClient, cap: int) -> Swept:
    """Remove the least recently used entries no container mounts, until the rest hold at most
    `cap` bytes. An entry in use stays, even over the cap."""
    complete = sorted((e for e in entries(client) if e.key), key=lambda e: e.used)
    total = sum(entry.size for entry in complete)
    swept = Swept()
    for entry in complete:
        if total <= cap:
            break
        if _remove_entry(client, entry, swept):
            total -= entry.size
    return swept


def remove_all(client: docker.DockerClient) -> Swept:
    """`poc clean --cache`: every entry no container mounts."""
    return remove(client, entries(client))


def remove(client: docker.DockerClient, chosen: Iterable[Entry]) -> Swept:
    """These entries, those no container mounts."""
    swept = Swept()
    for entry in chosen:
        _remove_entry(client, entry, swept)
    return swept


def sweep(client: docker.DockerClient, *, everyone: bool = False) -> Swept:
    """What fills left unfinished: a data volume never stamped whose filling process is provably
    gone (or, `everyone`, cannot be checked from here), and stamps whose data volume is gone."""
    swept = Swept()
    for entry in entries(client):
        if entry.volume is None or (entry.key is None and _filler_gone(entry, everyone)):
            _remove_entry(client, entry, swept)
    return swept


def _filler_gone(entry: Entry, everyone: bool) -> bool:
    state = liveness(entry.owner)
    return state is Liveness.GONE or (everyone and state is Liveness.UNKNOWN)


def _remove_entry(client: docker.DockerClient, entry: Entry, swept: Swept) -> bool:
    """Its data volume first (refused while mounted: then the entry stays whole), then its
    stamps, so a stamp never names a volume that is gone while a run could take it."""
    import docker

    if entry.volume is not None:
        try:
            remove_volume(client, entry.volume)
            swept.removed.append(f"volume {entry.volume} (data cache, {size_text(entry.size)})")
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # mounted by a container: in use
                swept.left[IN_USE] = swept.left.get(IN_USE, 0) + 1
            else:
                swept.problems.append(f"volume {entry.volume}: {exc.explanation or exc}")
            return False
    for stamp in entry.stamps:
        _remove_volume(client, stamp)
    return True


def _stamp(client: docker.DockerClient, entry: Entry) -> None:
    """A new stamp for the entry, then the older ones go: there is always one."""
    assert entry.key is not None
    used = time.time_ns()
    marks = {
        label.DATA_CACHE: entry.id,
        label.DATA_KEY: entry.key,
        label.DATA_BYTES: str(entry.size),
        label.DATA_USED: str(used),
    }
    name = f"{entry.data_volume}-{secrets.token_hex(4)}"
    try:
        create_volume(client, name, marks)
    except Exception as exc:
        raise SandboxError(f"could not record the data cache entry {entry.id}: {exc}") from None
    for older in entry.stamps:
        _remove_volume(client, older)
    entry.stamps, entry.used = [name], used


def _remove_volume(client: docker.DockerClient, name: str) -> None:
    import docker

    with contextlib.suppress(docker.errors.APIError):  # gone, or in use: for a later sweep
        remove_volume(client, name)


def _used(marks: Mapping[str, str]) -> int:
    return _number(marks.get(label.DATA_USED))


def _size(marks: Mapping[str, str]) -> int:
    return _number(marks.get(label.DATA_BYTES))


def _number(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0
