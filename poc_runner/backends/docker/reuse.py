"""Running again on a sandbox left up (`poc run --reuse`, `poc watch`): find it, make sure it
is still the scenario's, and bring its data up to date.

A sandbox `poc up` (or `poc run --keep`) left up is found by its labels: this user's, kept,
for this scenario. Each service container carries a fingerprint of what it was made from
(`io.poc-runner.definition`: a digest per field of its definition, of the data it mounts and
of its image), so a scenario whose services changed since is refused, naming the services and
what changed in them: they need `poc down` then `poc up`. Data is compared by content, in the
volumes themselves, and only the volumes whose files differ are filled again; nothing else
is recreated, which is what makes a re-run take seconds.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from poc_runner.backends.docker.data import copy_in
from poc_runner.backends.docker.forwarder import role
from poc_runner.backends.docker.helpers import START_PIDS, confined, create_helper
from poc_runner.backends.docker.objects import containers
from poc_runner.errors import InvalidInput, SandboxError
from poc_runner.plan import not_up
from poc_runner.sandbox import labels as label
from poc_runner.sandbox.archive import Cut, file_digests
from poc_runner.sandbox.dataplan import DataVolume
from poc_runner.sandbox.hashindex import HashIndex
from poc_runner.sandbox.owner import this_process, this_user

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container
    from docker.models.networks import Network

    from poc_runner.plan import SandboxPlan as Stack

DEFINITION = "io.poc-runner.definition"
_AT = "/poc-refresh"

# Run by python3 in the refresher: every file's sha256 under each mounted volume, as JSON.
_DIGESTS = """
import hashlib, json, os, sys
found = {}
for index in sys.argv[1:]:
    top = f"/poc-refresh/{index}"
    for folder, _, files in os.walk(top):
        for name in files:
            path = os.path.join(folder, name)
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            found.setdefault(index, {})[os.path.relpath(path, top)] = digest.hexdigest()
print(json.dumps(found))
"""
_EMPTY = """
import os, shutil, sys
top = sys.argv[1]
for entry in os.listdir(top):
    path = os.path.join(top, entry)
    shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)
