"""junit.xml: the run as CI systems read test results (Jenkins, GitLab, GitHub test reporters).

One <testsuite> per run, one <testcase> per criterion (classname: the scenario; name: the
criterion's id and title). A failed criterion carries a <failure> with measured against
expected and the evidence. When the sandbox failed (verdict `error`) the product was not fairly
judged, so the criteria it failed become <error>s instead, and a `sandbox` testcase carries the
sandbox's own message: CI then shows an infrastructure problem, not a product regression.

The shape follows the common JUnit XML format (the one Jenkins' JUnit XSD and Ant describe:
element order properties, testcase, system-out; numeric tests/failures/errors/time);
tests/data/junit.xsd holds the schema the tests validate it against. ElementTree escapes
every value, and `clean` first drops the characters XML 1.0 cannot carry at all.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from poc_runner.report.common import State, clean, criterion_name, run_seconds, state, summary_line
from poc_runner.report.figures import baseline_text, expected_text, measured_text, near_text
from poc_runner.report.quantities import readable, score_text
from poc_runner.result import CriterionResult, RunResult, Verdict

_MESSAGE_LIMIT = 500  # attribute values are shown on one line by most CI systems


def render_junit(result: RunResult) -> str:
    """The whole junit.xml."""
    return render_suites([result])


def render_suites(results: list[RunResult]) -> str:
    """A junit.xml of several runs, one <testsuite> each (`poc report --merge`)."""
    suites = [_suite(result) for result in results]
    totals = {key: sum(float(suite.attrib[key]) for suite in suites) for key in _TOTALS}
    counts = {
        key: f"{value:.3f}" if key == "time" else str(int(value)) for key, value in totals.items()
    }
    root = ET.Element("testsuites", counts | {"name": "poc-runner"})
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _suite(result: RunResult) -> ET.Element:
    cases = [_case(result, criterion) for criterion in result.criteria]
    if result.verdict == "error":
        cases.insert(0, _sandbox_case(result))
    suite = ET.Element("testsuite", {"name": clean(result.scenario)})
    suite.attrib |= {
        "tests": str(len(cases)),
        "failures": str(sum(case.find("failure") is not None for case in cases)),
        "errors": str(sum(case.find("error") is not None for case in cases)),
        "skipped": "0",
        "time": f"{run_seconds(result):.3f}",
        "timestamp": _timestamp(result.started_at),
    }
    suite.append(_properties(result))
    suite.extend(cases)
    ET.SubElement(suite, "system-out").text = clean(
        f"{result.verdict.word} score {score_text(result.score)} (needs"
        f" {readable(result.pass_score)}): {summary_line(result)}"
    )
    return suite


_TOTALS = ("tests", "failures", "errors", "time")


def _timestamp(started_at: str) -> str:
    """ISO 8601 without zone or fraction, the form every JUnit consumer parses."""
    try:
        moment = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    except ValueError:
        return "1970-01-01T00:00:00"
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _properties(result: RunResult) -> ET.Element:
    values = {
        "run_id": result.run_id,
        "verdict": result.verdict,
        "score": f"{result.score:g}",  # data for a CI tool: as recorded
        "pass_score": f"{result.pass_score:g}",
        "title": result.title,
        "prospect": result.job.prospect,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
    }
    properties = ET.Element("properties")
    for name, value in values.items():
        if value:
            ET.SubElement(properties, "property", {"name": name, "value": clean(value)})
    return properties


def _case(result: RunResult, criterion: CriterionResult) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": clean(result.scenario),
            "name": clean(criterion_name(criterion)),
            "time": "0",
        },
    )
    if criterion.passed:
        return case
    judged = result.verdict is not Verdict.ERROR
    outcome = ET.SubElement(case, "failure" if judged else "error")
    prefix = "" if judged else "not judged, the sandbox failed: "
    if judged and state(result, criterion) is State.CLOSE:
        prefix = f"close (within {near_text(criterion)}) but not met: "
    outcome.attrib |= {
        "message": _one_line(prefix + _measured_vs_expected(criterion)),
        "type": clean(f"{criterion.check} check" + (", must-have" if criterion.must else "")),
    }
    outcome.text = _details(criterion)
    return case


def _sandbox_case(result: RunResult) -> ET.Element:
    case = ET.Element("testcase", {"classname": clean(result.scenario), "name": "sandbox"})
    error = ET.SubElement(case, "error", {"type": "SandboxError"})
    message = result.error or "the sandbox failed"
    error.attrib["message"] = _one_line(message)
    error.text = clean(message)
    return case


def _measured_vs_expected(criterion: CriterionResult) -> str:
    return f"measured {measured_text(criterion)}, expected {expected_text(criterion)}"


def _details(criterion: CriterionResult) -> str:
    lines = [f"measured: {measured_text(criterion)}", f"expected: {expected_text(criterion)}"]
    today = baseline_text(criterion)
    if today is not None:
        lines.append(f"today (baseline): {today}")
    if criterion.stakeholders:
        lines.append("for: " + ", ".join(criterion.stakeholders))
    lines += ["", "evidence:", criterion.evidence or "(none)"]
    return clean("\n".join(lines))


def _one_line(text: str) -> str:
    line = " ".join(clean(text).split())
    return line if len(line) <= _MESSAGE_LIMIT else line[: _MESSAGE_LIMIT - 1] + "…"
