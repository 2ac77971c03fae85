"""The hash index: a recorded sha256 is reused only while the file is provably the same."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from poc_runner.sandbox import hashindex
from poc_runner.sandbox.hashindex import RACY_NS, HashIndex, index_path

DIGEST = "d" * 64


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "extract.csv"
    path.write_bytes(b"id,amount\n1,10\n")
    return path


def remembered(index: HashIndex, path: Path, digest: str = DIGEST) -> HashIndex:
    """`path` recorded as read long after it last changed."""
    info = path.stat()
    index.remember(str(path), info, info, time.time_ns() + 10 * RACY_NS, digest)
    return index


def fresh(tmp_path: Path) -> HashIndex:
    return HashIndex.load(tmp_path / "state" / "data-index.json")


def test_a_recorded_digest_is_reused_while_the_file_is_unchanged(
    data: Path, tmp_path: Path
) -> None:
    index = remembered(fresh(tmp_path), data)
    assert index.digest(str(data), data.stat()) == DIGEST


def test_a_changed_byte_with_size_and_mtime_put_back_is_seen(data: Path, tmp_path: Path) -> None:
    index = remembered(fresh(tmp_path), data)
    before = data.stat()
    time.sleep(0.01)  # past the file system's clock tick
    with data.open("r+b") as handle:
        handle.write(b"I")
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = data.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert index.digest(str(data), after) is None  # ctime moved, which nothing can set back


def test_a_file_replaced_by_another_is_seen(data: Path, tmp_path: Path) -> None:
    index = remembered(fresh(tmp_path), data)
    before = data.stat()
    replacement = data.with_name("new.csv")
    replacement.write_bytes(b"id,amount\n1,99\n")
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    replacement.replace(data)
    assert index.digest(str(data), data.stat()) is None  # another inode


def test_a_file_changed_just_before_it_was_read_is_not_recorded(data: Path, tmp_path: Path) -> None:
    """Its next change could fall in the same clock tick and look identical (racily clean)."""
    index = fresh(tmp_path)
    info = data.stat()
    index.remember(str(data), info, info, max(info.st_mtime_ns, info.st_ctime_ns), DIGEST)
    assert index.digest(str(data), info) is None


def test_a_file_that_changed_while_it_was_read_is_not_recorded(data: Path, tmp_path: Path) -> None:
    index = fresh(tmp_path)
    before = data.stat()
    time.sleep(0.01)
    data.write_bytes(b"id,amount\n1,10\n2,20\n")
    index.remember(str(data), before, data.stat(), time.time_ns() + 10 * RACY_NS, DIGEST)
    assert index.digest(str(data), before) is None
    assert index.digest(str(data), data.stat()) is None


def test_what_was_saved_is_found_by_the_next_run(data: Path, tmp_path: Path) -> None:
    remembered(fresh(tmp_path), data).save()
    assert fresh(tmp_path).digest(str(data), data.stat()) == DIGEST


def test_a_relative_path_names_the_same_entry(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remembered(fresh(tmp_path), data).save()
    monkeypatch.chdir(data.parent)
    assert fresh(tmp_path).digest(data.name, data.stat()) == DIGEST


@pytest.mark.parametrize(
    "damage",
    ["missing", "not json", "digit changed", "other version", "wrong shape"],
)
def test_a_missing_or_corrupt_index_counts_as_empty(
    damage: str, data: Path, tmp_path: Path
) -> None:
    """Then every file is hashed again: never a wrong digest."""
    remembered(fresh(tmp_path), data).save()
    path = tmp_path / "state" / "data-index.json"
    header, body = path.read_bytes().split(b"\n", 1)
    if damage == "missing":
        path.unlink()
    elif damage == "not json":
        path.write_bytes(b"\x00garbage")
    elif damage == "digit changed":  # a plausible index whose checksum no longer holds
        path.write_bytes(header + b"\n" + body.replace(DIGEST.encode(), b"e" * 64))
    elif damage == "other version":
        meta = {**json.loads(header), "version": hashindex.VERSION + 1}
        path.write_bytes(json.dumps(meta).encode() + b"\n" + body)
    else:
        body = json.dumps({str(data): ["not", "an", "entry"]}).encode()
        meta = {"version": hashindex.VERSION, "check": hashlib.sha256(body).hexdigest()}
        path.write_bytes(json.dumps(meta).encode() + b"\n" + body)
    assert fresh(tmp_path).digest(str(data), data.stat()) is None


def test_saving_merges_with_what_another_run_saved(tmp_path: Path) -> None:
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    one.write_bytes(b"1")
    two.write_bytes(b"2")
    first, second = fresh(tmp_path), fresh(tmp_path)  # loaded before either saved
    remembered(first, one, "1" * 64).save()
    remembered(second, two, "2" * 64).save()
    merged = fresh(tmp_path)
    assert merged.digest(str(one), one.stat()) == "1" * 64
    assert merged.digest(str(two), two.stat()) == "2" * 64


def test_an_index_that_cannot_be_written_only_costs_hashing(data: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state folder should be")
    index = HashIndex.load(blocker / "data-index.json")
    remembered(index, data).save()  # no error: the index is a hint
    assert HashIndex.load(blocker / "data-index.json").digest(str(data), data.stat()) is None


def test_entries_not_used_for_a_month_are_forgotten(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, recent = tmp_path / "old.csv", data
    old.write_bytes(b"old")
    then = time.time() - 31 * 86_400
    monkeypatch.setattr(hashindex.time, "time", lambda: then)
    remembered(fresh(tmp_path), old).save()
    monkeypatch.undo()
    remembered(fresh(tmp_path), recent).save()
    index = fresh(tmp_path)
    assert index.digest(str(old), old.stat()) is None
    assert index.digest(str(recent), recent.stat()) == DIGEST


def test_it_lives_in_the_state_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POC_STATE_DIR", str(tmp_path))
    assert index_path() == tmp_path / "data-index.json"
