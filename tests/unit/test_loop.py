"""`poc watch`'s eye on the scenario folder: which files count, and what changed."""

from __future__ import annotations

import os
from pathlib import Path

from poc_runner.loop import changed, files_of


def folder(tmp_path: Path) -> Path:
    for relative in ("scenario.yaml", "data/orders.csv", "checks/total.py", ".git/HEAD",
                     "runs/x/result.json", "out/here.json", "app/__pycache__/m.pyc"):  # fmt: skip
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x")
    return tmp_path


def test_results_hidden_folders_and_caches_are_not_watched(tmp_path: Path) -> None:
    found = files_of(folder(tmp_path), tmp_path / "out")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in found) == [
        "checks/total.py",
        "data/orders.csv",
        "scenario.yaml",
    ]


def test_an_edit_an_addition_and_a_removal_are_changes(tmp_path: Path) -> None:
    root = folder(tmp_path)
    before = files_of(root, root / "out")
    data = root / "data" / "orders.csv"
    data.write_text("a longer content")
    os.utime(data, ns=(1, 1))  # even with an old time: the size differs
    (root / "data" / "new.csv").write_text("y")
    (root / "checks" / "total.py").unlink()
    after = files_of(root, root / "out")
    assert [p.relative_to(root).as_posix() for p in changed(before, after)] == [
        "checks/total.py",
        "data/new.csv",
        "data/orders.csv",
    ]
    assert changed(after, files_of(root, root / "out")) == []
