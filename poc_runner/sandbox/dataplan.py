"""Where the prospect's data goes (spec, "data"): which read-only volumes, mounted where, seen by
which services, and what a run says of them (their checksums, whether they came from the data
cache). The plan of any backend; filling the volumes is the backend's (backends/docker/data.py).

Each data folder becomes a volume mounted read-only where the scenario says; data files are
gathered by their folder, which becomes a read-only volume holding them. A service sees exactly
the items listed for it: two services that see different files in one folder get a volume
each; services that see the same files share one.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from poc_runner.model import Scenario
from poc_runner.sandbox.archive import folder_digest


@dataclass
class DataVolume:
    """One read-only mount point and the data items it carries."""

    mount: str
    services: set[str] = field(default_factory=set)
    entries: list[tuple[Path, str]] = field(default_factory=list)  # (host path, member name)
    folders: list[str] = field(default_factory=list)  # empty mount points of nested volumes
    name: str = ""  # the volume, once a backend has made or found it
    shared: bool = False  # a data cache entry: it outlives the run
    from_cache: bool = False  # filled by an earlier run, mounted as it was


def plan_volumes(scenario: Scenario, folder: Path) -> list[DataVolume]:
    """Which volumes the data needs, where they mount, and which services see them.

    A service sees exactly the items listed for it: two services that see different files in
    one folder get a volume each; services that see the same files share one."""
    volumes: dict[tuple[str, tuple[tuple[Path, str], ...]], DataVolume] = {}
    for service in scenario.services:
        seen: dict[str, list[tuple[Path, str]]] = {}
        for item in scenario.data:
            if item.services is not None and service not in item.services:
                continue
            source = folder / item.path
            mount = posixpath.normpath(item.mount)
            if source.is_dir():
                seen.setdefault(mount, []).append((source, "."))
            else:
                parent, name = posixpath.split(mount)
                seen.setdefault(parent, []).append((source, name))
        for mount, entries in seen.items():
            key = (mount, tuple(entries))
            volume = volumes.setdefault(key, DataVolume(mount, entries=entries))
            volume.services.add(service)
    for volume in volumes.values():
        for other in volumes.values():
            if other.mount.startswith(volume.mount.rstrip("/") + "/"):
                volume.folders.append(posixpath.relpath(other.mount, volume.mount))
    return sorted(volumes.values(), key=lambda v: v.mount)


def checksums(scenario: Scenario, digests: dict[str, str]) -> dict[str, str]:
    """sha256 per data item: of the file, or over a folder's files (see `folder_digest`)."""
    by_item: dict[str, str] = {}
    for item in scenario.data:
        mount = posixpath.normpath(item.mount)
        by_item[item.name] = digests.get(mount) or folder_digest(digests, mount + "/")
    return by_item


def cache_use(scenario: Scenario, folder: Path, volumes: list[DataVolume]) -> dict[str, str]:
    """Per data item: `cached` when every volume carrying it was filled by an earlier run and
    mounted as it was, else `copied` (by this run)."""
    used: dict[str, str] = {}
    for item in scenario.data:
        carriers = [v for v in volumes if any(s == folder / item.path for s, _ in v.entries)]
        cached = bool(carriers) and all(v.from_cache for v in carriers)
        used[item.name] = "cached" if cached else "copied"
    return used


def data_plan(service: str, volumes: list[DataVolume]) -> list[str]:
    """What data a service mounts where, in words: part of its fingerprint
    (reuse.py)."""
    return sorted(
        f"{v.mount}={','.join(name for _, name in v.entries)}"
        for v in volumes
        if service in v.services
    )
