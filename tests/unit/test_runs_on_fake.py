"""Whole runs on the fake engine (backends/fake.py), no Docker: the pipeline from the scenario
file to result.json and the reports, with each command's outcome scripted. Verdicts, the
errors a run meets (a service that never becomes healthy, a fault of the sandbox, the engine
lost, a bug), an interruption, a sandbox left up and reused, and every row of the table of
what a check concludes from evidence that is not a whole piece of this run's work
(checks/grounds.py, "Evidence belongs to this run" in the README), judged in a real run."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from poc_runner.backend import Targets
from poc_runner.backends.fake import TARGETS, Call, FakeEngine, Reply, Script, replies
from poc_runner.checks.grounds import RULES, Case, Conclusion
from poc_runner.checks.isolation import ROUTES
from poc_runner.errors import EngineLost, Interrupted, InvalidInput
from poc_runner.events import Event
from poc_runner.pipeline import Finished, Options, run_all
from poc_runner.result import Incident, IncidentKind, RunResult, load_result
from tests.unit.conftest import write_scenario
from tests.unit.test_grounds import EXPECTED_CSV, fields_of, output_of
from tests.unit.test_sandbox_checks import answered

SMALL = """\
apiVersion: poc-runner/v1
name: small
sandbox: {timeout: 5m}
services:
  db:
    image: poc-runner/postgres:bookworm
    healthcheck: {test: ["CMD", "pg_isready"], interval: 1s, retries: 3}
  app:
    image: poc-runner/base:bookworm
    command: ["sleep", "infinity"]
    depends_on: {db: {condition: service_healthy}}
steps:
  - {name: detect, service: app, run: detect, artifacts: [/out/report.json]}
  - {name: score, service: app, run: score}
acceptance:
  pass_score: 50
  criteria:
    - {id: rows, must: true, check: {type: json, artifact: /out/report.json, path: $.rows, op: "==", value: 12}}
    - {id: says-done, check: {type: output, step: score, contains: done}}
