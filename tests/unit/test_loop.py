"""`poc watch`'s eye on the scenario folder: which files count, how many at most, what changed,
and a sandbox that is gone ending the watch."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from poc_runner.errors import SandboxError
from poc_runner.loop import changed, look
from poc_runner.pipeline import Options as RunOptions


def folder(tmp_path: Path) -> Path:
    for relative in ("scenario.yaml", "data/orders.csv", "checks/total.py", ".git/HEAD",
                     "runs/x/result.json", "out/here.json", "app/__pycache__/m.pyc"):  # fmt: skip
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x")
    return tmp_path


def test_results_hidden_folders_and_caches_are_not_watched(tmp_path: Path) -> None:
    found = look(folder(tmp_path), tmp_path / "out").files
    assert sorted(p.relative_to(tmp_path).as_posix() for p in found) == [
        "checks/total.py",
        "data/orders.csv",
        "scenario.yaml",
    ]


def test_an_edit_an_addition_and_a_removal_are_changes(tmp_path: Path) -> None:
    root = folder(tmp_path)
    before = look(root, root / "out").files
    data = root / "data" / "orders.csv"
    data.write_text("a longer content")
    os.utime(data, ns=(1, 1))  # even with an old time: the size differs
    (root / "data" / "new.csv").write_text("y")
    (root / "checks" / "total.py").unlink()
    after = look(root, root / "out").files
    assert [p.relative_to(root).as_posix() for p in changed(before, after)] == [
        "checks/total.py",
        "data/new.csv",
        "data/orders.csv",
    ]
    assert changed(after, look(root, root / "out").files) == []


def test_a_look_is_bounded_and_takes_the_scenarios_own_folder_first(tmp_path: Path) -> None:
    """A folder of many files costs one bounded look, never a walk of all of them; what is
    nearest the scenario file is what is watched."""
    (tmp_path / "scenario.yaml").write_text("x")
    many = tmp_path / "a-big-export"
    many.mkdir()
    for index in range(300):
        (many / f"{index:04}.csv").write_text("x")
    (tmp_path / "z-checks").mkdir()
    (tmp_path / "z-checks" / "total.py").write_text("x")
    found = look(tmp_path, tmp_path / "runs", limit=100)
    assert found.cut
    assert len(found.files) == 100
    assert tmp_path / "scenario.yaml" in found.files
    whole = look(tmp_path, tmp_path / "runs", limit=1000)
    assert not whole.cut and len(whole.files) == 302


def test_a_watch_ends_once_the_sandbox_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between rounds the engine is asked whether the sandbox is still up; once it is not,
    the watch stops, saying so, instead of polling on for a sandbox that is not there."""
    from poc_runner import loop

    (tmp_path / "scenario.yaml").write_text("x")
    monkeypatch.setattr(loop, "_round", lambda *_args: None)
    monkeypatch.setattr(loop, "POLL", 0.01)
    monkeypatch.setattr(loop, "UP_EVERY", 0.05)
    asked: list[float] = []

    def still_up() -> None:
        asked.append(time.monotonic())
        if len(asked) >= 3:
            raise SandboxError("the sandbox of demo is gone: stopped watching")

    shown: list[str] = []
    options = RunOptions(out=tmp_path / "runs")
    with pytest.raises(SandboxError, match="is gone: stopped watching"):
        loop.watch(tmp_path / "scenario.yaml", options, shown.append, str, still_up)
    assert len(asked) == 3  # after the round, then while waiting for a change
    assert shown == [f"watching {tmp_path} for changes (Ctrl-C to stop; the sandbox stays up)"]