"""


@dataclass
class Kept:
    """A sandbox left up: its run id and its objects, a container for every service."""

    run_id: str
    containers: dict[str, Container]  # service -> its container
    network: Network
    forwarders: dict[str, Container]  # service -> what publishes its ports (forwarder.py)


def kept_containers(client: docker.DockerClient, scenario: str) -> list[Container]:
    """This user's containers of the scenario left up (others' are theirs to use and remove),
    helpers included. One that `poc down` or `poc clean` is removing meanwhile is left out."""
    mine = [f"{label.SCENARIO}={scenario}", f"{label.KEPT}=true", f"{label.USER}={this_user()}"]
    return [c for c in containers(client, mine) if c.status not in _GOING]


_GOING = ("removing", "dead")  # on their way out: not part of a sandbox any more


def left_up(client: docker.DockerClient, scenario: str, *, others_only: bool = False) -> set[str]:
    """The run ids of this user's sandboxes of the scenario left up; with `others_only`, not
    counting what this process made (its own head start)."""
    found = kept_containers(client, scenario)
    if others_only:
        me = this_process()
        mine = me.label() if me is not None else None
        found = [c for c in found if c.labels.get(label.OWNER) != mine]
    return {str(c.labels.get(label.RUN)) for c in found}


def find_kept(client: docker.DockerClient, scenario: Stack, path: str) -> Kept:
    """This user's sandbox of the scenario left up, or an error saying how to get one: also
    when it was removed, whole or in part, since `poc up` (`poc down` or `poc clean` in
    another terminal), so nothing fails later on an object that is gone."""
    found = kept_containers(client, scenario.name)
    services = [c for c in found if DEFINITION in c.labels]  # not the helpers: the services
    runs = {container.labels[label.RUN] for container in services}
    if not runs:
        raise not_up(scenario.name, path)
    if len(runs) > 1:
        raise InvalidInput(
            f"{len(runs)} sandboxes of {scenario.name} are up ({', '.join(sorted(runs))}); run"
            f" `poc down {path}` and start one with `poc up {path}`"
        )
    (run_id,) = runs
    network = client.networks.list(names=[f"{label.name_prefix(run_id)}-net"])
    if not network:
        raise InvalidInput(
            f"the sandbox of {scenario.name} left up by run {run_id} lost its network since"
            f" `poc up` (removed by `poc down`, `poc clean` or by hand): run `poc down {path}`,"
            f" then `poc up {path}`"
        )
    roles = {role(name): name for name in scenario.services}
    forwarders = {
        roles[c.labels[label.SERVICE]]: c
        for c in found
        if c.labels.get(label.RUN) == run_id and c.labels.get(label.SERVICE) in roles
    }
    by_service = {c.labels[label.SERVICE]: c for c in services if c.labels[label.RUN] == run_id}
    missing = [name for name in scenario.services if name not in by_service]
    if missing:
        raise InvalidInput(
            f"the sandbox of {scenario.name} left up by run {run_id} has no container for"
            f" {', '.join(missing)} (removed since `poc up`, or new in the scenario): run"
            f" `poc down {path}`, then `poc up {path}`"
        )
    return Kept(run_id, by_service, network[0], forwarders)


def refresh(
    client: docker.DockerClient,
    volumes: list[DataVolume],
    labels: dict[str, str],
    prefix: str,
    cut: Cut | None = None,
) -> dict[str, str]:
    """Fill again the data volumes whose files differ from the scenario folder's; returns the
    sha256 of every file by its container path, as filling them does. A fill `cut` short
    leaves a volume that differs, so the next reuse fills it again."""
    if not volumes:
        return {}
    from docker.types import Mount

    refresher = create_helper(
        client,
        "bringing the data of a reused sandbox up to date",
        ["sleep", "infinity"],
        name=f"{prefix}_refresh",
        labels={**labels, label.SERVICE: "(refresh)"},
        network_disabled=True,
        mounts=[Mount(f"{_AT}/{i}", v.name, type="volume") for i, v in enumerate(volumes)],
        **confined(capabilities=("DAC_OVERRIDE", "FOWNER"), memory="128m", pids=START_PIDS),
    )
    hashes = HashIndex.load()
    try:
        refresher.start()
        inside = _inside(refresher, len(volumes))
        digests: dict[str, str] = {}
        for index, volume in enumerate(volumes):
            wanted = file_digests(volume.entries, hashes)
            if wanted != inside.get(str(index), {}):
                wanted = _fill(refresher, index, volume, hashes, cut)
            for member, digest in wanted.items():
                digests[posixpath.normpath(posixpath.join(volume.mount, member))] = digest
        return digests
    finally:
        refresher.remove(force=True)
        hashes.save()


def _inside(refresher: Container, count: int) -> dict[str, dict[str, str]]:
    code, output = refresher.exec_run(["python3", "-c", _DIGESTS, *map(str, range(count))])
    if code != 0:
        raise SandboxError(f"could not read the data of the reused sandbox: {_text(output)}")
    found: dict[str, dict[str, str]] = json.loads(output)
    return found


def _fill(
    refresher: Container, index: int, volume: DataVolume, hashes: HashIndex, cut: Cut | None
) -> dict[str, str]:
    code, output = refresher.exec_run(["python3", "-c", _EMPTY, f"{_AT}/{index}"])
    if code != 0:
        raise SandboxError(f"could not empty {volume.mount} for its new data: {_text(output)}")
    return copy_in(refresher, f"{_AT}/{index}", volume, hashes, cut).digests


def _text(output: bytes) -> str:
    return output.decode("utf-8", "replace").strip()[-300:] or "no output"