"""
GOOD = {
    "detect": Reply(stdout="found 12\n", writes={"/out/report.json": '{"rows": 12}'}),
    "score": Reply(stdout="done\n"),
}


def scenario(folder: Path, text: str = SMALL, files: dict[str, str] | None = None) -> Path:
    return write_scenario(folder, text, files or {})


def run(
    path: Path, engine: FakeEngine, tmp_path: Path, **options: Any
) -> tuple[Finished, list[Event]]:
    seen: list[Event] = []
    (finished,) = run_all(
        [path],
        Options(out=tmp_path / "runs", history=False, **options),
        engine=engine,
        on_event=seen.append,
    )
    return finished, seen


def criteria(result: RunResult) -> dict[str, bool]:
    return {c.id: c.passed for c in result.criteria}


# Verdicts


def test_a_run_that_does_the_job_passes_and_writes_its_record(tmp_path: Path) -> None:
    engine = FakeEngine(replies(GOOD))
    finished, seen = run(scenario(tmp_path / "s"), engine, tmp_path)
    result = finished.result
    assert (result.verdict, result.score, result.error) == ("pass", 100.0, None)
    assert criteria(result) == {"rows": True, "says-done": True}
    assert load_result(finished.folder).to_dict() == result.to_dict()
    assert {p.name for p in finished.folder.iterdir()} >= {
        "result.json",
        "report.html",
        "report.md",
        "junit.xml",
        "steps",
        "logs",
        "artifacts",
    }
    assert (finished.folder / "steps" / "detect.out").read_text() == "found 12\n"
    assert (finished.folder / "artifacts" / "out" / "report.json").read_text() == '{"rows": 12}'
    assert [s.name for s in result.steps] == ["detect", "score"]
    assert result.environment["engine"]["version"] == "0.0-fake"
    assert set(result.environment["images"]) == {"db", "app"}
    (sandbox,) = engine.made
    assert sandbox.removed, "torn down after the run"
    assert [c.service for c in sandbox.calls] == ["app", "app"]
    said = [(e.subject, e.status) for e in seen]
    assert said.index(("service db", "healthy")) < said.index(("service app", "starting"))
    assert ("step detect", "running") in said and said[-1][0] == "result"
    assert engine.reservations and engine.reservations[0].run_id == result.run_id


def test_a_must_criterion_not_met_fails_the_run(tmp_path: Path) -> None:
    wrong = {**GOOD, "detect": Reply(writes={"/out/report.json": '{"rows": 11}'})}
    finished, _ = run(scenario(tmp_path / "s"), FakeEngine(replies(wrong)), tmp_path)
    assert (finished.result.verdict, finished.result.score) == ("fail", 50.0)
    assert criteria(finished.result) == {"rows": False, "says-done": True}


def test_a_failed_step_ends_the_steps_and_what_rests_on_it_is_not_met(tmp_path: Path) -> None:
    broken = {**GOOD, "detect": Reply(2, stderr="Traceback: boom\n")}
    finished, _ = run(scenario(tmp_path / "s"), FakeEngine(replies(broken)), tmp_path)
    result = finished.result
    assert result.verdict == "fail" and result.error is None
    assert [(s.name, s.ran) for s in result.steps] == [("detect", True), ("score", False)]
    assert result.steps[0].last_lines == ["Traceback: boom"]
    assert criteria(result) == {"rows": False, "says-done": False}


def test_a_step_past_its_timeout_is_cut_short(tmp_path: Path) -> None:
    text = SMALL.replace("run: detect,", "run: detect, timeout: 2s,")
    slow = {**GOOD, "detect": Reply(duration_s=60.0)}
    finished, _ = run(scenario(tmp_path / "s", text), FakeEngine(replies(slow)), tmp_path)
    detect = finished.result.steps[0]
    assert (detect.timed_out, detect.exit_code, detect.duration_s) == (True, None, 2.0)
    assert finished.result.verdict == "fail"


# Errors


def test_a_service_that_never_becomes_healthy_is_a_sandbox_error(tmp_path: Path) -> None:
    engine = FakeEngine(Script(replies(GOOD), unhealthy={"db": "pg_isready never answered"}))
    finished, _ = run(scenario(tmp_path / "s"), engine, tmp_path)
    result = finished.result
    assert result.verdict == "error"
    assert result.error == "service 'db' did not become healthy: pg_isready never answered"
    assert all(not c.passed for c in result.criteria) and engine.made[0].removed
    assert not any(s.ran for s in result.steps)


def test_a_service_out_of_memory_during_a_step_is_a_sandbox_error(tmp_path: Path) -> None:
    killed = Incident("app", IncidentKind.OUT_OF_MEMORY, 1.0, 137, "app ran out of memory", [])
    oom = {**GOOD, "detect": Reply(137, incident=killed)}
    finished, _ = run(scenario(tmp_path / "s"), FakeEngine(replies(oom)), tmp_path)
    result = finished.result
    assert (result.verdict, result.error) == ("error", "app ran out of memory")
    assert [i.kind for i in result.incidents] == [IncidentKind.OUT_OF_MEMORY]


def test_a_service_that_stopped_fails_the_step_that_needs_it(tmp_path: Path) -> None:
    stopped = Incident("app", IncidentKind.EXITED, 1.0, 1, "app stopped", [])
    ending = {**GOOD, "detect": Reply(1, incident=stopped)}
    text = SMALL.replace("run: detect,", "run: detect, continue_on_error: true,")
    finished, _ = run(scenario(tmp_path / "s", text), FakeEngine(replies(ending)), tmp_path)
    score = finished.result.steps[1]
    assert finished.result.verdict == "fail" and finished.result.error is None
    assert score.error is not None and score.error.startswith("could not run: service 'app'")


def test_the_engine_lost_during_a_step_ends_the_run_saying_so(tmp_path: Path) -> None:
    lost = {**GOOD, "detect": Reply(raises=EngineLost("connection refused", "Docker"))}
    finished, _ = run(scenario(tmp_path / "s"), FakeEngine(replies(lost)), tmp_path)
    result = finished.result
    assert result.verdict == "error"
    assert result.error is not None and "engine stopped during the run" in result.error
    assert result.steps[0].error is not None and result.steps[0].error.startswith("did not finish")


def test_a_bug_of_poc_runner_is_called_one_and_the_sandbox_still_goes(tmp_path: Path) -> None:
    bug = {**GOOD, "score": Reply(raises=ZeroDivisionError("division by zero"))}
    engine = FakeEngine(replies(bug))
    finished, _ = run(scenario(tmp_path / "s"), engine, tmp_path)
    assert finished.result.verdict == "error"
    assert "this is a bug in poc-runner" in str(finished.result.error)
    assert engine.made[0].removed


def test_an_invalid_file_starts_nothing(tmp_path: Path) -> None:
    engine = FakeEngine(replies(GOOD))
    path = scenario(
        tmp_path / "s", SMALL.replace("image: poc-runner/base", "imgae: poc-runner/base")
    )
    with pytest.raises(InvalidInput, match="no service was started"):
        run(path, engine, tmp_path)
    assert engine.made == [] and all(r.discarded for r in engine.reservations)


# Interruptions


def test_ctrl_c_tears_the_sandbox_down_and_the_run_ends_as_interrupted(tmp_path: Path) -> None:
    def interrupted(call: Call) -> Reply:
        if call.line == "detect":  # Ctrl-C during the step, which goes on until torn down
            os.kill(os.getpid(), signal.SIGINT)
            deadline = time.monotonic() + 30
            while not engine.made[0].removed and time.monotonic() < deadline:
                time.sleep(0.01)
        return GOOD.get(call.line, Reply())

    engine = FakeEngine(interrupted)
    with pytest.raises(Interrupted, match="every sandbox was removed"):
        run(scenario(tmp_path / "s"), engine, tmp_path)
    (sandbox,) = engine.made
    assert sandbox.removed
    (folder,) = (tmp_path / "runs" / "small").iterdir()
    result = load_result(folder)
    assert (result.verdict, result.error) == ("error", "interrupted")


# A sandbox left up, and reused


def test_a_sandbox_kept_is_reused_and_stays_up(tmp_path: Path) -> None:
    engine = FakeEngine(replies(GOOD))
    path = scenario(tmp_path / "s")
    first, _ = run(path, engine, tmp_path, keep=True)
    assert first.result.verdict == "pass" and first.result.reused is None
    assert first.left_up is not None and set(first.left_up) == {"db", "app"}
    assert engine.left_up("small") == {first.result.run_id}

    second, _ = run(path, engine, tmp_path, reuse=True)
    assert second.result.reused == first.result.run_id
    assert second.result.run_id != first.result.run_id
    assert second.result.verdict == "pass" and second.left_up is not None
    assert engine.left_up("small") == {first.result.run_id}, "a reused sandbox stays up"

    engine.sweep(include_kept=True, only_kept=True, scenario="small", by="`poc down`")
    with pytest.raises(InvalidInput, match="small is not up"):
        run(path, engine, tmp_path, reuse=True)


def test_a_reused_sandbox_judges_only_what_this_run_wrote(tmp_path: Path) -> None:
    """The earlier run's artifact is cleared before the steps: a step that writes nothing
    this time leaves the criterion on it without evidence."""
    path = scenario(tmp_path / "s")
    first_engine = FakeEngine(replies(GOOD))
    run(path, first_engine, tmp_path, keep=True)
    first_engine.script = Script(replies({**GOOD, "detect": Reply(stdout="found 12\n")}))
    second, _ = run(path, first_engine, tmp_path, reuse=True)
    assert criteria(second.result)["rows"] is False
    assert "was not produced" in second.result.criterion("rows").evidence


def test_an_artifact_a_reused_sandbox_could_not_clear_is_no_evidence(tmp_path: Path) -> None:
    path = scenario(tmp_path / "s")
    engine = FakeEngine(replies(GOOD))
    run(path, engine, tmp_path, keep=True)
    stuck = {("app", "/out/report.json"): "read-only file system"}
    engine.script = Script(replies(GOOD), uncleared=stuck)
    second, _ = run(path, engine, tmp_path, reuse=True)
    assert criteria(second.result)["rows"] is False
    assert (
        second.result.steps[0]
        .artifact_errors["/out/report.json"]
        .endswith("so what is there may be an earlier run's")
    )


def test_a_reuse_whose_services_changed_is_refused_before_any_step(tmp_path: Path) -> None:
    path = scenario(tmp_path / "s")
    engine = FakeEngine(replies(GOOD))
    run(path, engine, tmp_path, keep=True)
    path.write_text(path.read_text().replace('"infinity"]', '"infinity"]\n    working_dir: /x'))
    calls = len(engine.made[0].calls)
    with pytest.raises(InvalidInput, match="services changed since the sandbox was brought up"):
        run(path, engine, tmp_path, reuse=True)
    assert len(engine.made[0].calls) == calls


# Every row of "Evidence belongs to this run", in a whole run

ROW_SCENARIO = """\
apiVersion: poc-runner/v1
name: grounds
services:
  db:
    image: poc-runner/postgres:bookworm
    environment: {POSTGRES_USER: poc}
    command: ["sleep", "infinity"]
