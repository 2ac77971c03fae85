"""Telling live runs from dead ones, and sweeping what dead runs left behind.

Every object a run creates is labelled with its owner: the process that made it, named by the
kernel's boot id, its PID namespace, its process id and its start time. Any later command can
then tell, from the labels alone, whether that process still lives: whatever its user, home or
state folder, and without a daemon or a socket-mounting reaper container. An object is swept
only when its owner is provably gone: it ran on this machine, in this boot and this PID
namespace, and no process has that id and start time any more (SIGKILL included). An owner on
another machine sharing the engine, in another container, or before a reboot cannot be checked
from here, so its objects are left alone; `poc clean --all` removes them on request.

Sandboxes left up on purpose (`poc up`, `--keep`) outlive their owner by design: they carry
their user (`user@host`) and only that user's `poc clean` or `poc down` removes them.

Data cache entries (datacache.py) carry no run label, so no sweep of runs takes one; a whole
sweep also removes the fills their process left unfinished, by the same proof of death.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from poc_runner.backend import Swept
from poc_runner.backends.docker import datacache
from poc_runner.backends.docker.objects import (
    containers,
    networks,
    remove_container,
    remove_quietly,
    volumes,
)
from poc_runner.sandbox import labels
from poc_runner.sandbox.notes import note_removal
from poc_runner.sandbox.owner import Liveness, liveness, this_process, this_user

if TYPE_CHECKING:
    import docker


LIVE = "live runs"
OTHER_USERS = "other users' sandboxes"
UNCHECKABLE = "runs whose owner cannot be checked from here (another machine or boot)"


def sweep(
    client: docker.DockerClient,
    *,
    include_kept: bool,
    scenario: str | None = None,
    only_kept: bool = False,
    everyone: bool = False,
    by: str = "a sweep of ended runs",
) -> Swept:
    """Remove the labelled objects of runs that no longer have a live owner.

    Sandboxes left up on purpose (`poc up`, `--keep`) are removed only with `include_kept`,
    and only this user's; `only_kept` with a scenario name is `poc down`. `everyone` (`poc clean
    --all`) also removes other users' sandboxes and objects whose owner cannot be checked; an
    owner that is provably alive is never swept. A kept sandbox may be in use by a run on it
    (`--reuse`) whatever its owner: its removal is noted, `by` this command, so that run can
    say what took its sandbox (`removed_by`).
    """
    selector = [labels.RUN] + ([f"{labels.SCENARIO}={scenario}"] if scenario else [])
    listings: list[tuple[str, list[Any]]] = [
        # sparse: the listing's own labels, no inspect per container, so a container the
        # engine has locked (one being filled with a big extract) does not hold the sweep up
        ("container", containers(client, selector, sparse=True)),
        ("network", networks(client, selector)),
        ("volume", volumes(client, selector)),
    ]
    runs: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    marks: dict[str, dict[str, str]] = {}
    for kind, things in listings:
        for thing in things:
            own = labels_of(thing)
            runs[own[labels.RUN]].append((kind, thing))
            marks.setdefault(own[labels.RUN], own)
    swept = Swept()
    for run_id, things in runs.items():
        why = _kept_because(marks[run_id], include_kept, only_kept, everyone)
        if why is not None:
            if why:
                swept.left[why] = swept.left.get(why, 0) + len(things)
            continue
        if marks[run_id].get(labels.KEPT) == "true":
            note_removal(run_id, by)
        for kind, thing in sorted(things, key=lambda pair: _ORDER[pair[0]]):
            _remove(kind, thing, swept)
    if scenario is None:  # a whole sweep: data cache fills dead runs left half done too
        swept.merge(datacache.sweep(client, everyone=everyone))
    return swept


def _kept_because(
    marks: dict[str, str], include_kept: bool, only_kept: bool, everyone: bool
) -> str | None:
    """Why a run's objects stay (None: they go; "": not asked about, say nothing)."""
    kept = marks.get(labels.KEPT) == "true"
    if (kept and not include_kept) or (only_kept and not kept):
        return ""
    owner = marks.get(labels.OWNER)
    state = liveness(owner)
    mine = kept and owner == _this_owner_label()  # this process left it up, and takes it down
    if state is Liveness.ALIVE and not mine:
        return LIVE
    if kept and marks.get(labels.USER) != this_user() and not everyone:
        return OTHER_USERS
    if state is Liveness.UNKNOWN and not kept and not everyone:
        return UNCHECKABLE
    return None


def _this_owner_label() -> str | None:
    me = this_process()
    return None if me is None else me.label()


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
    _record(f"{kind} {name_of(thing)}", partial(_REMOVERS[kind], thing), swept)


def name_of(thing: Any) -> str:
    """A container's, network's or volume's name, also from a sparse container listing (which
    gives `Names`, each with a leading slash)."""
    names = thing.attrs.get("Names") or [thing.name or thing.id]
    return str(names[0]).lstrip("/")


def _record(what: str, remove: Callable[[], object], swept: Swept) -> None:
    problem = remove_quietly(what, remove)
    if problem:
        swept.problems.append(problem)
    else:
        swept.removed.append(what)


def caches(client: docker.DockerClient, *, images: bool = False, cache: bool = False) -> Swept:
    """The caches asked for (`poc clean --cache`, `--images`). Two caches are kept between
    runs: the images poc-runner built and the data cache (datacache.py). `cache` removes the
    data cache; `images`, asked to clear what poc-runner keeps to go faster, removes both, so
    no filled data volume outlives the images it was made beside."""
    swept = Swept()
    if images:
        swept.merge(remove_built_images(client))
    if images or cache:
        swept.merge(datacache.remove_all(client))
    return swept


def remove_built_images(client: docker.DockerClient) -> Swept:
    """`poc clean --images`: the images poc-runner built (kept as a build cache otherwise)."""
    swept = Swept()
    for image in client.images.list(filters={"label": labels.SCENARIO}):
        for tag in image.tags or [image.id]:
            _record(f"image {tag}", partial(client.images.remove, tag, force=True), swept)
    return swept
