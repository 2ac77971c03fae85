"""What a build made is found again: the build and the lookup of a reused sandbox compute the
build key in one function, so no field of `build` (its `target` above all) is left out of one
of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest

from poc_runner.backends.docker import images
from poc_runner.backends.docker.buildkey import LABEL
from poc_runner.model import Scenario
from poc_runner.plan import Build, image_of

BASE = "poc-runner/base:bookworm"
DOCKERFILE = f"FROM {BASE} AS base\nFROM base AS migrations\nRUN true\nFROM base AS api\n"


@dataclass
class FakeImage:
    id: str
    labels: dict[str, str]
    tags: list[str] = field(default_factory=list)

    def tag(self, repository: str, version: str) -> None:
        self.tags.append(f"{repository}:{version}")


class FakeImages:
    """The engine's images, as the docker SDK's `client.images` shows them."""

    def __init__(self) -> None:
        self.made: list[FakeImage] = [FakeImage("sha256:base", {}, [BASE])]

    def get(self, reference: str) -> FakeImage:
        for image in self.made:
            if reference in image.tags or reference == image.id:
                return image
        raise docker.errors.ImageNotFound(reference)

    def list(self, filters: dict[str, str]) -> list[FakeImage]:
        name, _, value = filters["label"].partition("=")
        return [image for image in self.made if image.labels.get(name) == value]


class FakeApi:
    def __init__(self, made: FakeImages) -> None:
        self.images, self.builds = made, 0

    def build(self, **options: Any) -> Iterator[dict[str, str]]:
        self.builds += 1
        tag = options["tag"]
        built = FakeImage(f"sha256:{options['target']}-{self.builds}", options["labels"], [tag])
        self.images.made.append(built)
        yield {"stream": f"Successfully tagged {tag}"}


class FakeClient:
    def __init__(self) -> None:
        self.images = FakeImages()
        self.api = FakeApi(self.images)


def ensure_image(client: Any, stack: Scenario, service: str, folder: Path, report: Any) -> str:
    """The service's image as a run makes it: from its plan."""
    return images.ensure_image(
        client, stack.name, service, image_of(stack, service, folder), report
    )


def existing_image(client: Any, stack: Scenario, service: str, folder: Path) -> str | None:
    """The service's image as a reused sandbox looks it up: from its plan."""
    return images.existing_image(client, image_of(stack, service, folder))


@pytest.fixture
def stack(tmp_path: Path) -> Scenario:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(DOCKERFILE)
    return Scenario.model_validate(
        {
            "apiVersion": "poc-runner/v1",
            "name": "stock",
            "services": {
                "migrate": {"build": {"context": "app", "target": "migrations"}},
                "api": {"build": {"context": "app", "target": "api"}, "image": "vendor/api:1"},
            },
        }
    )


@pytest.mark.parametrize("service", ["migrate", "api"])
def test_an_image_built_for_a_target_is_found_again_by_the_reuse_lookup(
    stack: Scenario, tmp_path: Path, service: str
) -> None:
    client: Any = FakeClient()
    built = ensure_image(client, stack, service, tmp_path, lambda _s, _w: None)
    assert existing_image(client, stack, service, tmp_path) == built
    again = ensure_image(client, stack, service, tmp_path, lambda _s, _w: None)
    assert (again, client.api.builds) == (built, 1)  # the same key: not built twice


def test_two_targets_of_one_dockerfile_are_two_images(stack: Scenario, tmp_path: Path) -> None:
    client: Any = FakeClient()
    found = {
        name: ensure_image(client, stack, name, tmp_path, print) for name in ("migrate", "api")
    }
    assert found["migrate"] != found["api"]
    keys = {image.labels[LABEL] for image in client.images.made if LABEL in image.labels}
    assert len(keys) == 2


def test_the_build_and_the_lookup_take_their_key_from_one_function(
    stack: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    real = images.build_key_of

    def spy(client: Any, build: Build) -> str | None:
        asked.append(str(build.target))
        return real(client, build)

    monkeypatch.setattr(images, "build_key_of", spy)
    client: Any = FakeClient()
    ensure_image(client, stack, "api", tmp_path, lambda _s, _w: None)
    existing_image(client, stack, "api", tmp_path)
    assert asked == ["api", "api"]