steps:
  - {name: first, service: db, run: first}
  - {name: work, service: db, run: work, timeout: 2s, artifacts: [/out]}
acceptance:
  criteria:
    - {id: judged, check: CHECK}
"""
UNREADABLE_FILE = "artifacts/out/report.json"


def isolated(call: Call) -> Reply:
    """The isolation helper in a service of an isolated network: a link route only, and every
    address it tries is unreachable."""
    if call.argv[2] == ROUTES:
        return Reply(stdout=json.dumps([[4, "eth0", "000014AC", "0000FFFF", "00000000", 1]]))
    tried = len(json.loads(call.argv[3]))
    said = {"answers": ["ENETUNREACH"] * tried, "lookup": {"error": "no answer"}}
    return Reply(stdout=json.dumps(said))


def in_the_sandbox(call: Call) -> Reply:
    """Every check run in the sandbox passes on its content: sql 12, http 200, command exit 0,
    the isolation helper finding no way out."""
    if call.within:
        return isolated(call)
    if call.service is None:  # the http probe
        return Reply(stdout=answered(200)().stdout.text())
    if "command -v" in call.line:
        return Reply(stdout="psql\n")
    if call.argv[0] == "psql":
        return Reply(stdout="12\n")
    return Reply()  # `command`'s `true`


ISOLATED = """\
apiVersion: poc-runner/v1
name: nothing-leaves
services:
  app: {image: poc-runner/base:bookworm, command: ["sleep", "infinity"]}
