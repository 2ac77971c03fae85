"""The pytest plugin, driven by pytest's own `pytester` (an inner pytest session in a folder
of the test's own): collection, ids, locations, keywords, errors, options, JUnit properties
and the poc_sandbox fixture. The runs themselves are a fake behind the plugin's one door into
running (`_runs.run_scenarios`): tests/integration/test_pytest_plugin.py runs them for real."""

from __future__ import annotations

import importlib
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from poc_runner import _runs
from poc_runner.errors import Interrupted, InvalidInput
from poc_runner.model import Scenario
from poc_runner.result import CriterionResult, RunResult, Status, Verdict

pytest_plugins = ["pytester"]

ACME = """\
apiVersion: poc-runner/v1
name: acme
job:
  statement: When we pay suppliers, we want duplicates caught first.
  stakeholders:
    - {role: Controller, wants: No duplicate paid}
    - {role: CFO, wants: A figure for the board}
    - {role: AP clerk, wants: Less hunting}
vars: {greeting: hello}
services: {app: {image: poc-runner/base:bookworm, command: [sleep, infinity]}}
steps: [{name: detect, service: app, run: "echo ${greeting}"}]
acceptance:
  pass_score: 80
  criteria:
    - id: recall
      title: Every duplicate caught
      for: [Controller]
      must: true
      weight: 3
      check: {type: exit_code, step: detect}
    - id: speed
      title: Minutes, not hours
      for: [CFO]
      unit: s
      check: {type: duration, step: detect, op: "<", value: 120}
    - {id: savings, for: [CFO, AP clerk], check: {type: exit_code, step: detect}}
"""


def line_of(text: str) -> int:
    """The 1-based line of ACME where `text` is written."""
    return next(n for n, line in enumerate(ACME.splitlines(), 1) if text in line)


LINES = {  # where each item is written
    "recall": line_of("id: recall"),
    "speed": line_of("id: speed"),
    "savings": line_of("id: savings"),
    "[verdict]": line_of("acceptance:"),
}


@dataclass
class FakeRuns:
    """Stands in for running: each scenario's result as the test scripts it (criteria not
    met, a sandbox error, or an exception), written to its run folder as a run writes it."""

    not_met: set[str] = field(default_factory=set)
    error: str | None = None
    raises: Exception | None = None
    calls: list[tuple[str, _runs.Request, Scenario]] = field(default_factory=list)

    def __call__(
        self, scenarios: list[tuple[Path, Scenario]], request: _runs.Request
    ) -> list[RunResult]:
        ((file, scenario),) = scenarios
        self.calls.append((scenario.name, request, scenario))
        if self.raises is not None:
            raise self.raises
        criteria = [
            CriterionResult(
                id=c.id,
                title=c.title,
                passed=c.id not in self.not_met and self.error is None,
                must=c.must,
                weight=c.weight,
                measured=42.5 if c.id == "speed" else 0,
                expected="< 120" if c.id == "speed" else "== 0",
                evidence=f"step 'detect' of {c.id}",
                stakeholders=list(c.for_),
                check=c.check.type,
                unit=c.unit,
                status=Status.NOT_JUDGED if self.error else None,
            )
            for c in scenario.acceptance.criteria
        ]
        must_missed = any(c.must and not c.passed for c in criteria)
        verdict = Verdict.ERROR if self.error else Verdict.FAIL if must_missed else Verdict.PASS
        result = RunResult(
            scenario.name,
            "20261206T000000Z-abcdef",
            "2026-12-06T00:00:00.000Z",
            verdict=verdict,
            score=100.0 * sum(c.passed for c in criteria) / len(criteria),
            pass_score=scenario.acceptance.pass_score,
            error=self.error,
            criteria=criteria,
        )
        folder = request.out / scenario.name / result.run_id
        folder.mkdir(parents=True)
        result.write(folder)
        return [result.at(folder, {}, file)]


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> FakeRuns:
    fake = FakeRuns()
    monkeypatch.setattr(_runs, "run_scenarios", fake)
    return fake


QUICK = (
    "[pytest]\naddopts = -p no:hypothesispytest -p no:xdist -p no:cacheprovider\n"  # unused here
)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(QUICK)
    (pytester.path / "acme").mkdir()
    (pytester.path / "acme" / "scenario.yaml").write_text(ACME)
    return pytester


