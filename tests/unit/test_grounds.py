"""Evidence belongs to the run: every check type walked through every row of the table of what
it concludes when its step failed, timed out or did not run, or its artifact is missing, empty
or unreadable (checks/grounds.py), and the README's copy of that table kept the same.

Each case is built so that the check would pass on the content alone (the duration fits, the
artifact holds the expected value): a conclusion "not met" is then the table's doing, never
the content's."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import TypeAdapter

from poc_runner.backend import Outcome, Targets
from poc_runner.checks import JUDGES, judge
from poc_runner.checks.evidence import Evidence
from poc_runner.checks.grounds import RULES, Case, Conclusion, kind_of
from poc_runner.checks.isolation import ROUTES
from poc_runner.model.checks import Check
from poc_runner.result import StepOutcome
from poc_runner.steps import StepResult
from tests.unit.test_sandbox_checks import FakeSandbox, answered, found, outcome

ROOT = Path(__file__).resolve().parents[2]
TABLE = TypeAdapter(Check)
ARTIFACTS = {
    "json (artifact)": ("/out/report.json", b'{"rows": 12}', b'{"rows": 12'),
    "file": ("/out/report.json", b'{"rows": 12}', None),
    "csv": ("/out/table.csv", b"id,amount\n1,2.50\n", b"id,amount\n1,\xff\xfe\n"),
    "data": ("/out/table.csv", b"id,amount\n1,2.50\n", b"id,amount\n1,\xff\xfe\n"),
    "schema": ("/out/table.csv", b"id,amount\n1,2.50\n", b"id,amount\n1,\xff\xfe\n"),
}
EXPECTED_CSV = "id,amount\n1,2.50\n"
GOOD_STDOUT = "rows 12\ndone\n"

CHECKS: dict[str, dict[str, Any]] = {
    "exit_code": {"type": "exit_code", "step": "work"},
    "output": {"type": "output", "step": "work", "contains": "done"},
    "duration": {"type": "duration", "step": "work", "op": "<", "value": "2m"},
    "metric": {"type": "metric", "step": "work", "pattern": r"rows (\d+)", "op": ">=", "value": 1},
    "json (stdout)": {"type": "json", "step": "work", "path": "$.rows", "op": "==", "value": 12},
    "json (artifact)": {
        "type": "json",
        "artifact": "/out/report.json",
        "path": "$.rows",
        "op": "==",
        "value": 12,
    },
    "file": {"type": "file", "artifact": "/out/report.json"},
    "csv": {"type": "csv", "artifact": "/out/table.csv", "expected": "expected.csv", "key": "id"},
    "sql": {"type": "sql", "service": "db", "query": "select 12", "op": "==", "value": 12},
    "http": {"type": "http", "url": "http://db:8080/health", "status": 200},
    "command": {"type": "command", "service": "db", "run": "true"},
    "data": {
        "type": "data",
        "artifact": "/out/table.csv",
        "metric": "row_count",
        "op": "==",
        "value": 1,
    },
    "schema": {"type": "schema", "artifact": "/out/table.csv", "require": {"id": "integer"}},
    "isolation": {"type": "isolation"},
}

# How the step the check rests on ended, in each case (the artifact cases: it passed).
STEP_IN = {
    Case.FAILED: StepOutcome.FAILED,
    Case.TIMED_OUT: StepOutcome.TIMED_OUT,
    Case.NOT_RUN: StepOutcome.NOT_RUN,
    Case.MISSING: StepOutcome.PASSED,
    Case.EMPTY: StepOutcome.PASSED,
    Case.UNREADABLE: StepOutcome.PASSED,
}


def step(ended: StepOutcome, stdout: str, artifact: str | None, copied: bool) -> StepResult:
    result = StepResult("work", "db")
    if ended is StepOutcome.NOT_RUN:
        return result
    result.ran, result.duration_s, result.stdout = True, 1.5, stdout
    result.exit_code = {StepOutcome.PASSED: 0, StepOutcome.FAILED: 1}.get(ended)
    result.timed_out = ended is StepOutcome.TIMED_OUT
    if artifact is not None:
        result.artifacts[artifact] = copied
    return result


class IsolatedSandbox(FakeSandbox):
    """The fake sandbox, isolated: each service's namespace has no route out, and every
    address tried is refused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scenario.sandbox = SimpleNamespace(network="isolated")

    def isolation_targets(self) -> Targets:
        return Targets(["192.0.2.2"], ["172.20.0.1"])

    def probe_within(self, service: str, argv: list[str], timeout: float) -> Outcome:
        if argv[2] == ROUTES:  # a link route only: [family, iface, dest, mask, gateway, flags]
            return outcome(0, json.dumps([[4, "eth0", "000014AC", "0000FFFF", "00000000", 1]]))
        tried = len(json.loads(argv[3]))
        lookup = {"error": "no answer"}
        return outcome(0, json.dumps({"answers": ["ENETUNREACH"] * tried, "lookup": lookup}))


