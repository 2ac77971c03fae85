"""Telling live runs from dead ones, and sweeping what dead runs left behind.

Each run holds an exclusive `flock` on its own lock file for as long as it lives; the kernel
drops the lock when the process dies, SIGKILL included. So any later command can tell, without
a daemon or a socket-mounting reaper container, which labelled objects belong to a run that no
longer exists. Only runs started on this host are judged: another host's locks are not visible.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from poc_runner.sandbox import labels
from poc_runner.sandbox.removal import remove_container, remove_quietly

if TYPE_CHECKING:
    import docker


def state_dir() -> Path:
    """Where run locks live: $POC_STATE_DIR, else $XDG_STATE_HOME/poc-runner."""
    explicit = os.environ.get("POC_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "poc-runner"


def _lock_path(run_id: str) -> Path:
    return state_dir() / "locks" / f"{run_id}.lock"


class RunLock:
    """Held for a run's whole life: the proof, to every other command, that it is alive."""

    def __init__(self, run_id: str) -> None:
        self.path = _lock_path(run_id)
        self._file: IO[bytes] | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")
        fcntl.flock(self._file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *_: object) -> None:
        if self._file is not None:
            self.path.unlink(missing_ok=True)
            self._file.close()
            self._file = None


def is_live(run_id: str) -> bool:
    path = _lock_path(run_id)
    try:
        with path.open("rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except FileNotFoundError:
        return False
    except BlockingIOError:
        return True
    path.unlink(missing_ok=True)  # a dead run's lock: nobody holds it any more
    return False


@dataclass
class Swept:
    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def sweep(
    client: docker.DockerClient,
    *,
    include_kept: bool,
    scenario: str | None = None,
    only_kept: bool = False,
) -> Swept:
    """Remove the labelled objects of this host's runs that are no longer alive.

    Sandboxes left up on purpose (`poc up`, `--keep`) are removed only with `include_kept`;
    `only_kept` with a scenario name is `poc down`.
    """
    host = socket.gethostname()
    selector = [labels.RUN] + ([f"{labels.SCENARIO}={scenario}"] if scenario else [])
    found: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    listings: list[tuple[str, list[Any]]] = [
        ("container", client.containers.list(all=True, filters={"label": selector})),
        ("network", client.networks.list(filters={"label": selector})),
        ("volume", client.volumes.list(filters={"label": selector})),
    ]
    for kind, things in listings:
        for thing in things:
            own = labels_of(thing)
            if own.get(labels.HOST) != host:
                continue
            kept = own.get(labels.KEPT) == "true"
            if (kept and not include_kept) or (only_kept and not kept):
                continue
            found[own[labels.RUN]].append((kind, thing))
    swept = Swept()
    for run_id, things in found.items():
        if is_live(run_id):
            continue
        for kind, thing in sorted(things, key=lambda pair: _ORDER[pair[0]]):
            _remove(kind, thing, swept)
    return swept


_ORDER = {"container": 0, "network": 1, "volume": 2}


def labels_of(thing: Any) -> dict[str, str]:
    """The labels of a container, network or volume (they keep them in different places)."""
    attrs = thing.attrs
    return dict(attrs.get("Labels") or attrs.get("Config", {}).get("Labels") or {})


_REMOVERS: dict[str, Callable[[Any], object]] = {
    "container": remove_container,
    "network": lambda network: network.remove(),
    "volume": lambda volume: volume.remove(force=True),
}


def _remove(kind: str, thing: Any, swept: Swept) -> None:
    _record(f"{kind} {thing.name}", partial(_REMOVERS[kind], thing), swept)


def _record(what: str, remove: Callable[[], object], swept: Swept) -> None:
    problem = remove_quietly(what, remove)
    if problem:
        swept.problems.append(problem)
    else:
        swept.removed.append(what)


def remove_built_images(client: docker.DockerClient) -> Swept:
    """`poc clean --images`: the images poc-runner built (kept as a build cache otherwise)."""
    swept = Swept()
    for image in client.images.list(filters={"label": labels.SCENARIO}):
        for tag in image.tags or [image.id]:
            _record(f"image {tag}", partial(client.images.remove, tag, force=True), swept)
    return swept