def ids(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


# Collection


def test_nothing_is_collected_without_poc(project: pytest.Pytester, runs: FakeRuns) -> None:
    """Installing poc-runner changes no one's test run: without --poc a scenario is a file."""
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert runs.calls == []


def test_a_scenario_is_one_item_per_criterion_and_its_verdict(project: pytest.Pytester) -> None:
    result = project.runpytest("--poc", "--collect-only", "-q")
    assert ids(result) == [
        "acme/scenario.yaml::recall",
        "acme/scenario.yaml::speed",
        "acme/scenario.yaml::savings",
        "acme/scenario.yaml::[verdict]",
    ]


def test_yml_and_poc_yaml_files_are_scenarios_and_ini_poc_collects_them(
    project: pytest.Pytester,
) -> None:
    (project.path / "b").mkdir()
    (project.path / "b" / "scenario.yml").write_text(ACME.replace("name: acme", "name: bee"))
    (project.path / "c.poc.yaml").write_text(ACME.replace("name: acme", "name: sea"))
    (project.path / "other.yaml").write_text("not: a scenario\n")
    project.makeini(QUICK + "poc = true\n")
    found = ids(project.runpytest("--collect-only", "-q"))
    assert {line.split("::")[0] for line in found} == {
        "acme/scenario.yaml",
        "b/scenario.yml",
        "c.poc.yaml",
    }


def test_each_item_is_at_its_line_with_the_poc_marker(project: pytest.Pytester) -> None:
    items, _ = project.inline_genitems("--poc")
    for item in items:
        assert item.location == ("acme/scenario.yaml", LINES[item.name] - 1, item.name)
        assert item.get_closest_marker("poc") is not None


def test_k_selects_by_stakeholder_and_must(project: pytest.Pytester) -> None:
    def chosen(expression: str) -> list[str]:
        found = project.runpytest("--poc", "--collect-only", "-q", "-k", expression)
        return [line.split("::")[1] for line in ids(found)]

    assert chosen("CFO") == ["speed", "savings"]
    assert chosen("clerk") == ["savings"]
    assert chosen("must") == ["recall"]
    assert chosen("not CFO") == ["recall", "[verdict]"]


def test_an_invalid_file_is_one_collection_error_as_poc_validate_says_it(
    project: pytest.Pytester,
) -> None:
    file = project.path / "acme" / "scenario.yaml"
    file.write_text(ACME.replace("service: app", "service: ap").replace("image:", "imgae:"))
    result = project.runpytest("--poc")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)
    said = subprocess.run(
        [sys.executable, "-m", "poc_runner", "validate", "acme/scenario.yaml"],
        capture_output=True,
        text=True,
        cwd=project.path,
    )
    text = "\n".join(result.outlines)
    for line in [*said.stdout.splitlines(), *said.stderr.splitlines()]:
        assert line in text
    assert "acme/scenario.yaml:10:18: error: unknown key 'imgae'" in text
    assert "Traceback" not in text


# Options


def test_poc_var_is_checked_as_var_is(project: pytest.Pytester, runs: FakeRuns) -> None:
    bad = project.runpytest("--poc", "--poc-var", "no equals sign")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "is not NAME=VALUE" in "\n".join(bad.errlines)
    unused = project.runpytest("--poc", "--poc-var", "greting=hi")
    unused.assert_outcomes(errors=1)
    assert "--var greting is not used by this scenario" in unused.stdout.str()
    project.runpytest("--poc", "--poc-var", "greeting=bonjour").assert_outcomes(passed=4)
    ((_, _, scenario),) = runs.calls
    assert scenario.overrides == {"greeting": "bonjour"}
    assert scenario.steps[0].run == "echo bonjour"


def test_one_run_per_file_whatever_is_selected(project: pytest.Pytester, runs: FakeRuns) -> None:
    out = project.path / "runs"
    result = project.runpytest("--poc", "-k", "speed or savings", "--poc-out", "runs")
    result.assert_outcomes(passed=2, deselected=2)
    ((name, request, _),) = runs.calls
    assert name == "acme" and request.out == out
    assert (request.history, request.reuse, request.keep) == (False, False, False)
    assert request.on_event is None  # silent


