"""The image each service runs: built from its folder, found locally, or pulled (spec, "services").

`build` uses the engine's build cache and tags the result with the service's `image` name when
it has one; built images carry the scenario label and are kept as a cache (`poc clean --images`
removes them). `image` alone is used when present locally and pulled otherwise. Builds of one
scenario run one after another: the engine parallelises each build itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from poc_runner.errors import SandboxError
from poc_runner.model import Scenario
from poc_runner.model.services import Service
from poc_runner.model.types import env_as_dict
from poc_runner.sandbox import labels

if TYPE_CHECKING:
    import docker

_BUILD_LOG_LINES = 15


def ensure_images(
    client: docker.DockerClient,
    scenario: Scenario,
    folder: Path,
    report: Callable[[str, str], None],
) -> dict[str, str]:
    """The image id of every service, building or pulling what is missing."""
    ids: dict[str, str] = {}
    for name, service in scenario.services.items():
        if service.build is not None:
            report(name, "building image")
            ids[name] = _build(client, scenario.name, name, service, folder)
        else:
            ids[name] = _find_or_pull(client, name, service.image or "", report)
    return ids


def built_tag(scenario: str, service: str) -> str:
    return f"poc-runner/{scenario}-{service}:latest"


def _build(
    client: docker.DockerClient, scenario: str, name: str, service: Service, folder: Path
) -> str:
    import docker

    spec = service.build_spec
    assert spec is not None
    tag = service.image or built_tag(scenario, name)
    log: list[str] = []
    try:
        for chunk in client.api.build(
            path=str(folder / spec.context),
            dockerfile=spec.dockerfile,
            tag=tag,
            buildargs=env_as_dict(spec.args) or None,
            labels={labels.SCENARIO: scenario},
            rm=True,
            forcerm=True,
            decode=True,
            use_config_proxy=False,
        ):
            if "error" in chunk:
                log.append(str(chunk["error"]).strip())
                raise SandboxError(_build_failed(name, tag, log))
            text = str(chunk.get("stream", "")).rstrip()
            if text:
                log = [*log[-_BUILD_LOG_LINES:], text]
    except docker.errors.APIError as exc:
        raise SandboxError(f"{_build_failed(name, tag, log)} ({exc.explanation})") from None
    return str(client.images.get(tag).id)


def _build_failed(service: str, tag: str, log: list[str]) -> str:
    tail = "\n".join(f"  | {line}" for line in log[-_BUILD_LOG_LINES:])
    return f"building the image of service {service!r} ({tag}) failed:\n{tail}"


def _find_or_pull(
    client: docker.DockerClient, name: str, image: str, report: Callable[[str, str], None]
) -> str:
    import docker

    try:
        return str(client.images.get(image).id)
    except docker.errors.ImageNotFound:
        pass
    report(name, f"pulling {image}")
    try:
        return str(client.images.pull(image).id)  # the SDK splits the tag or digest off
    except docker.errors.DockerException as exc:
        reason = getattr(exc, "explanation", None) or str(exc)
        raise SandboxError(
            f"service {name!r}: image {image!r} is not on this machine and could not be pulled"
            f" ({reason}). Build it first, give the service a `build:` folder, or check the"
            " registry is reachable."
        ) from None
