"""`RunLock` and `is_live`: a run is alive exactly while some process holds its flock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from poc_runner.sandbox.reaper import RunLock, is_live, state_dir

HOLDER = textwrap.dedent(
    """
    import sys
    from poc_runner.sandbox.reaper import RunLock

    with RunLock(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.read()  # hold until the parent closes our stdin (or kills us)
    print("released", flush=True)
    """
)


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POC_STATE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def holder(state: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock of run `child-run`."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, "child-run"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "POC_STATE_DIR": str(state)},
    )
    assert process.stdout is not None
    try:
        assert process.stdout.readline() == "locked\n"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def lock_file(run_id: str) -> Path:
    return state_dir() / "locks" / f"{run_id}.lock"


def test_state_dir_follows_poc_state_dir(state: Path) -> None:
    assert state_dir() == state


def test_state_dir_falls_back_to_xdg_then_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("POC_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir() == tmp_path / "xdg" / "poc-runner"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_dir() == tmp_path / "home" / ".local" / "state" / "poc-runner"


def test_an_unknown_run_is_dead() -> None:
    assert not is_live("never-ran")


def test_live_while_held_dead_after_release() -> None:
    with RunLock("r1") as lock:
        assert lock.path == lock_file("r1")
        assert lock.path.exists()
        assert is_live("r1")
        assert is_live("r1")  # asking does not disturb the holder
    assert not is_live("r1")
    assert not lock_file("r1").exists()


def test_runs_are_told_apart() -> None:
    with RunLock("r1"):
        assert is_live("r1")
        assert not is_live("r2")
        with RunLock("r2"):
            assert is_live("r2")
        assert not is_live("r2")
        assert is_live("r1")


def test_the_state_folder_is_created() -> None:
    assert not (state_dir() / "locks").exists()
    with RunLock("r1"):
        assert (state_dir() / "locks").is_dir()


def test_a_lock_can_be_taken_again_after_release() -> None:
    with RunLock("r1"):
        pass
    with RunLock("r1"):
        assert is_live("r1")
    assert not is_live("r1")


def test_a_leftover_lock_file_nobody_holds_is_dead_and_removed() -> None:
    lock_file("stale").parent.mkdir(parents=True)
    lock_file("stale").write_bytes(b"")
    assert not is_live("stale")
    assert not lock_file("stale").exists()


def test_live_while_another_process_holds_it(holder: subprocess.Popen[str]) -> None:
    assert is_live("child-run")
    assert holder.poll() is None


def test_dead_after_the_other_process_releases_it(holder: subprocess.Popen[str]) -> None:
    assert is_live("child-run")
    out, _ = holder.communicate("", timeout=10)  # closes stdin: the child leaves its `with`
    assert out == "released\n"
    assert holder.returncode == 0
    assert not is_live("child-run")


def test_dead_after_the_holder_is_killed(holder: subprocess.Popen[str]) -> None:
    assert is_live("child-run")
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    assert holder.returncode == -signal.SIGKILL
    assert lock_file("child-run").exists()  # SIGKILL leaves the file, but not the lock
    assert not is_live("child-run")
    assert not lock_file("child-run").exists()  # the dead run's lock is tidied away


def test_asking_from_another_process_sees_our_lock(state: Path) -> None:
    ask = "import sys; from poc_runner.sandbox.reaper import is_live; print(is_live(sys.argv[1]))"
    env = {**os.environ, "POC_STATE_DIR": str(state)}

    def asked(run_id: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", ask, run_id],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=10,
        ).stdout.strip()

    with RunLock("ours"):
        assert asked("ours") == "True"
    assert asked("ours") == "False"