def test_poc_reuse_runs_on_the_sandbox_left_up(project: pytest.Pytester, runs: FakeRuns) -> None:
    project.runpytest("--poc", "--poc-reuse").assert_outcomes(passed=4)
    ((_, request, _),) = runs.calls
    assert request.reuse


def test_run_folders_default_under_pytest_s_temporary_folder(
    project: pytest.Pytester, runs: FakeRuns
) -> None:
    basetemp = project.path / "basetemp"
    project.runpytest("--poc", f"--basetemp={basetemp}").assert_outcomes(passed=4)
    ((_, request, _),) = runs.calls
    assert request.out == basetemp / "poc-runs"


# Outcomes


def test_a_criterion_not_met_fails_with_what_was_measured_where_it_is_written(
    project: pytest.Pytester, runs: FakeRuns
) -> None:
    runs.not_met = {"speed"}
    result = project.runpytest("--poc", "--poc-out", "runs")
    result.assert_outcomes(passed=3, failed=1)  # the verdict passes: speed is not a must
    text = result.stdout.str()
    folder = project.path / "runs" / "acme" / "20261206T000000Z-abcdef"
    assert f"acme/scenario.yaml:{LINES['speed']}: speed not met" in text
    for said in ("Minutes, not hours", "for: CFO", "measured: 42.5 s", "expected: < 2 min"):
        assert said in text
    assert "step 'detect' of speed" in text and f"results: {folder}" in text
    assert "Traceback" not in text and "FakeRuns" not in text


def test_a_must_have_not_met_fails_the_verdict_with_the_summary(
    project: pytest.Pytester, runs: FakeRuns
) -> None:
    runs.not_met = {"recall"}
    result = project.runpytest("--poc")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            f"acme/scenario.yaml:{LINES['recall']}: recall not met, a must-have",
            f"acme/scenario.yaml:{LINES['[verdict]']}: verdict FAIL",
            "acme: FAIL  score *",
            "*Not met (must-haves first)*",
        ]
    )


def reports(stdout: str) -> str:
    """The session's output up to its short summary: one report per item. The summary repeats
    each message, whole on CI (pytest's `running_on_ci`: CI or BUILD_NUMBER set), cut to the
    terminal's width elsewhere, so a count over the whole output depends on where it runs."""
    return stdout.split(" short test summary info ")[0]


