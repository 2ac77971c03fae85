"""Making the images `poc setup` is asked for, in order, each kept by its tag.

An image whose tag exists is kept as it is (a second `poc setup` returns at once; runs that
use an image keep theirs, since a build only moves the tag); `--rebuild` makes the base and
PostgreSQL images again. The PostgreSQL image is also made again when the folder this
poc-runner ships differs from the one it was built from (the stand-in's behaviour is part of
poc-runner's); a base built from another Dockerfile or image is only said to be so.
"""

from __future__ import annotations

import time
from contextlib import suppress
from typing import TYPE_CHECKING

from poc_runner import __version__
from poc_runner.backends.docker.buildkey import LABEL
from poc_runner.backends.docker.holder import ensure_pause_image
from poc_runner.backends.docker.images import local_image_id
from poc_runner.backends.docker.setup import build as built
from poc_runner.backends.docker.setup import debian
from poc_runner.events import Event, OnEvent, ignore
from poc_runner.setup import IMAGES, tag_of
from poc_runner.setup.request import Made, Request

if TYPE_CHECKING:
    import docker

_REGISTRY_HINT = (
    "\n--from-registry takes a Debian or Ubuntu image: one with python3, or with a shell and"
    " apt-get to install it."
)


def set_up(
    client: docker.DockerClient, request: Request, on_event: OnEvent | None = None
) -> list[Made]:
    """Make the images of `request` that are not there yet, saying how it goes to `on_event`."""
    wanted = set(request.images) | ({"base"} if "postgres" in request.images else set())
    emit = on_event or ignore
    return [_one(client, request, image, emit) for image in IMAGES if image in wanted]


def _one(client: docker.DockerClient, request: Request, image: str, emit: OnEvent) -> Made:
    tag = tag_of(image, request.prefix)
    found = local_image_id(client, tag)
    older = "" if found is None else _older(client, request, image)
    # The PostgreSQL folder ships with poc-runner: one that changed (an upgrade) is built again,
    # as the sandbox's behaviour follows it; a base is kept until --rebuild (a minute or two).
    kept = found is not None and (image == "pause" or not request.rebuild)
    if kept and not (older and image == "postgres"):
        return Made(tag, found, "there already" + older)

    def report(status: str) -> None:
        emit(Event("setup", tag, status, active=True))

    started = time.monotonic()
    made = _make(client, request, image, tag, report)
    emit(Event("setup", tag, "ready" if made else "not made"))
    if made is None:
        why = "not made: no pause executable for this engine's machine (runs start services"
        return Made(tag, None, f"{why} without network holders)")
    seconds = time.monotonic() - started
    if found is not None and found != made:
        _drop_untagged(client, found)
    return Made(tag, made, f"{_how(request, image)} in {seconds:.1f} s")


def _drop_untagged(client: docker.DockerClient, image_id: str) -> None:
    """Remove the image a rebuild took the tag from, unless something still uses it (a
    container, an image built FROM it, another tag): the engine refuses those, and they stay."""
    import docker

    with suppress(docker.errors.APIError):
        client.images.remove(image_id, noprune=False)


def _make(
    client: docker.DockerClient, request: Request, image: str, tag: str, report: debian.Report
) -> str | None:
    base = tag_of("base", request.prefix)
    if image == "pause":
        return local_image_id(client, tag) if ensure_pause_image(client, tag) else None
    if image == "postgres":
        return built.build(client, "postgres", tag, {"BASE": base}, report)
    if request.registry_base is not None:
        built.pull(client, request.registry_base, report)
        args = {"BASE": request.registry_base}
        return built.build(client, "base", tag, args, report, _REGISTRY_HINT)
    report("making a Debian root file system (debootstrap, a minute or two)")
    label = f"LABEL {built.SETUP_LABEL}={__version__}"
    return debian.make_base(client, tag, (*debian.CHANGES, label), report, request.mirror)


def _how(request: Request, image: str) -> str:
    if image == "pause":
        return "made"
    if image == "postgres":
        return f"built FROM {tag_of('base', request.prefix)}"
    if request.registry_base is not None:
        return f"built FROM {request.registry_base}"
    return "made from Debian's packages"


def _older(client: docker.DockerClient, request: Request, image: str) -> str:
    """Why a kept image is not what `poc setup` would build now, or nothing."""
    if image == "pause" or (image == "base" and request.registry_base is None):
        return ""  # not built from a folder: nothing to compare
    base = request.registry_base if image == "base" else tag_of("base", request.prefix)
    args = {"BASE": base or ""}
    labels = client.images.get(tag_of(image, request.prefix)).labels or {}
    had, now = labels.get(LABEL), built.key_of(client, image, args)
    if now is None or had == now:  # no key: made by hand or by an older poc-runner
        return ""
    return (
        " (built from another Dockerfile or base than this poc-runner's:"
        " `poc setup --rebuild` makes it again)"
    )
