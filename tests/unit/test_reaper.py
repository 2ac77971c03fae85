"""Owners and the sweep's rules: a run's objects are removed only when the process that owns
them has provably ended, whatever user, home or state folder either side has."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from docker.models.containers import Container

from poc_runner.backends.docker.sweep import (
    LIVE,
    OTHER_USERS,
    UNCHECKABLE,
    _kept_because,
    labels_of,
    name_of,
)
from poc_runner.sandbox import labels
from poc_runner.sandbox.owner import Liveness, Owner, liveness, this_process, this_user
from poc_runner.settings import state_dir


def me() -> Owner:
    owner = this_process()
    assert owner is not None, "this test runs on Linux"
    return owner


def ended_child() -> Owner:
    """The owner label of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    owner = replace(me(), pid=child.pid, started=0)
    child.wait()
    return owner


def test_this_process_is_alive() -> None:
    assert liveness(me().label()) is Liveness.ALIVE


def test_a_process_that_ended_is_gone() -> None:
    assert liveness(ended_child().label()) is Liveness.GONE


def test_a_reused_process_id_is_not_the_owner() -> None:
    """Same id, another start time: the owner ended and the id went to someone else."""
    assert liveness(replace(me(), started=me().started + 1).label()) is Liveness.GONE


def test_an_unreaped_child_is_gone() -> None:
    """A process that ended but was not reaped yet (a zombie) still has its id: gone all the
    same."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        with open(f"/proc/{child.pid}/stat") as stat:  # noqa: PTH123 - a zombie keeps it
            started = int(stat.read().rsplit(")", 1)[1].split()[19])
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # ended, not reaped
        owner = Owner(me().boot, me().pid_namespace, child.pid, started)
        assert liveness(owner.label()) is Liveness.GONE
    finally:
        child.wait()


def _started(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:  # noqa: PTH123
        return int(stat.read().rsplit(")", 1)[1].split()[19])


@pytest.mark.parametrize(
    "other",
    [
        {"boot": "another-boot-or-machine"},
        {"pid_namespace": 1},  # a process in another container on this kernel
    ],
)
def test_an_owner_that_cannot_be_checked_from_here_is_unknown(other: dict[str, object]) -> None:
    owner = replace(ended_child(), **other)  # type: ignore[arg-type]
    assert liveness(owner.label()) is Liveness.UNKNOWN


@pytest.mark.parametrize("text", [None, "", "garbage", "a/b/c/d", "boot/1/2"])
def test_an_unreadable_owner_label_is_unknown(text: str | None) -> None:
    assert liveness(text) is Liveness.UNKNOWN


def marks(owner: Owner, *, kept: bool = False, user: str | None = None) -> dict[str, str]:
    found = {labels.RUN: "r1", labels.OWNER: owner.label(), labels.USER: user or this_user()}
    return {**found, labels.KEPT: "true"} if kept else found


def kept_because(found: dict[str, str], **options: bool) -> str | None:
    settings = {"include_kept": False, "only_kept": False, "everyone": False, **options}
    return _kept_because(found, **settings)


def test_a_live_run_is_never_swept_even_with_all() -> None:
    assert kept_because(marks(me()), include_kept=True, everyone=True) == LIVE


def test_a_dead_run_is_swept() -> None:
    assert kept_because(marks(ended_child())) is None


def test_an_uncheckable_run_is_left_unless_all() -> None:
    elsewhere = replace(ended_child(), boot="elsewhere")
    assert kept_because(marks(elsewhere), include_kept=True) == UNCHECKABLE
    assert kept_because(marks(elsewhere), include_kept=True, everyone=True) is None


def test_a_kept_sandbox_waits_for_its_own_users_clean() -> None:
    sandbox = marks(ended_child(), kept=True)
    assert kept_because(sandbox) == ""  # a run's sweep does not even consider it
    assert kept_because(sandbox, include_kept=True) is None


def test_another_users_kept_sandbox_is_left_unless_all() -> None:
    theirs = marks(ended_child(), kept=True, user="ana@elsewhere")
    assert kept_because(theirs, include_kept=True) == OTHER_USERS
    assert kept_because(theirs, include_kept=True, only_kept=True) == OTHER_USERS  # poc down
    assert kept_because(theirs, include_kept=True, everyone=True) is None


def test_a_kept_sandbox_still_being_brought_up_is_live() -> None:
    bringing_up = marks(replace(me(), pid=os.getppid(), started=_started(os.getppid())), kept=True)
    assert kept_because(bringing_up, include_kept=True) == LIVE


def test_the_process_that_left_a_sandbox_up_may_take_it_down() -> None:
    assert kept_because(marks(me(), kept=True), include_kept=True, only_kept=True) is None


def test_state_dir_follows_poc_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POC_STATE_DIR", str(tmp_path))
    assert state_dir() == tmp_path


def test_state_dir_falls_back_to_xdg_then_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("POC_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir() == tmp_path / "xdg" / "poc-runner"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_dir() == tmp_path / "home" / ".local" / "state" / "poc-runner"


def test_a_sparse_container_is_named_from_the_listing() -> None:
    """The sweep lists containers sparse (no inspect): their name is in `Names`."""
    listed = Container(attrs={"Id": "f00d", "Names": ["/poc-1-app"], "Labels": {"a": "b"}})
    assert name_of(listed) == "poc-1-app"
    assert labels_of(listed) == {"a": "b"}
    inspected = Container(attrs={"Id": "f00d", "Name": "/poc-1-app", "Config": {"Labels": {}}})
    assert name_of(inspected) == "poc-1-app"