def sandbox() -> FakeSandbox:
    """Answers every sandboxed check so that it passes: sql 12, http 200, command exit 0,
    isolation."""
    replies = [found("psql"), outcome(0, "12\n"), outcome(0, "")]
    return IsolatedSandbox(replies, answered(200), db={"POSTGRES_USER": "poc"})


def fields_of(kind: str, case: Case) -> dict[str, Any]:
    """The check of this kind, as the case needs it to pass on content alone."""
    fields = CHECKS[kind]
    if (kind, case) == ("file", Case.UNREADABLE):  # its sha256 is what needs it read
        fields = {**fields, "sha256": hashlib.sha256(ARTIFACTS["file"][1]).hexdigest()}
    if (kind, case) == ("exit_code", Case.FAILED):  # the code a failed step exits with
        fields = {**fields, "value": 1}
    if (kind, case) == ("file", Case.MISSING):  # what a missing artifact satisfies
        fields = {**fields, "exists": False}
    return fields


def output_of(kind: str, case: Case) -> tuple[str | None, str, bytes | None]:
    """The artifact the check reads (if any), what the step printed and what it wrote there."""
    artifact, good, bad = ARTIFACTS.get(kind, (None, b"", None))
    bad = good if bad is None else bad  # a file whose reading fails (see `unreadable`)
    stdout = GOOD_STDOUT
    if kind == "json (stdout)":
        stdout = {Case.EMPTY: "", Case.UNREADABLE: "not json at all\n"}.get(case, '{"rows": 12}')
    written = {Case.MISSING: None, Case.NOT_RUN: None, Case.EMPTY: b"", Case.UNREADABLE: bad}
    return artifact, stdout, written.get(case, good)


def case_of(kind: str, case: Case, tmp_path: Path) -> tuple[Any, Evidence]:
    """The check of this kind and evidence in which `case` holds, content otherwise good."""
    fields = fields_of(kind, case)
    artifact, stdout, content = output_of(kind, case)
    if artifact is not None and content is not None:
        target = tmp_path / "run" / "artifacts" / artifact.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    (tmp_path / "expected.csv").write_text(EXPECTED_CSV)
    ran = step(STEP_IN[case], stdout, artifact, content is not None)
    return TABLE.validate_python(fields), Evidence(
        {"work": ran}, tmp_path / "run", tmp_path, sandbox()
    )  # type: ignore[arg-type]


def test_the_table_covers_every_check_type_and_every_case() -> None:
    assert set(RULES) == set(JUDGES) - {"json"} | {"json (artifact)", "json (stdout)"}
    assert set(RULES) == set(CHECKS)
    for kind, row in RULES.items():
        assert set(row) == set(Case), kind