@pytest.fixture(params=[False, True], ids=["terminal", "ci"])
def on_ci(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner session as on a developer's terminal and as on CI, whose short summary
    prints each failure's message whole."""
    for name in ("CI", "BUILD_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    if request.param:
        monkeypatch.setenv("CI", "true")


@pytest.mark.usefixtures("on_ci")
def test_a_sandbox_error_is_an_error_of_every_item(
    project: pytest.Pytester, runs: FakeRuns
) -> None:
    runs.error = "service 'app' stopped (exit code 2) while it was brought up"
    result = project.runpytest("--poc")
    result.assert_outcomes(errors=4)
    assert reports(result.stdout.str()).count("the sandbox failed, nothing was judged") == 4
    assert "service 'app' stopped (exit code 2)" in result.stdout.str()
    assert len(runs.calls) == 1


@pytest.mark.usefixtures("on_ci")
def test_a_run_that_cannot_start_fails_every_item_once(
    project: pytest.Pytester, runs: FakeRuns
) -> None:
    runs.raises = InvalidInput("results cannot be written to --out /ro: Read-only file system")
    result = project.runpytest("--poc")
    result.assert_outcomes(errors=4)
    said = reports(result.stdout.str()).count("acme/scenario.yaml: results cannot be written")
    assert said == 4
    assert len(runs.calls) == 1


def test_an_interrupted_run_ends_the_session_as_ctrl_c_does(
    project: pytest.Pytester, runs: FakeRuns
) -> None:
    runs.raises = Interrupted("interrupted: every sandbox was removed")
    result = project.runpytest("--poc", no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "KeyboardInterrupt" in result.stdout.str()


def test_junit_holds_each_criterion_s_properties(project: pytest.Pytester, runs: FakeRuns) -> None:
    runs.not_met = {"speed"}
    project.runpytest("--poc", "--junitxml=poc.xml", "--poc-out", "runs")
    cases = {
        case.attrib["name"]: case
        for case in ET.parse(project.path / "poc.xml").getroot().iter("testcase")
    }
    assert list(cases) == ["recall", "speed", "savings", "[verdict]"]
    folder = str(project.path / "runs" / "acme" / "20261206T000000Z-abcdef")

    def properties(name: str) -> dict[str, str]:
        return {p.attrib["name"]: p.attrib["value"] for p in cases[name].iter("property")}

    assert properties("speed") == {
        "weight": "1.0",
        "must": "false",
        "stakeholders": "CFO",
        "measured": "42.5",
        "expected": "< 120",
        "run_folder": folder,
    }
    assert properties("recall")["must"] == "true"
    assert properties("savings")["stakeholders"] == "CFO, AP clerk"
    assert properties("[verdict]") == {
        "verdict": "pass",
        "score": "66.66666666666667",
        "pass_score": "80.0",
        "run_folder": folder,
    }
    assert cases["speed"].find("failure") is not None
    assert cases["speed"].attrib["classname"] == "acme.scenario.yaml"


# The poc_sandbox fixture


@dataclass
class FakeSandbox:
    path: Path
    variables: dict[str, str]
    reuse: bool
    closed: list[FakeSandbox]

    def __exit__(self, *_exc: object) -> None:
        self.closed.append(self)


@pytest.fixture
def sandboxes(monkeypatch: pytest.MonkeyPatch) -> tuple[list[FakeSandbox], list[FakeSandbox]]:
    opened: list[FakeSandbox] = []
    closed: list[FakeSandbox] = []

    def sandbox(path: Path, *, variables: dict[str, str], reuse: bool) -> FakeSandbox:
        opened.append(FakeSandbox(path, variables, reuse, closed))
        return opened[-1]

    # the module as imported now: an inner in-process session drops the modules it imported
    monkeypatch.setattr(importlib.import_module("poc_runner._sandbox"), "sandbox", sandbox)
    return opened, closed


USES_THE_FIXTURE = """\
def test_one(poc_sandbox):
    assert poc_sandbox("acme") is poc_sandbox("acme")

def test_two(poc_sandbox):
    poc_sandbox("acme")
    poc_sandbox("acme", variables={"greeting": "hi"})
"""


@pytest.mark.parametrize(("scope", "opened_count"), [("session", 2), ("function", 3)])
def test_poc_sandbox_is_one_sandbox_per_path_and_scope(
    project: pytest.Pytester,
    sandboxes: tuple[list[FakeSandbox], list[FakeSandbox]],
    scope: str,
    opened_count: int,
) -> None:
    opened, closed = sandboxes
    project.makepyfile(test_api=USES_THE_FIXTURE)
    result = project.runpytest("--poc-scope", scope, "--poc-var", "region=eu", "test_api.py")
    result.assert_outcomes(passed=2)
    assert len(opened) == opened_count and sorted(map(id, closed)) == sorted(map(id, opened))
    assert opened[0].path == project.path / "acme"  # from the rootdir
    assert opened[0].variables == {"region": "eu"} and not opened[0].reuse
    assert opened[-1].variables == {"region": "eu", "greeting": "hi"}


def test_poc_sandbox_with_poc_reuse_takes_the_sandbox_left_up(
    project: pytest.Pytester, sandboxes: tuple[list[FakeSandbox], list[FakeSandbox]]
) -> None:
    opened, _ = sandboxes
    project.makepyfile(test_api=USES_THE_FIXTURE)
    project.runpytest("--poc-reuse", "test_api.py").assert_outcomes(passed=2)
    assert all(sandbox.reuse for sandbox in opened)


def test_poc_scope_takes_pytest_s_scopes_only(project: pytest.Pytester) -> None:
    result = project.runpytest("--poc-scope", "package")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_the_plugin_names_itself_in_pytest_s_help(project: pytest.Pytester) -> None:
    text = project.runpytest("--help").stdout.str()
    for option in ("--poc ", "--poc-var", "--poc-out", "--poc-reuse", "--poc-scope"):
        assert option in text
