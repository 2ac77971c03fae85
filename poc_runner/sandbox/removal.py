"""Removing Docker objects at teardown and clean-up: one way, whatever the object.

Something already gone counts as removed (another teardown, `poc clean` or a person got there
first), and so does something the engine is removing already (another command's sweep of the
same ended run, at the same moment); any other failure is returned as text, so a teardown goes
on and reports it at the end instead of stopping halfway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from poc_runner.errors import engine_lost, reason

if TYPE_CHECKING:
    from docker.models.containers import Container


_BEING_REMOVED = "is already in progress"  # the engine's words: "removal of container ..."


def remove_quietly(what: str, remove: Callable[[], object]) -> str | None:
    """Run `remove`; None when the object is gone, else what went wrong, naming `what`."""
    import docker

    try:
        remove()
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code == 409 and _BEING_REMOVED in str(exc.explanation or ""):
            return None  # another command removes it at this very moment
        return f"{what}: {exc}"
    except docker.errors.DockerException as exc:
        return f"{what}: {exc}"
    except Exception as exc:
        if not engine_lost(exc):
            raise
        return f"{what}: the Docker engine did not answer ({reason(exc)})"
    return None


def remove_container(container: Container) -> None:
    """At once: no stop grace (the sandbox is disposable), anonymous volumes too."""
    container.remove(force=True, v=True)
