"""poc-runner's own helper containers: the image they run and how they are confined.

Helpers do what must happen inside the sandbox but is not the product's work: the probe from
which `http` checks are sent, the stopper that ends a timed-out step's processes, the forwarder
that publishes `poc up`'s ports. They run from one small image with python3 (the local base
image, or POC_HELPER_IMAGE), carry the run's labels, so teardown and the sweep find them, and
are confined as tightly as their job allows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from poc_runner import settings
from poc_runner.backends.docker.objects import create_container
from poc_runner.errors import SandboxError
from poc_runner.setup import tag_of

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

BASE_IMAGE = tag_of("base")  # made by `poc setup`


def helper_image() -> str:
    return settings.helper_image() or BASE_IMAGE


# The fewest pids a container of ours may have: runc's own init counts against the limit while
# it starts the container, and its Go runtime makes about six threads; under 16 the engine's
# start fails now and then under load ("pthread_create failed", "cannot start a stopped
# process": 1 start in 30 to 40 at a limit of 4 with both cores busy, none in 40 at 16).
START_PIDS = 16


def confined(
    *, capabilities: tuple[str, ...] = (), memory: str = "64m", pids: int = 32
) -> dict[str, Any]:
    """Keyword arguments of `containers.create` for a helper: no capabilities but those named,
    no new privileges, a read-only root, small limits, no logs kept, the host's proxy never
    copied in."""
    return {
        "cap_drop": ["ALL"],
        "cap_add": list(capabilities),
        "security_opt": ["no-new-privileges:true"],
        "read_only": True,
        "mem_limit": memory,
        "memswap_limit": memory,
        "pids_limit": pids,
        "log_config": {"Type": "none", "Config": {}},
    }


def create_unstarted(
    client: docker.DockerClient,
    image: str,
    mounts: list[Any],
    labels: dict[str, str],
    name: str | None = None,
) -> Container:
    """A container that is never started, made only for its mounts: to copy files into volumes
    through the engine's archive API (a filler), or to keep a volume in use (a pin). Any image
    does, since nothing in it runs; no network, no proxy settings copied in."""
    return create_container(
        client,
        image,
        command=["true"],
        entrypoint=[],
        name=name,
        labels=labels,
        network_disabled=True,
        mounts=mounts,
    )


def create_helper(
    client: docker.DockerClient, what: str, command: list[str], **options: Any
) -> Container:
    """Create a helper container from the helper image; a clear error when it is missing."""
    import docker

    image = helper_image()
    try:
        return create_container(client, image, command=command, entrypoint=[], **options)
    except docker.errors.ImageNotFound:
        raise SandboxError(
            f"{what} runs from the image {image}, which is not on this machine: run"
            " `poc setup`, or set POC_HELPER_IMAGE to any image with python3"
        ) from None
