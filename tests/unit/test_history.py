"""The run history: recorded by every run, listed newest first with a trend, two runs compared,
and safe when parallel runs write at once."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from poc_runner import history
from poc_runner.errors import InvalidInput
from poc_runner.history import (
    format_comparison,
    format_runs,
    get_run,
    history_path,
    list_runs,
    record,
    record_run,
)
from poc_runner.result import RunInputs, RunResult, Status, Verdict
from tests.unit.sample_results import SECRET, criterion, failing, passing, register_secret


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "history.sqlite"


def run(run_id: str, score: float, scenario: str = "invoice-dedupe", day: int = 1) -> RunResult:
    result = passing() if score == 100 else failing()
    result.run_id, result.scenario, result.score = run_id, scenario, score
    result.started_at = f"2026-11-{day:02d}T00:00:00.000Z"
    return result


class TestWhere:
    def test_poc_history_names_the_file(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("POC_HISTORY", str(tmp_path / "team.sqlite"))
        assert history_path() == tmp_path / "team.sqlite"

    def test_else_it_lives_in_the_state_dir(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.delenv("POC_HISTORY", raising=False)
        monkeypatch.setenv("POC_STATE_DIR", str(tmp_path))
        assert history_path() == tmp_path / "history.sqlite"


class TestRecord:
    def test_the_schema_is_created_on_first_use_in_wal_mode(self, db: Path) -> None:
        record(passing(), Path("runs/x"), db)
        with sqlite3.connect(db) as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert connection.execute("PRAGMA user_version").fetchone() == (4,)
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        assert {"runs", "criteria"} <= tables

    def test_a_run_and_its_criteria_are_stored(self, db: Path, tmp_path: Path) -> None:
        record(failing(), tmp_path / "runs" / "r1", db)
        stored = get_run("20261124T005103Z-bbbbbb", db)
        assert (stored.scenario, stored.verdict, stored.score) == ("invoice-dedupe", "fail", 25.0)
        assert stored.folder == str((tmp_path / "runs" / "r1").resolve())
        assert [(c.id, c.passed, c.must, c.measured) for c in stored.criteria] == [
            ("recall", False, True, 0.5),
            ("minutes-not-hours", True, False, 0.5),
        ]

    def test_its_inputs_and_how_its_figures_read_are_stored(self, db: Path) -> None:
        record(failing(), Path("r"), db)
        stored = get_run("20261124T005103Z-bbbbbb", db)
        assert stored.inputs == failing().inputs
        assert [(c.check, c.unit) for c in stored.criteria] == [("json", None), ("duration", None)]

    def test_recording_a_run_again_replaces_it(self, db: Path) -> None:
        result = failing()
        record(result, Path("a"), db)
        result.score, result.criteria = 50.0, result.criteria[:1]
        record(result, Path("a"), db)
        (only,) = list_runs(path=db)
        assert only.score == 50.0
        assert len(get_run(result.run_id, db).criteria) == 1

    def test_secrets_are_masked_before_they_are_stored(
        self, db: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        register_secret(monkeypatch)
        result = failing()
        result.criteria[0].measured = {"token": SECRET}
        result.error = f"failed with {SECRET}"
        record(result, Path("a"), db)
        stored = b"".join(file.read_bytes() for file in db.parent.iterdir())  # -wal included
        assert SECRET.encode() not in stored
        assert get_run(result.run_id, db).criteria[0].measured == {"token": "***"}

    def test_parallel_runs_all_get_recorded(self, db: Path) -> None:
        """`poc run --parallel`: many writers at once, each with its own connection."""
        errors: list[BaseException] = []

        def writer(worker: int) -> None:
            try:
                for i in range(10):
                    record(run(f"run-{worker}-{i}", 50 + i, f"scenario-{worker}"), Path("r"), db)
            except BaseException as exc:  # reported below, in the main thread
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(list_runs(limit=1000, path=db)) == 80

    def test_parallel_processes_all_get_recorded(self, db: Path) -> None:
        """Several `poc run` commands at once: separate processes, one file."""
        script = (
            "import sys; from pathlib import Path; from poc_runner.history import record;"
            "from tests.unit.test_history import run;"
            "[record(run(f'p{sys.argv[1]}-{i}', 50, f's{sys.argv[1]}'), Path('r'), Path(sys.argv[2]))"
            " for i in range(15)]"
        )
        root = Path(__file__).resolve().parents[2]
        workers = [
            subprocess.Popen([sys.executable, "-c", script, str(n), str(db)], cwd=root)
            for n in range(4)
        ]
        assert [worker.wait(timeout=60) for worker in workers] == [0, 0, 0, 0]
        assert len(list_runs(limit=1000, path=db)) == 60

    def test_a_history_that_cannot_be_written_warns_but_does_not_fail_the_run(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        monkeypatch.setenv("POC_HISTORY", str(blocker / "history.sqlite"))
        warning = record_run(passing(), tmp_path)  # `poc run` shows it, the run goes on
        assert warning is not None
        assert warning.startswith("run 20261123T005103Z-aaaaaa not recorded in")


# A history file as poc-runner 0.1 wrote it (schema version 1), with one run in it.
VERSION_1 = """
CREATE TABLE runs (run_id TEXT PRIMARY KEY, scenario TEXT NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL, verdict TEXT NOT NULL, score REAL NOT NULL,
    pass_score REAL NOT NULL, folder TEXT NOT NULL, error TEXT);
