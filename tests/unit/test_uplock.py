"""One `poc up` of a scenario at a time (sandbox/uplock.py), and what removed a sandbox under a
run, as the command that did it noted (sandbox/notes.py)."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from poc_runner.errors import SandboxError
from poc_runner.sandbox import uplock
from poc_runner.sandbox.notes import note_removal, removed_by

ENGINE = "unix:///nowhere.sock"  # the engine the sandbox is brought up on


@pytest.fixture(autouse=True)
def own_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POC_STATE_DIR", str(tmp_path / "state"))


def bringing_up(
    scenario: str, command: str, path: str, engine: str = ENGINE
) -> AbstractContextManager[None]:
    return uplock.bringing_up(scenario, command, path, engine)


def test_a_second_bringing_up_of_one_scenario_is_refused_naming_the_first() -> None:
    with (
        bringing_up("demo", "`poc up`", "demo/scenario.yaml"),
        pytest.raises(SandboxError) as refused,
        bringing_up("demo", "`poc run --keep`", "demo/scenario.yaml"),
    ):
        pass
    message = str(refused.value)
    assert f"demo is being brought up by another `poc up` (pid {os.getpid()}, since" in message
    assert "`poc run --reuse demo/scenario.yaml`" in message


def test_another_scenario_or_a_later_one_is_not_held_up() -> None:
    with bringing_up("demo", "`poc up`", "x"), bringing_up("other", "`poc up`", "y"):
        pass
    with bringing_up("demo", "`poc up`", "x"):  # the first let go
        pass


def test_the_same_scenario_on_another_engine_is_not_held_up() -> None:
    with (
        bringing_up("demo", "`poc up`", "x"),
        bringing_up("demo", "`poc up`", "x", "ssh://elsewhere"),
    ):
        pass


def test_a_removal_noted_is_said_with_who_and_when() -> None:
    assert removed_by("r1") is None
    note_removal("r1", "`poc down`")
    said = removed_by("r1")
    assert said is not None
    assert said.startswith(f"`poc down` (pid {os.getpid()}, ")
    assert removed_by("r2") is None
