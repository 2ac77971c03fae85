"""The engine's objects, each primitive written once: create a container or a volume, list
them by label, remove them.

Removal, at teardown and clean-up, is one way whatever the object. Something already gone
counts as removed (another teardown, `poc clean` or a person got there first); any other
failure is returned as text, so a teardown goes on and reports it at the end instead of
stopping halfway.

Several sweeps may take one dead run's objects at once (every `poc run` sweeps first, and
`poc clean` may run beside them). The engine refuses a second removal of a container whose
removal is under way (409, "already in progress"), and until that removal ends the container
still holds its network and volumes: so a container being removed by someone else is waited
for until it is gone, as if this sweep had removed it, and what it used can go next.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from poc_runner.backends.docker.errors import engine_lost
from poc_runner.errors import reason

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container
    from docker.models.networks import Network
    from docker.models.volumes import Volume

REMOVAL_WAIT_S = 60.0  # how long another's removal of a container may take before it is a problem
NO_PROXY = {"use_config_proxy": False}  # the host's proxy settings are never copied in


def create_container(client: docker.DockerClient, image: str, **options: Any) -> Container:
    """Create (not start) a container; the host's proxy settings are never copied into it."""
    container: Container = client.containers.create(image, **{**options, **NO_PROXY})
    return container


def create_volume(client: docker.DockerClient, name: str, labels: dict[str, str]) -> None:
    client.volumes.create(name, labels=labels)


def containers(
    client: docker.DockerClient, labels: Iterable[str], *, sparse: bool = False
) -> list[Container]:
    """Every container (running or not) carrying all these labels (`key` or `key=value`).
    One another process removes meanwhile is left out. `sparse`: as listed, with no inspect
    per container, so one the engine has locked (being filled with a big extract) does not
    hold the listing up; its labels and names are then the listing's."""
    found: list[Container] = client.containers.list(
        all=True, filters={"label": list(labels)}, sparse=sparse, ignore_removed=True
    )
    return found


def container_rows(
    client: docker.DockerClient, labels: Iterable[str], *, size: bool = False
) -> list[dict[str, Any]]:
    """The same containers as the engine lists them, in one request (with `size`, what each
    wrote to its own file system: SizeRw)."""
    listed: list[dict[str, Any]] = client.api.containers(
        all=True, filters={"label": list(labels)}, size=size
    )
    return listed


def networks(client: docker.DockerClient, labels: Iterable[str]) -> list[Network]:
    found: list[Network] = client.networks.list(filters={"label": list(labels)})
    return found


def volumes(client: docker.DockerClient, labels: Iterable[str]) -> list[Volume]:
    found: list[Volume] = client.volumes.list(filters={"label": list(labels)})
    return found


def volume_rows(client: docker.DockerClient, labels: Iterable[str]) -> list[dict[str, Any]]:
    """The same volumes as the engine lists them, in one request."""
    listed: list[dict[str, Any]] = (
        client.api.volumes(filters={"label": list(labels)}).get("Volumes") or []
    )
    return listed


def remove_quietly(what: str, remove: Callable[[], object]) -> str | None:
    """Run `remove`; None when the object is gone, else what went wrong, naming `what`."""
    import docker

    try:
        remove()
    except docker.errors.NotFound:
        pass
    except docker.errors.DockerException as exc:
        return f"{what}: {exc}"
    except Exception as exc:
        if not engine_lost(exc):
            raise
        return f"{what}: the Docker engine did not answer ({reason(exc)})"
    return None


def remove_container(container: Container) -> None:
    """At once: no stop grace (the sandbox is disposable), anonymous volumes too. When another
    process is removing it already, wait until that is done."""
    import docker

    try:
        container.remove(force=True, v=True)
    except docker.errors.APIError as exc:
        if not _removal_in_progress(exc):
            raise
        _wait_until_gone(container, exc)


def remove_volume(client: docker.DockerClient, name: str, *, force: bool = False) -> None:
    """Remove a volume; the engine refuses (409) while a container mounts it."""
    client.api.remove_volume(name, force=force)


def _removal_in_progress(exc: docker.errors.APIError) -> bool:
    return exc.status_code == 409 and "already in progress" in str(exc.explanation or "")


def _wait_until_gone(container: Container, refused: docker.errors.APIError) -> None:
    """Poll until the engine no longer knows the container (NotFound); raise the refusal when
    it is still there after REMOVAL_WAIT_S."""
    import docker

    deadline = time.monotonic() + REMOVAL_WAIT_S
    while time.monotonic() < deadline:
        try:
            container.client.api.inspect_container(container.id)
        except docker.errors.NotFound:
            return
        time.sleep(0.05)
    raise refused