steps:
  - {name: work, service: app, run: "true"}
acceptance:
  criteria:
    - {id: nothing-leaves, must: true, check: {type: isolation}}
"""


@pytest.mark.parametrize("leaks", [None, "the engine forwards lookups from the host"])
def test_an_engine_that_would_carry_a_lookup_out_is_never_asked_one(
    tmp_path: Path, leaks: str | None
) -> None:
    """CVE-2024-29018: the question itself would leave the machine, so it is not asked, and
    the flaw is the way out; an engine without it is asked, and the run passes."""
    targets = Targets(TARGETS.host, TARGETS.gateways, leaks)
    engine = FakeEngine(Script(in_the_sandbox, targets=targets))
    finished, _ = run(scenario(tmp_path / "s", ISOLATED), engine, tmp_path)
    (criterion,) = finished.result.criteria
    (sandbox,) = engine.made
    (attempt,) = [c for c in sandbox.calls if c.within and c.argv[2] != ROUTES]
    if leaks is None:
        assert criterion.passed and attempt.argv[4] == "example.com"
        return
    assert attempt.argv[4] == "", "no name asked"
    assert not criterion.passed and finished.result.verdict == "fail"
    assert criterion.measured == {"app": leaks}
    assert f"example.com not looked up: {leaks}" in criterion.evidence


def row_engine(kind: str, case: Case) -> FakeEngine:
    artifact, stdout, content = output_of(kind, case)
    writes = {artifact: content} if artifact is not None and content is not None else {}
    work = {
        Case.FAILED: Reply(1, stdout, writes=writes, duration_s=1.5),
        Case.TIMED_OUT: Reply(stdout=stdout, writes=writes, duration_s=60.0),
    }.get(case, Reply(stdout=stdout, writes=writes, duration_s=1.5))
    first = Reply(1) if case is Case.NOT_RUN else Reply()

    def handler(call: Call) -> Reply:
        if call.service == "db" and not call.within and call.line in ("first", "work"):
            return first if call.line == "first" else work
        return in_the_sandbox(call)

    return FakeEngine(handler)


def row_scenario(folder: Path, kind: str, case: Case) -> Path:
    text = ROW_SCENARIO.replace("CHECK", json.dumps(fields_of(kind, case)))
    return scenario(folder, text, {"expected.csv": EXPECTED_CSV})


WHY = {
    Case.FAILED: r"^step 'work' failed \(exit 1\): (its duration|a figure it printed) proves nothing$",
    Case.TIMED_OUT: r"^step 'work' timed out after 2\.0 s: ",
    Case.NOT_RUN: r"^(step 'work' never ran, so there is nothing to judge|artifact /out/\S+ was never collected: no step that collects it ran)$",
    Case.MISSING: r"^artifact /out/\S+ was not produced: step 'work' ran but did not write it$",
    Case.EMPTY: r"is empty",
    Case.UNREADABLE: r"not valid JSON|not UTF-8|could not be read",
}


@pytest.mark.parametrize("case", list(Case), ids=lambda c: c.name.lower())
@pytest.mark.parametrize("kind", list(RULES))
def test_every_row_of_the_evidence_table_holds_in_a_whole_run(
    kind: str, case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "file" and case is Case.UNREADABLE:  # as root, only a fault makes it unreadable
        refuse_opening(monkeypatch, UNREADABLE_FILE)
    finished, _ = run(row_scenario(tmp_path / "s", kind, case), row_engine(kind, case), tmp_path)
    assert finished.result.error is None, finished.result.error
    (judged,) = finished.result.criteria
    conclusion = RULES[kind][case]
    if conclusion is Conclusion.NOT_MET:
        assert not judged.passed, judged.evidence
        assert re.search(WHY[case], judged.evidence), judged.evidence
    else:  # judged on what this run left, or the case is nothing the check reads
        assert judged.passed, judged.evidence
        if conclusion is not Conclusion.NONE and case is Case.FAILED and kind != "exit_code":
            assert judged.evidence.endswith("(step 'work' failed (exit 1))"), judged.evidence


def refuse_opening(monkeypatch: pytest.MonkeyPatch, ending: str) -> None:
    """The checks cannot open the run's copy of the artifact (the copying itself can)."""
    opened = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if self.as_posix().endswith(ending) and caller.startswith("poc_runner.checks"):
            raise PermissionError(13, "Permission denied", str(self))
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