@pytest.mark.parametrize("case", list(Case), ids=lambda c: c.name.lower())
@pytest.mark.parametrize("kind", list(RULES))
def test_every_check_type_concludes_what_the_table_says(
    kind: str, case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check, evidence = case_of(kind, case, tmp_path)
    assert kind_of(check) == kind
    if kind == "file" and case is Case.UNREADABLE:  # as root, only a fault makes a file unreadable
        unreadable(monkeypatch, tmp_path / "run" / "artifacts" / "out" / "report.json")
    conclusion = RULES[kind][case]
    judged = judge(check, evidence)
    if conclusion is Conclusion.NONE:  # the check reads no such thing: the case changes nothing
        assert judged.passed, judged.evidence
        reads = (
            getattr(check, "artifact", None)
            if case in ARTIFACT_CASES
            else getattr(check, "step", None)
        )
        assert reads is None or (kind == "json (stdout)" and case is Case.MISSING)
    elif conclusion in (Conclusion.JUDGED, Conclusion.PRESENT_ONLY):
        assert judged.passed, judged.evidence  # on what this run's step left, as it is
        if case is Case.FAILED and kind != "exit_code":
            assert judged.evidence.endswith("(step 'work' failed (exit 1))")
    else:
        assert not judged.passed
        assert judged.evidence, "a criterion not met says why"
        assert judged.measured is None or case in ARTIFACT_CASES, (
            "no figure from what proves nothing"
        )
        assert SAID[case](kind).search(judged.evidence), judged.evidence


ARTIFACT_CASES = (Case.MISSING, Case.EMPTY, Case.UNREADABLE)


def said(text: str) -> Callable[[str], re.Pattern[str]]:
    return lambda _kind: re.compile(text)


SAID: dict[Case, Callable[[str], re.Pattern[str]]] = {
    Case.FAILED: said(
        r"^step 'work' failed \(exit 1\): (its duration|a figure it printed) proves nothing$"
    ),
    Case.TIMED_OUT: said(
        r"^step 'work' timed out after 1\.5 s: (its duration proves nothing|a figure it printed proves nothing|it has no exit code|its output is incomplete, so it proves nothing|artifact /out/\S+ may be incomplete, so it proves nothing)$"
    ),
    Case.NOT_RUN: said(
        r"^(step 'work' never ran, so there is nothing to judge|artifact /out/\S+ was never collected: no step that collects it ran)$"
    ),
    Case.MISSING: said(
        r"^artifact /out/\S+ was not produced: step 'work' ran but did not write it$"
    ),
    Case.EMPTY: said(r"is empty"),
    Case.UNREADABLE: said(r"not valid JSON|not UTF-8|could not be read"),
}


def unreadable(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Opening `path` fails as an unreadable file would (root reads any mode)."""
    opened = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)


def test_after_a_failure_an_absent_artifact_proves_nothing(tmp_path: Path) -> None:
    """`exists: false` holds only when the step that collects it ran and passed."""
    absent = TABLE.validate_python({"type": "file", "artifact": "/out/errors.csv", "exists": False})
    for ended, passed in (
        (StepOutcome.PASSED, True),
        (StepOutcome.FAILED, False),
        (StepOutcome.TIMED_OUT, False),
    ):
        ran = step(ended, "", "/out/errors.csv", copied=False)
        judged = judge(absent, Evidence({"work": ran}, tmp_path / "run", tmp_path))
        assert judged.passed is passed, (ended, judged.evidence)
    failed = step(StepOutcome.FAILED, "", "/out/errors.csv", copied=False)
    judged = judge(absent, Evidence({"work": failed}, tmp_path / "run", tmp_path))
    assert judged.evidence == (
        "step 'work' failed (exit 1) and did not write artifact /out/errors.csv: after a failure,"
        " its absence proves nothing"
    )


def test_the_readme_shows_the_table_as_the_code_has_it() -> None:
    header = "| check | " + " | ".join(case.value for case in Case) + " |"
    rows = [
        f"| `{kind.split()[0]}`{' ' + kind.split(maxsplit=1)[1] if ' ' in kind else ''} | "
        + " | ".join(RULES[kind][case].value for case in Case)
        + " |"
        for kind in RULES
    ]
    table = "\n".join([header, "|---" * (len(Case) + 1) + "|", *rows])
    assert table in (ROOT / "README.md").read_text()
