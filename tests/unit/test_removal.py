"""Removing at teardown and clean-up (poc_runner/backends/docker/removal.py): what is gone, or going already,
counts as removed once it is gone; anything else is said, naming the object."""

from __future__ import annotations

import docker
import pytest
import requests

from poc_runner.backends.docker import objects as removal
from poc_runner.backends.docker.objects import remove_container, remove_quietly


def refusal(status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("refused", response=response, explanation=explanation)


def failing(error: Exception) -> None:
    raise error


IN_PROGRESS = "removal of container 0123abcd is already in progress"


class Going:
    """A container another process is removing: the engine refuses a second removal, and
    knows the container for `inspections` more looks."""

    id = "0123abcd"

    def __init__(self, inspections: int) -> None:
        self.inspections = inspections
        self.client = self  # container.client.api.inspect_container
        self.api = self

    def remove(self, **_: object) -> None:
        raise refusal(409, IN_PROGRESS)

    def inspect_container(self, _id: str) -> dict[str, str]:
        if self.inspections == 0:
            raise docker.errors.NotFound("gone")
        self.inspections -= 1
        return {"Id": self.id}


def test_gone_counts_as_removed() -> None:
    assert remove_quietly("container app", lambda: failing(docker.errors.NotFound("x"))) is None


def test_a_container_going_already_is_waited_for_until_it_is_gone() -> None:
    """Two commands sweeping one ended run at once: the second waits for the first's removal
    to end, since until then the container still holds its network and volumes."""
    going = Going(inspections=3)
    assert remove_quietly("container app", lambda: remove_container(going)) is None  # type: ignore[arg-type]
    assert going.inspections == 0


def test_a_removal_that_never_ends_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(removal, "REMOVAL_WAIT_S", 0.2)
    said = remove_quietly("container app", lambda: remove_container(Going(10**9)))  # type: ignore[arg-type]
    assert said is not None and said.startswith("container app: ") and "in progress" in said


def test_another_refusal_is_said_naming_the_object() -> None:
    error = refusal(409, "volume is in use - [0123abcd]")
    said = remove_quietly("volume data", lambda: failing(error))
    assert said is not None and said.startswith("volume data: ") and "in use" in said
