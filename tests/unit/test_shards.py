"""`--shard i/n`: the same scenarios in the same shard on every machine, each in exactly one
shard, split by name or by a durations file, never by a machine's history; each part records
its suite, and the parts read back are checked to cover it exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from poc_runner.errors import InvalidInput
from poc_runner.shards import (
    RECORD,
    Shard,
    check,
    name_of,
    pick,
    read_durations,
    records_under,
    split,
    write_durations,
)

NAMES = [f"s{i}" for i in range(7)]


@pytest.mark.parametrize("text", ["2/4", " 1/1 ", "4/4"])
def test_a_shard_is_i_of_n(text: str) -> None:
    shard = Shard.parse(text)
    assert 1 <= shard.index <= shard.total


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "2", "a/b", "-1/3", "1/2/3", ""])
def test_a_malformed_or_out_of_range_shard_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="--shard"):
        Shard.parse(text)


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7])
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


def scenario(folder: Path, name: str) -> Path:
    path = folder / name / "scenario.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(f"apiVersion: poc-runner/v1\nname: {name}\n")
    return path


def test_pick_keeps_the_given_order_and_reads_names_from_the_files(tmp_path: Path) -> None:
    files = [scenario(tmp_path, name) for name in ("delta", "alpha", "charlie", "bravo")]
    picked = [pick(files, Shard(i, 2))[0] for i in (1, 2)]
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


def test_more_parts_than_scenarios_is_refused_before_anything_is_allocated(tmp_path: Path) -> None:
    """--shard 1/1000000000 once allocated a list per part: 1.8 GB, then MemoryError."""
    files = [scenario(tmp_path, name) for name in ("alpha", "bravo")]
    with pytest.raises(InvalidInput, match=r"has 2 scenario\(s\), so it splits into at most 2"):
        pick(files, Shard.parse("1/1000000000"))
    assert pick(files, Shard(2, 2))[0] == [files[1]]


def test_the_record_says_the_suite_the_part_and_how_it_was_split(tmp_path: Path) -> None:
    files = [scenario(tmp_path, name) for name in ("delta", "alpha", "charlie")]
    mine, record = pick(files, Shard(2, 2))
    assert (record.index, record.total, record.split_by) == (2, 2, "names")
    assert [m.name for m in record.suite] == ["alpha", "charlie", "delta"]
    assert record.part == sorted(name_of(path) for path in mine)
    out = tmp_path / "out"
    out.mkdir()
    record.write(out)
    (again,) = records_under(out)
    assert again == record and again.folder == out


def test_a_durations_file_balances_the_split_and_marks_it(tmp_path: Path) -> None:
    files = [scenario(tmp_path, name) for name in ("a", "b", "c", "d")]
    timed = tmp_path / "durations.json"
    write_durations(timed, {"a": 60.0, "b": 20.0, "c": 20.0, "d": 20.0})
    parts = [pick(files, Shard(i, 2), timed) for i in (1, 2)]
    assert sorted(record.part for _, record in parts) == [["a"], ["b", "c", "d"]]
    assert parts[0][1].split_by.startswith("durations ")
    write_durations(timed, {"b": 30.0})  # updated in place: the others keep their figures
    assert read_durations(timed)[0] == {"a": 60.0, "b": 30.0, "c": 20.0, "d": 20.0}


@pytest.mark.parametrize("text", ["[1, 2]", '{"a": "slow"}', "not json"])
def test_a_durations_file_that_is_not_one_is_refused(tmp_path: Path, text: str) -> None:
    bad = tmp_path / "durations.json"
    bad.write_text(text)
    with pytest.raises(InvalidInput, match="--shard-durations"):
        read_durations(bad)


class TestCoverage:
    """The parts read back: one suite, each scenario run exactly once."""

    NAMES = ("alpha", "bravo", "charlie", "delta", "echo")

    def parts(self, tmp_path: Path, total: int = 2) -> tuple[list[Path], dict[str, str]]:
        """Each part's --out folder with its record, and each scenario's file digest."""
        files = [scenario(tmp_path / "suite", name) for name in self.NAMES]
        outs = []
        for index in range(1, total + 1):
            out = tmp_path / f"part-{index}"
            out.mkdir()
            pick(files, Shard(index, total))[1].write(out)
            outs.append(out)
        (record,) = records_under(outs[0])
        return outs, {m.name: m.sha256 for m in record.suite}

    def runs(self, digests: dict[str, str], *names: str) -> dict[str, list[tuple[str, Path]]]:
        found: dict[str, list[tuple[str, Path]]] = {}
        for name in names:
            found.setdefault(name, []).append((digests.get(name, "0" * 64), Path(f"runs/{name}")))
        return found

    def test_every_scenario_once_is_complete(self, tmp_path: Path) -> None:
        outs, digests = self.parts(tmp_path)
        covered = check(outs, self.runs(digests, *self.NAMES))
        assert covered.complete and covered.said() == ""

    def test_a_part_not_given_names_its_scenarios(self, tmp_path: Path) -> None:
        outs, digests = self.parts(tmp_path)
        (first,) = records_under(outs[0])
        covered = check(outs[:1], self.runs(digests, *first.part))
        assert not covered.complete
        assert covered.missing == sorted(set(self.NAMES) - set(first.part))
        assert covered.parts == ["2/2"]
        assert covered.said().startswith(f"missing {', '.join(covered.missing)}; part(s) 2/2")

    def test_a_scenario_run_twice_is_named(self, tmp_path: Path) -> None:
        outs, digests = self.parts(tmp_path)
        covered = check(outs, self.runs(digests, *self.NAMES, "bravo"))
        assert covered.doubled == {"bravo": 2}
        assert "run more than once: bravo (2 runs)" in covered.said()

    def test_a_foreign_part_or_run_is_named(self, tmp_path: Path) -> None:
        outs, digests = self.parts(tmp_path)
        other = tmp_path / "other"
        other.mkdir()
        files = [scenario(tmp_path / "elsewhere", name) for name in ("alpha", "zulu")]
        pick(files, Shard(1, 2))[1].write(other)
        changed = {**digests, "echo": "f" * 64}
        covered = check([*outs, other], self.runs(changed, *self.NAMES, "zulu"))
        said = covered.said()
        assert f"{other} (part 1/2 of another suite:" in said
        assert "zulu in runs/zulu" in said
        assert "echo in runs/echo (its file changed since)" in said
        assert covered.missing == ["echo"]

    def test_folders_without_a_record_cannot_be_said_complete(self, tmp_path: Path) -> None:
        covered = check([tmp_path], {"alpha": [("x", tmp_path)]})
        assert not covered.complete
        assert (
            covered.said() == f"not of this suite: {tmp_path} (no {RECORD}: not a `--shard` part)"
        )

    def test_a_folder_holding_the_parts_reads_them_all(self, tmp_path: Path) -> None:
        _, digests = self.parts(tmp_path)
        assert check([tmp_path], self.runs(digests, *self.NAMES)).complete
