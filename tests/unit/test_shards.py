"""`--shard i/n`: the same scenarios in the same shard on every machine, each in exactly one
shard, balanced by the history's durations when there are any, else by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from poc_runner.errors import InvalidInput
from poc_runner.shards import Shard, name_of, pick, split

NAMES = [f"s{i}" for i in range(7)]


@pytest.mark.parametrize("text", ["2/4", " 1/1 ", "4/4"])
def test_a_shard_is_i_of_n(text: str) -> None:
    shard = Shard.parse(text)
    assert 1 <= shard.index <= shard.total


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "2", "a/b", "-1/3", "1/2/3", ""])
def test_a_malformed_or_out_of_range_shard_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="--shard"):
        Shard.parse(text)


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7, 9])
def test_every_scenario_runs_in_exactly_one_shard(total: int) -> None:
    shards = split(NAMES, {}, total)
    assert sorted(name for shard in shards for name in shard) == NAMES
    assert max(map(len, shards)) - min(map(len, shards)) <= 1  # by name: counts balance


def test_the_split_does_not_depend_on_the_order_found() -> None:
    assert split(NAMES, {}, 3) == split(list(reversed(NAMES)), {}, 3)


def test_durations_balance_the_work() -> None:
    durations = {"s0": 60.0, "s1": 10.0, "s2": 10.0, "s3": 10.0, "s4": 10.0, "s5": 10.0, "s6": 10.0}
    long, *rest = split(NAMES, durations, 2)
    assert long == ["s0"] or rest[0] == ["s0"]
    loads = [sum(durations[n] for n in shard) for shard in split(NAMES, durations, 2)]
    assert sorted(loads) == [60.0, 60.0]


def test_an_unknown_scenario_counts_as_a_typical_one() -> None:
    shards = split(["known-1", "known-2", "new"], {"known-1": 5.0, "known-2": 5.0}, 3)
    assert sorted(map(len, shards)) == [1, 1, 1]


def test_a_shard_with_nothing_to_do_is_empty() -> None:
    assert split(["only"], {}, 3)[1:] == [[], []]


def scenario(folder: Path, name: str) -> Path:
    path = folder / name / "scenario.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(f"apiVersion: poc-runner/v1\nname: {name}\n")
    return path


def test_pick_keeps_the_given_order_and_reads_names_from_the_files(tmp_path: Path) -> None:
    files = [scenario(tmp_path, name) for name in ("delta", "alpha", "charlie", "bravo")]
    picked = [pick(files, {}, Shard(i, 2)) for i in (1, 2)]
    assert sorted(p.parent.name for part in picked for p in part) == [
        "alpha",
        "bravo",
        "charlie",
        "delta",
    ]
    for part in picked:
        assert part == [path for path in files if path in part]


def test_a_name_the_file_does_not_say_plainly_is_its_path(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("apiVersion: poc-runner/v1\nname: ${NAME}\n")
    assert name_of(path) == path.as_posix()
