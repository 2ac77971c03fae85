"""Removing at teardown and clean-up (sandbox/removal.py): what is gone, or going already,
counts as removed; anything else is said, naming the object."""

from __future__ import annotations

import docker
import pytest
import requests

from poc_runner.sandbox.removal import remove_quietly


def refusal(status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("refused", response=response, explanation=explanation)


def failing(error: Exception) -> None:
    raise error


@pytest.mark.parametrize(
    "error",
    [
        docker.errors.NotFound("gone"),
        refusal(409, "removal of container 0123abcd is already in progress"),
    ],
)
def test_gone_or_going_counts_as_removed(error: Exception) -> None:
    """Two commands sweeping one ended run at once: the second finds it on its way out."""
    assert remove_quietly("container app", lambda: failing(error)) is None


def test_another_refusal_is_said_naming_the_object() -> None:
    error = refusal(409, "volume is in use - [0123abcd]")
    said = remove_quietly("volume data", lambda: failing(error))
    assert said is not None and said.startswith("volume data: ") and "in use" in said
