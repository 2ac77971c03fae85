"""The image each service runs: built from its folder, found locally, or pulled (spec, "services").

`build` uses the engine's build cache and tags the result with the service's `image` name when
it has one; built images carry the scenario label and are kept as a cache (`poc clean --images`
removes them). `image` alone is used when present locally and pulled otherwise. Each service's
image is made in that service's own start-up thread, so builds and pulls run side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from poc_runner.backends.docker.buildkey import LABEL, build_key
from poc_runner.errors import SandboxError
from poc_runner.model.services import Healthcheck
from poc_runner.plan import Build, Image
from poc_runner.sandbox import labels

if TYPE_CHECKING:
    import docker

_BUILD_LOG_LINES = 15
Report = Callable[[str, str], None]  # (service, what is happening)


def ensure_image(
    client: docker.DockerClient, scenario: str, name: str, image: Image, report: Report
) -> str:
    """The image id of one service, building or pulling it if need be."""
    if image.built:
        assert image.build is not None
        report(name, "building image")
        return _build(client, scenario, name, image.build)
    if image.pull == "always":
        return _pull(client, name, image.reference or "", report)
    return _find_or_pull(client, name, image.reference or "", report, pull=image.pull != "never")


def _build(client: docker.DockerClient, scenario: str, name: str, build: Build) -> str:
    import docker

    tag = build.tag
    key = build_key_of(client, build)
    if key is not None and (ready := _built_before(client, key, tag)) is not None:
        return ready
    log: list[str] = []
    network = build.network
    try:
        for chunk in client.api.build(
            path=str(build.context),
            dockerfile=build.dockerfile,
            tag=tag,
            buildargs=dict(build.args) or None,
            target=build.target,
            labels={labels.SCENARIO: scenario, **({LABEL: key} if key else {})},
            rm=True,
            forcerm=True,
            decode=True,
            use_config_proxy=False,
            network_mode=network,  # none in an isolated sandbox (Service.build_network)
        ):
            if "error" in chunk:
                log.append(str(chunk["error"]).strip())
                raise SandboxError(_build_failed(name, tag, log) + _offline_hint(network))
            text = str(chunk.get("stream", "")).rstrip()
            if text:
                log = [*log[-_BUILD_LOG_LINES:], text]
    except docker.errors.APIError as exc:
        raise SandboxError(f"{_build_failed(name, tag, log)} ({exc.explanation})") from None
    return str(client.images.get(tag).id)


def _offline_hint(network: str | None) -> str:
    """How to let a build that failed without a network download what it needs."""
    if network != "none":
        return ""
    return (
        "\nThe build ran without a network, as an isolated sandbox does (or as its"
        " `build.network: none` says). If it must download (apt-get, pip install, ...), give"
        " the service `build: {context: ..., network: default}`, or build the image"
        " beforehand and name it with `image:`."
    )


def existing_image(client: docker.DockerClient, image: Image) -> str | None:
    """The image the service would run, if it exists already (its build's, by build key, or
    its `image`); None when it would have to be built or pulled first."""
    if image.build is None:
        return local_image_id(client, image.reference or "")
    key = build_key_of(client, image.build)
    found = client.images.list(filters={"label": f"{LABEL}={key}"}) if key else []
    return str(found[0].id) if found else None


def build_key_of(client: docker.DockerClient, build: Build) -> str | None:
    """The build key of a service's `build` (buildkey.py), the one both the build and the
    lookup of what it built use: every field of `build` that changes the image (its target
    included) goes in here, so what was built is always found again."""
    return build_key(
        build.context,
        build.dockerfile,
        build.args,
        partial(local_image_id, client),
        build.target,
    )


def local_image_id(client: docker.DockerClient, reference: str) -> str | None:
    import docker

    try:
        return str(client.images.get(reference).id)
    except docker.errors.ImageNotFound:
        return None


def _built_before(client: docker.DockerClient, key: str, tag: str) -> str | None:
    """The image an identical build made earlier, tagged `tag` again if the tag moved."""
    found = client.images.list(filters={"label": f"{LABEL}={key}"})
    if not found:
        return None
    from docker.utils import parse_repository_tag

    image = found[0]
    repository, version = parse_repository_tag(tag)
    if f"{repository}:{version or 'latest'}" not in image.tags:
        image.tag(repository, version or "latest")
    return str(image.id)


def _build_failed(service: str, tag: str, log: list[str]) -> str:
    tail = "\n".join(f"  | {line}" for line in log[-_BUILD_LOG_LINES:])
    return f"building the image of service {service!r} ({tag}) failed:\n{tail}"


def _find_or_pull(
    client: docker.DockerClient,
    name: str,
    image: str,
    report: Report,
    *,
    pull: bool = True,
) -> str:
    import docker

    try:
        return str(client.images.get(image).id)
    except docker.errors.ImageNotFound:
        if not pull:
            raise SandboxError(
                f"service {name!r}: image {image!r} is not on this machine, and its"
                " `pull_policy: never` forbids pulling it"
            ) from None
    return _pull(client, name, image, report)


def _pull(client: docker.DockerClient, name: str, image: str, report: Report) -> str:
    import docker

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


def image_healthcheck(
    client: docker.DockerClient, image: str, name: str, given: Healthcheck
) -> Healthcheck:
    """A healthcheck without `test`: the image's own HEALTHCHECK, with what the service sets
    (interval, retries, ...) over the image's (as Compose does)."""
    found = (client.images.get(image).attrs.get("Config") or {}).get("Healthcheck") or {}
    test = found.get("Test") or []
    if not test or test == ["NONE"]:
        raise SandboxError(
            f"service {name!r} has a healthcheck without `test`, and its image has no"
            " HEALTHCHECK of its own; give the healthcheck a `test`"
        )
    nanoseconds = {"Interval": "interval", "Timeout": "timeout", "StartPeriod": "start_period"}
    settings: dict[str, object] = {
        field: found[key] / 1e9 for key, field in nanoseconds.items() if found.get(key)
    }
    if found.get("Retries"):
        settings["retries"] = found["Retries"]
    settings.update({field: getattr(given, field) for field in given.model_fields_set})
    return Healthcheck.model_validate({**settings, "test": test})
