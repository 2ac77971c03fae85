"""Images built from the folders the package ships (poc_runner/images/): the PostgreSQL
stand-in, and the base made from a registry image (`poc setup --from-registry`).

Each built image carries the key of its build's inputs (backends/docker/buildkey.py: its folder, its
build args, the id of the image it builds FROM), so `poc setup` can tell an image of an older
Dockerfile, or of another base, from a current one without building anything.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from poc_runner import __version__
from poc_runner.backends.docker.buildkey import LABEL, build_key
from poc_runner.backends.docker.images import local_image_id
from poc_runner.errors import SandboxError

if TYPE_CHECKING:
    import docker

SETUP_LABEL = "io.poc-runner.setup"  # on every image `poc setup` makes: the version that did
_LOG_LINES = 15
_SHOWN = 72  # characters of a build step shown as progress

Report = Callable[[str], None]


def folder(name: str) -> Path:
    """A build folder shipped in the package (a real folder: the wheel installs as files)."""
    found = files("poc_runner") / "images" / name
    if not isinstance(found, Path) or not (found / "Dockerfile").is_file():
        raise SandboxError(f"poc-runner's build folder images/{name} is missing from its install")
    return found


def key_of(client: docker.DockerClient, name: str, args: dict[str, str]) -> str | None:
    """The key a build of the folder `name` with `args` would carry now (None: not knowable,
    as when the image it builds FROM is not here)."""
    return build_key(folder(name), "Dockerfile", args, partial(local_image_id, client))


def build(
    client: docker.DockerClient,
    name: str,
    tag: str,
    args: dict[str, str],
    report: Report,
    hint: str = "",
) -> str:
    """Build the shipped folder `name` as `tag`, FROM images already here; the image's id.
    `hint`, if any, ends the error a failed build raises.

    The engine's cache makes an unchanged build quick. The build reaches the network as any
    `docker build` does (apt-get needs a Debian mirror), and takes the proxy settings of the
    user's docker config: this is poc-runner's own build, not a scenario's."""
    import docker

    key = key_of(client, name, args)
    tail: list[str] = []
    labels = {SETUP_LABEL: __version__, **({LABEL: key} if key else {})}
    try:
        for chunk in client.api.build(
            path=str(folder(name)),
            tag=tag,
            buildargs=args,
            labels=labels,
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
        ):
            if "error" in chunk:
                tail.append(str(chunk["error"]).strip())
                raise SandboxError(_failed(tag, tail) + hint)
            text = str(chunk.get("stream", "")).strip()
            if text:
                tail = [*tail[-_LOG_LINES:], text]
                if text.startswith("Step "):  # Step 4/10 : RUN apt-get update ...
                    report(text if len(text) <= _SHOWN else f"{text[: _SHOWN - 3]}...")
    except docker.errors.APIError as exc:
        raise SandboxError(f"{_failed(tag, tail)} ({exc.explanation}){hint}") from None
    return str(client.images.get(tag).id)


def pull(client: docker.DockerClient, reference: str, report: Report) -> None:
    """Pull `reference` unless it is here, saying how many of its layers have arrived."""
    import docker

    if local_image_id(client, reference) is not None:
        return
    report(f"pulling {reference}")
    layers: dict[str, bool] = {}
    try:
        for chunk in client.api.pull(reference, stream=True, decode=True):
            if "error" in chunk:
                raise docker.errors.APIError(str(chunk["error"]))
            if "id" in chunk and "progressDetail" in chunk:  # a layer's own line
                done = chunk.get("status") in ("Pull complete", "Already exists")
                if done and not layers.get(chunk["id"]):
                    layers[chunk["id"]] = True
                    report(f"pulling {reference}: {sum(layers.values())}/{len(layers)} layers")
                layers.setdefault(chunk["id"], False)
    except docker.errors.DockerException as exc:
        reason = getattr(exc, "explanation", None) or str(exc)
        raise SandboxError(
            f"could not pull {reference} ({reason}). `poc setup --from-registry` needs a"
            " registry the Docker engine reaches; without one, `poc setup` makes the base"
            " from Debian's packages."
        ) from None
    if local_image_id(client, reference) is None:
        raise SandboxError(f"the registry gave no image {reference}")


def _failed(tag: str, tail: list[str]) -> str:
    lines = "\n".join(f"  | {line}" for line in tail[-_LOG_LINES:])
    return f"building {tag} failed:\n{lines}"
