"""Removing Docker objects at teardown and clean-up: one way, whatever the object.

Something already gone counts as removed (another teardown, `poc clean` or a person got there
first); any other failure is returned as text, so a teardown goes on and reports it at the
end instead of stopping halfway.

Several sweeps may take one dead run's objects at once (every `poc run` sweeps first, and
`poc clean` may run beside them). The engine refuses a second removal of a container whose
removal is under way (409, "already in progress"), and until that removal ends the container
still holds its network and volumes: so a container being removed by someone else is waited
for until it is gone, as if this sweep had removed it, and what it used can go next.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from poc_runner.errors import engine_lost, reason

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

REMOVAL_WAIT_S = 60.0  # how long another's removal of a container may take before it is a problem


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
