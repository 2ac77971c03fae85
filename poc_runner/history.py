"""Run history: every run's verdict, score and criteria in one embedded SQLite file, so a team
can see a scenario's trend and what changed between two runs without keeping run folders.

Where: `$POC_HISTORY` if set (a file path), else `<state dir>/history.sqlite`, the state dir
being `$POC_STATE_DIR`, else `$XDG_STATE_HOME/poc-runner`, else
`~/.local/state/poc-runner`. The schema is created on first use, and a file an older
poc-runner wrote is upgraded in place (its `user_version` says which schema it has; each
version's `_MIGRATIONS` apply in order, in one transaction). `poc run --parallel` records from
several threads and several `poc` processes may run at once, so each write opens its own
connection, the database is in WAL mode (readers never block the writer) and a busy timeout
makes a writer wait for another instead of failing.

Values are masked before they are stored: the history outlives the run that knew its secrets.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from poc_runner.errors import InvalidInput
from poc_runner.masking import SECRETS
from poc_runner.result import RunInputs, RunResult, Status, Verdict
from poc_runner.settings import HISTORY as ENV_VAR
from poc_runner.settings import history_path

_BUSY_TIMEOUT_S = 30.0
_SCHEMA_VERSION = 4
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    scenario    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    score       REAL NOT NULL,
    pass_score  REAL NOT NULL,
    folder      TEXT NOT NULL,
    error       TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_scenario ON runs (scenario, started_at);
CREATE TABLE IF NOT EXISTS criteria (
    run_id   TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    id       TEXT NOT NULL,
    title    TEXT,
    passed   INTEGER NOT NULL,
    must     INTEGER NOT NULL,
    measured TEXT NOT NULL,
    expected TEXT NOT NULL,
    PRIMARY KEY (run_id, id)
);
"""


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection of its own (thread-safe by construction), committed on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)) as db:
        db.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
        _use_wal(db)
        db.execute("PRAGMA foreign_keys = ON")
        db.row_factory = sqlite3.Row
        if db.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
            _create_schema(db)
        yield db