CREATE INDEX runs_by_scenario ON runs (scenario, started_at);
CREATE TABLE criteria (run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    position INTEGER NOT NULL, id TEXT NOT NULL, title TEXT, passed INTEGER NOT NULL,
    must INTEGER NOT NULL, measured TEXT NOT NULL, expected TEXT NOT NULL,
    PRIMARY KEY (run_id, id));
INSERT INTO runs VALUES ('old-run', 'invoice-dedupe', '2026-10-01T00:00:00.000Z',
    '2026-10-01T00:00:02.000Z', 'pass', 100.0, 80.0, '/runs/old', NULL);
INSERT INTO criteria VALUES ('old-run', 0, 'recall', 'Recall', 1, 1, '0.97', '">= 0.95"');
PRAGMA user_version = 1;
"""
# As the first poc-runner with `--reuse` wrote it (version 2): the same, and `reused`.
VERSION_2 = VERSION_1 + "ALTER TABLE runs ADD COLUMN reused TEXT; PRAGMA user_version = 2;"


class TestUpgrade:
    """A history an older poc-runner wrote keeps its runs and gains what version 3 keeps:
    each run's inputs, and how each criterion's figures read."""

    @pytest.fixture(params=[VERSION_1, VERSION_2], ids=["version-1", "version-2"])
    def old(self, db: Path, request: pytest.FixtureRequest) -> Path:
        db.parent.mkdir(parents=True)
        with sqlite3.connect(db) as connection:
            connection.executescript(request.param)
        return db

    def test_an_older_file_is_upgraded_in_place_and_keeps_its_runs(self, old: Path) -> None:
        (listed,) = list_runs(path=old)
        assert (listed.run_id, listed.score, listed.reused) == ("old-run", 100.0, None)
        with sqlite3.connect(old) as connection:
            assert connection.execute("PRAGMA user_version").fetchone() == (4,)
        kept = get_run("old-run", old)
        assert kept.inputs == RunInputs()
        assert [(c.id, c.measured, c.check, c.unit, c.status) for c in kept.criteria] == [
            ("recall", 0.97, "", None, None)
        ]

    def test_new_runs_are_recorded_next_to_the_old_ones(self, old: Path) -> None:
        record(failing(), Path("r"), old)
        assert get_run("20261124T005103Z-bbbbbb", old).criteria[1].unit is None
        assert [r.run_id for r in list_runs(path=old)] == ["20261124T005103Z-bbbbbb", "old-run"]
        assert get_run("20261124T005103Z-bbbbbb", old).inputs == failing().inputs

    def test_an_old_run_compares_with_a_new_one(self, old: Path) -> None:
        record(failing(), Path("r"), old)
        text = format_comparison(get_run("old-run", old), get_run("20261124T005103Z-bbbbbb", old))
        assert "  inputs    5 of 5 changed" in text
        assert "    ~ var safety_days        - -> 14" in text
        assert "! recall" in text and "measured 0.97 -> 0.5" in text

    def test_runs_without_inputs_say_so(self, old: Path) -> None:
        kept = get_run("old-run", old)
        assert "  inputs    not recorded for these runs" in format_comparison(kept, kept)

    def test_two_writers_upgrade_it_once(self, old: Path) -> None:
        errors: list[BaseException] = []

        def writer(n: int) -> None:
            try:
                record(run(f"w{n}", 50), Path("r"), old)
            except BaseException as exc:  # reported below, in the main thread
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(list_runs(path=old)) == 5


class TestList:
    @pytest.fixture
    def recorded(self, db: Path) -> Path:
        for result in [
            run("a1", 40, day=1),
            run("b1", 90, "other", day=2),
            run("a2", 60, day=3),
            run("a3", 60, day=4),
            run("a4", 100, day=5),
            run("a5", 20, day=6),
        ]:
            record(result, Path("runs") / result.run_id, db)
        return db

    def test_newest_first_with_a_trend_against_the_previous_run(self, recorded: Path) -> None:
        runs = list_runs(path=recorded)
        assert [(r.run_id, r.trend) for r in runs] == [
            ("a5", "↓"),
            ("a4", "↑"),
            ("a3", "→"),
            ("a2", "↑"),
            ("b1", "·"),
            ("a1", "·"),
        ]

    def test_one_scenario_and_a_limit_keep_the_trend_right(self, recorded: Path) -> None:
        runs = list_runs("invoice-dedupe", limit=2, path=recorded)
        assert [(r.run_id, r.trend, r.previous_score) for r in runs] == [
            ("a5", "↓", 100.0),
            ("a4", "↑", 60.0),
        ]

    def test_the_table_shows_verdict_score_and_trend(self, recorded: Path) -> None:
        table = format_runs(list_runs(limit=3, path=recorded)).splitlines()
        assert table[0].split() == [
            "RUN", "SCENARIO", "VERDICT", "SCORE", "TREND", "STARTED", "FOLDER"
        ]  # fmt: skip
        assert table[1].split()[:6] == ["a5", "invoice-dedupe", "FAIL", "20", "↓", "-80"]
        assert table[2].split()[:6] == ["a4", "invoice-dedupe", "PASS", "100", "↑", "+40"]
        assert table[3].split()[:5] == ["a3", "invoice-dedupe", "FAIL", "60", "→"]

    def test_a_run_whose_sandbox_failed_is_listed_but_never_a_reference(self, db: Path) -> None:
        errored = run("e1", 0, day=7)
        errored.verdict = Verdict.ERROR
        for result in (run("a1", 40, day=1), errored, run("a2", 60, day=8)):
            record(result, Path("runs") / result.run_id, db)
        runs = list_runs(path=db)
        assert [(r.run_id, r.trend, r.previous_score) for r in runs] == [
            ("a2", "↑", 40.0),  # against a1, not against the error run's 0
            ("e1", "-", 40.0),
            ("a1", "·", None),
        ]

    def test_a_scenario_with_no_runs_says_so_among_others(self, recorded: Path) -> None:
        said = format_runs(list_runs("nosuch", path=recorded), "nosuch")
        assert said.startswith("no runs of nosuch recorded in ")

    def test_a_run_on_a_reused_sandbox_says_so(self, db: Path) -> None:
        reused = run("r1", 100)
        reused.reused = "20261101T000000Z-kept01"
        record(reused, Path("runs/r1"), db)
        (row,) = list_runs(path=db)
        assert row.reused == "20261101T000000Z-kept01"
        assert "PASS (reused)" in format_runs([row])

    def test_a_history_of_the_first_version_is_brought_up_to_date(self, db: Path) -> None:
        """Files written before `reused` existed keep their runs, and take new ones."""
        db.parent.mkdir(parents=True)
        with sqlite3.connect(db) as old:
            old.executescript(history._SCHEMA)
            old.execute(
                "INSERT INTO runs VALUES ('o1', 'invoice-dedupe', '2026-10-01T00:00:00Z',"
                " '2026-10-01T00:01:00Z', 'pass', 100, 100, '/runs/o1', NULL)"
            )
            old.execute("PRAGMA user_version = 1")
        record(run("n1", 60, day=2), Path("runs/n1"), db)
        assert [(r.run_id, r.reused) for r in list_runs(path=db)] == [("n1", None), ("o1", None)]

    def test_no_history_yet_is_not_an_error(self, db: Path) -> None:
        assert list_runs(path=db) == []
        assert not db.exists()


class TestCompare:
    def test_per_criterion_what_changed(self, db: Path) -> None:
        before, after = passing(), failing()
        after.criteria[1].measured = 0.75
        after.criteria.append(criterion("new-one"))
        for result in (before, after):
            record(result, Path("r"), db)
        text = format_comparison(get_run(before.run_id, db), get_run(after.run_id, db))
        lines = text.splitlines()
        assert lines[0] == "20261123T005103Z-aaaaaa -> 20261124T005103Z-bbbbbb"
        assert lines[2].split() == ["verdict", "PASS", "->", "FAIL"]
        assert lines[3].split() == ["score", "100", "->", "25", "(-75)"]
        assert lines[4:10] == [
            "  inputs    1 of 5 changed",
            "    = var min_recall         0.95",
            "    ~ var safety_days        7 -> 14",
            "    = var VENDOR_API_TOKEN   ***",
            f"    = file scenario.yaml     {'1a' * 6}",
            f"    = file scoring/score.py  {'2b' * 6}",
        ]
        assert "! recall             passed -> failed" in text
        assert "measured 0.97 -> 0.5" in text
        assert "~ minutes-not-hours  passed" in text and "measured 0.5 s -> 0.75 s" in text
        assert "! new-one            absent -> passed" in text
        assert lines[-1] == "3 of 3 criteria changed"

    def test_close_and_not_judged_are_outcomes_of_their_own(self, db: Path) -> None:
        """A criterion that moved from not met to close (within its `near` bound) changed
        outcome, and says so; one the sandbox left unjudged is not called failed."""
        before, after = failing(), failing()
        after.run_id = "20261125T005103Z-cccccc"
        after.criteria[0].status = Status.CLOSE
        after.criteria[1].status = Status.NOT_JUDGED
        for result in (before, after):
            record(result, Path("r"), db)
        kept = get_run(after.run_id, db)
        assert [c.status for c in kept.criteria] == ["close", "not_judged"]
        text = format_comparison(get_run(before.run_id, db), kept)
        assert "! recall             failed -> close" in text
        assert "! minutes-not-hours  passed -> not judged" in text

    @pytest.mark.parametrize("part", ["20261123T", "aaaaaa", "Z-aaa", "23T005103Z-aaaaaa"])
    def test_any_unique_part_is_enough(self, db: Path, part: str) -> None:
        """A prefix (its time), the random suffix `poc run` shows, or anything only one id
        holds."""
        record(passing(), Path("r"), db)
        record(failing(), Path("r"), db)
        assert get_run(part, db).run_id == "20261123T005103Z-aaaaaa"

    @pytest.mark.parametrize(
        ("wanted", "says"),
        [
            ("nope", "is not in the run history"),
            ("2026", "could be any of 2 runs (20261124T005103Z-bbbbbb, 20261123T005103Z-aaaaaa)"),
            (
                "005103Z",
                "could be any of 2 runs (20261124T005103Z-bbbbbb, 20261123T005103Z-aaaaaa)",
            ),
        ],
    )
    def test_an_unknown_or_ambiguous_run_is_invalid_input(
        self, db: Path, wanted: str, says: str
    ) -> None:
        record(passing(), Path("r"), db)
        record(failing(), Path("r"), db)
        with pytest.raises(InvalidInput, match=re.escape(says)):
            get_run(wanted, db)

    def test_like_wildcards_in_a_run_id_are_literal(self, db: Path) -> None:
        record(passing(), Path("r"), db)
        with pytest.raises(InvalidInput):
            get_run("%", db)
        with pytest.raises(InvalidInput):
            get_run("_", db)

    def test_no_history_at_all(self, db: Path) -> None:
        with pytest.raises(InvalidInput, match="no run history yet"):
            get_run("x", db)


def test_the_module_documents_its_configuration() -> None:
    assert history.__doc__ is not None
    assert "$POC_HISTORY" in history.__doc__ and "WAL" in history.__doc__