def _use_wal(db: sqlite3.Connection) -> None:
    """WAL is a property of the file, set by the first connection. SQLite does not wait for
    the lock that setting it takes (the busy timeout does not apply), so the first writers of
    a new file, arriving together, retry until one has set it."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


# What each version adds to the one before; a file of an older version is brought up to date
# when it is opened, so the history a team already has is kept.
_MIGRATIONS = {
    2: ["ALTER TABLE runs ADD COLUMN reused TEXT"],  # the sandbox a `--reuse` run ran on
    3: [  # what each run was given, and how each criterion's figures read
        "ALTER TABLE runs ADD COLUMN inputs TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE criteria ADD COLUMN check_type TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE criteria ADD COLUMN unit TEXT",
    ],
    4: ["ALTER TABLE criteria ADD COLUMN status TEXT"],  # close and not judged, besides met
}


def _create_schema(db: sqlite3.Connection) -> None:
    db.execute("BEGIN IMMEDIATE")  # two first runs at once: one creates, the other waits
    try:
        found = db.execute("PRAGMA user_version").fetchone()[0]  # another may have done it
        if found == 0:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            found = 1
        for version in range(found + 1, _SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[version]:
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def record(result: RunResult, folder: Path, path: Path | None = None) -> None:
    """Store one finished run (again, if it was already stored: the newest result wins)."""
    with _connect(path or history_path()) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM criteria WHERE run_id = ?", (result.run_id,))
            db.execute(
                "INSERT OR REPLACE INTO runs (run_id, scenario, started_at, finished_at,"
                " verdict, score, pass_score, folder, error, reused, inputs)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.run_id,
                    result.scenario,
                    result.started_at,
                    result.finished_at,
                    result.verdict,
                    result.score,
                    result.pass_score,
                    str(folder.resolve()),
                    None if result.error is None else SECRETS.mask(result.error),
                    result.reused,
                    _stored(asdict(result.inputs), in_order=True),
                ),
            )
            db.executemany(
                "INSERT INTO criteria (run_id, position, id, title, passed, must, measured,"
                " expected, check_type, unit, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        result.run_id,
                        position,
                        c.id,
                        None if c.title is None else SECRETS.mask(c.title),
                        c.passed,
                        c.must,
                        _stored(c.measured),
                        _stored(c.expected),
                        c.check,
                        c.unit,
                        None if c.status is None else c.status.value,
                    )
                    for position, c in enumerate(result.criteria)
                ],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def record_run(result: RunResult, folder: Path) -> str | None:
    """`record`, for `poc run`: the run's own results are already written, so a history that
    cannot be written (a read-only home, a corrupt file) is a warning, not a failed run; the
    warning, for whoever shows it."""
    try:
        record(result, folder)
    except (sqlite3.Error, OSError) as exc:
        return SECRETS.mask(
            f"run {result.run_id} not recorded in {history_path()}: {exc}"
            f" (set {ENV_VAR} to use another file)"
        )
    return None


def _stored(value: Any, *, in_order: bool = False) -> str:
    """JSON, masked; keys sorted unless their order says something (the run's inputs)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=not in_order, default=str)
    return SECRETS.mask(text)


@dataclass
class RunRow:
    """A recorded run, with the score of the scenario's run before it (for the trend)."""

    run_id: str
    scenario: str
    started_at: str
    verdict: str
    score: float
    pass_score: float
    folder: str
    error: str | None = None
    previous_score: float | None = None
    reused: str | None = None  # the sandbox left up it ran on, for a `--reuse` run
    inputs: RunInputs = field(default_factory=RunInputs)
    criteria: list[CriterionRow] = field(default_factory=list)

    @property
    def trend(self) -> str:
        """↑ better, ↓ worse, → same score as the scenario's previous judged run; · for a
        first run; - for a run whose sandbox failed (its score means nothing)."""
        if self.verdict == Verdict.ERROR:
            return "-"
        if self.previous_score is None:
            return "·"
        if self.score > self.previous_score:
            return "↑"
        return "↓" if self.score < self.previous_score else "→"


@dataclass
class CriterionRow:
    id: str
    title: str | None
    passed: bool
    must: bool
    measured: Any
    expected: Any
    check: str = ""  # "" in runs recorded before the schema kept it
    unit: str | None = None
    status: str | None = None  # result.Status's value; None in runs recorded before it was kept


# A run's trend is against the scenario's judged run before it: a run whose sandbox failed
# (verdict error) has a score of no meaning, so it is listed but never a reference.
_LISTED = """
SELECT runs.*, (
    SELECT before.score FROM runs AS before
    WHERE before.scenario = runs.scenario AND before.verdict != 'error'
      AND (before.started_at, before.run_id) < (runs.started_at, runs.run_id)
    ORDER BY before.started_at DESC, before.run_id DESC LIMIT 1
) AS previous_score
FROM runs
WHERE (:scenario IS NULL OR scenario = :scenario)
ORDER BY started_at DESC, run_id DESC
LIMIT :limit
"""


def list_runs(
    scenario: str | None = None, limit: int = 20, path: Path | None = None
) -> list[RunRow]:
    """Runs, newest first, each with its trend against the scenario's previous run."""
    file = path or history_path()
    if not file.exists():
        return []
    with _reading(file) as db:
        rows = db.execute(_LISTED, {"scenario": scenario, "limit": limit}).fetchall()
        return [_run_row(row) for row in rows]


@contextmanager
def _reading(file: Path) -> Iterator[sqlite3.Connection]:
    """A connection for reading; a file that is not a readable history (corrupt, another
    kind of file, unreadable) is said in one sentence, not a traceback."""
    try:
        with _connect(file) as db:
            yield db
    except (sqlite3.Error, OSError, ValueError, KeyError) as exc:
        raise InvalidInput(
            f"the run history {file} cannot be read ({exc}); move it aside (the next `poc run`"
            f" starts a new one) or set {ENV_VAR} to another file"
        ) from None


def get_run(run_id: str, path: Path | None = None) -> RunRow:
    """One run with its criteria; `run_id` as `poc history` prints it, or any part of it that
    only one run's id holds: a prefix (its time), its random suffix (`a22411`), or more."""
    file = path or history_path()
    if not file.exists():
        raise InvalidInput(f"no run history yet at {file}: `poc run` records every run there")
    with _reading(file) as db:
        found = db.execute(
            "SELECT *, NULL AS previous_score FROM runs WHERE run_id = ? OR run_id LIKE ?"
            " ESCAPE '\\' ORDER BY run_id = ? DESC LIMIT 2",
            (run_id, _part_pattern(run_id), run_id),
        ).fetchall()
        if not found or (len(found) > 1 and found[0]["run_id"] != run_id):
            raise InvalidInput(_not_one(db, run_id, file))
        run = _run_row(found[0])
        criteria = db.execute(
            "SELECT * FROM criteria WHERE run_id = ? ORDER BY position", (run.run_id,)
        ).fetchall()
        run.criteria = [
            CriterionRow(
                row["id"],
                row["title"],
                bool(row["passed"]),
                bool(row["must"]),
                json.loads(row["measured"]),
                json.loads(row["expected"]),
                row["check_type"],
                row["unit"],
                row["status"],
            )
            for row in criteria
        ]
    return run


_CANDIDATES = 5


def _not_one(db: sqlite3.Connection, run_id: str, file: Path) -> str:
    """Why `run_id` names no single run: none holds it, or several do (named)."""
    found = [
        row[0]
        for row in db.execute(
            "SELECT run_id FROM runs WHERE run_id LIKE ? ESCAPE '\\' ORDER BY run_id DESC",
            (_part_pattern(run_id),),
        )
    ]
    if not found:
        return f"run {run_id!r} is not in the run history ({file}); `poc history` lists them"
    shown = ", ".join(found[:_CANDIDATES]) + (
        f" and {len(found) - _CANDIDATES} more" if len(found) > _CANDIDATES else ""
    )
    return f"run {run_id!r} could be any of {len(found)} runs ({shown}): give more of its id"


def _part_pattern(text: str) -> str:
    """A LIKE pattern for the ids holding `text` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _run_row(row: sqlite3.Row) -> RunRow:
    inputs = json.loads(row["inputs"])
    return RunRow(
        row["run_id"],
        row["scenario"],
        row["started_at"],
        row["verdict"],
        row["score"],
        row["pass_score"],
        row["folder"],
        row["error"],
        row["previous_score"],
        row["reused"],
        RunInputs(inputs.get("vars", {}), inputs.get("files", {})),
    )


# --- what `poc history` prints -------------------------------------------------------------


def format_runs(runs: list[RunRow], scenario: str | None = None) -> str:
    """A table, newest first: run id, scenario, verdict, score with its trend, when, where.
    A run on a reused sandbox says so next to its verdict."""
    if not runs:
        if scenario is None:
            return f"no runs recorded yet in {history_path()}"
        return f"no runs of {scenario} recorded in {history_path()}; `poc history` lists all"
    header = ("RUN", "SCENARIO", "VERDICT", "SCORE", "TREND", "STARTED", "FOLDER")
    lines = [
        (
            run.run_id,
            run.scenario,
            Verdict(run.verdict).word + (" (reused)" if run.reused else ""),
            _num(run.score),
            run.trend + _delta(run.score, run.previous_score),
            run.started_at,
            run.folder,
        )
        for run in runs
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in [header, *lines]
    )


def _delta(score: float, previous: float | None) -> str:
    if previous is None or score == previous:
        return ""
    return " " + f"{score - previous:+.1f}".removesuffix(".0")


def _num(value: float) -> str:
    from poc_runner.report.quantities import score_text

    return score_text(value)


def format_comparison(before: RunRow, after: RunRow) -> str:
    """What the runs were given (variables, files' sha256), then per criterion what changed
    from `before` to `after`: `!` another outcome (passed, failed, close, not judged), `~` the
    same outcome with another measured value (an input: another value), `=` nothing changed."""
    lines = [
        f"{before.run_id} -> {after.run_id}"
        + ("" if before.scenario == after.scenario else "  (different scenarios)"),
        f"  scenario  {_change(before.scenario, after.scenario)}",
        f"  verdict   {_change(Verdict(before.verdict).word, Verdict(after.verdict).word)}",
        f"  score     {_change(_num(before.score), _num(after.score))}"
        + (
            f" ({_delta(after.score, before.score).strip()})" if before.score != after.score else ""
        ),
        *_inputs_change(before.inputs, after.inputs),
        "",
    ]
    from poc_runner.report.comparison import pair_by_id

    pairs = pair_by_id(before.criteria, after.criteria)
    width = max((len(name) for name, _, _ in pairs), default=0)
    lines += [_criterion_change(name.ljust(width), old, new) for name, old, new in pairs]
    changed = sum(_differs(old, new) for _, old, new in pairs)
    lines += ["", f"{changed} of {len(pairs)} criteria changed"]
    return SECRETS.mask("\n".join(lines))


def _inputs_change(before: RunInputs, after: RunInputs) -> list[str]:
    from poc_runner.report.comparison import input_changes

    changes = input_changes(before, after)
    if not changes:
        return ["  inputs    not recorded for these runs"]
    changed = sum(change.changed for change in changes)
    width = max(len(f"{change.kind} {change.name}") for change in changes)
    return [f"  inputs    {changed} of {len(changes)} changed"] + [
        f"    {'~' if change.changed else '='} {f'{change.kind} {change.name}':<{width}}  "
        + _change(change.shown(change.before), change.shown(change.after))
        for change in changes
    ]


def _change(before: str, after: str) -> str:
    return before if before == after else f"{before} -> {after}"


# Outcomes besides passed and failed, as result.json's status names them (runs recorded before
# schema 4 have none).
_OUTCOMES: dict[str, str] = {Status.CLOSE: "close", Status.NOT_JUDGED: "not judged"}


def _state(criterion: CriterionRow | None) -> str:
    if criterion is None:
        return "absent"
    if criterion.status in _OUTCOMES:
        return _OUTCOMES[criterion.status]
    return "passed" if criterion.passed else "failed"


def _criterion_change(name: str, old: CriterionRow | None, new: CriterionRow | None) -> str:
    mark = "!" if _state(old) != _state(new) else "~" if _differs(old, new) else "="
    state = _change(_state(old), _state(new))
    measured = _change(_shown(old), _shown(new))
    return f"  {mark} {name}  {state:<18}  measured {measured}"


def _differs(old: CriterionRow | None, new: CriterionRow | None) -> bool:
    if old is None or new is None:
        return old is not new
    return _state(old) != _state(new) or old.measured != new.measured


def _shown(criterion: CriterionRow | None) -> str:
    if criterion is None:
        return "-"
    from poc_runner.report.figures import measured_text

    return measured_text(criterion)
