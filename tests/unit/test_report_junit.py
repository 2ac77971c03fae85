"""junit.xml: valid for CI consumers, one testcase per criterion.

Validated with xmlschema against tests/data/junit.xsd, a schema of the common JUnit format
(the structure Jenkins' and Ant's JUnit schemas describe, with numeric counts and times)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
import xmlschema

from poc_runner.report import render
from poc_runner.result import RunResult
from tests.unit.sample_results import (
    SECRET,
    errored,
    failing,
    hostile,
    passing,
    register_secret,
)

XSD = Path(__file__).resolve().parents[1] / "data" / "junit.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(XSD)


def parsed(result: RunResult) -> ET.Element:
    return ET.fromstring(render(result, "junit"))


@pytest.mark.parametrize("make", [passing, failing, errored, hostile])
def test_every_verdict_is_valid_junit(
    schema: xmlschema.XMLSchema, make: Callable[[], RunResult]
) -> None:
    schema.validate(render(make(), "junit"))


def test_the_schema_catches_what_consumers_reject(schema: xmlschema.XMLSchema) -> None:
    """The schema is not a rubber stamp: a missing count or a text time fails it."""
    assert not schema.is_valid(
        '<testsuites><testsuite name="x" failures="0" errors="0" time="1"/></testsuites>'
    )
    assert not schema.is_valid(
        '<testsuites><testsuite name="x" tests="1" failures="0" errors="0" time="soon"/></testsuites>'
    )


class TestShape:
    def test_one_suite_per_run_one_case_per_criterion(self) -> None:
        root = parsed(passing())
        assert root.tag == "testsuites"
        (suite,) = root.findall("testsuite")
        assert suite.get("name") == "invoice-dedupe"
        cases = suite.findall("testcase")
        assert [(c.get("classname"), c.get("name")) for c in cases] == [
            ("invoice-dedupe", "recall: Title of recall"),
            ("invoice-dedupe", "minutes-not-hours: Title of minutes-not-hours"),
        ]
        assert suite.get("tests") == "2" and suite.get("failures") == "0"
        assert suite.get("errors") == "0" and suite.get("time") == "2.300"
        assert suite.get("timestamp") == "2026-11-23T00:51:03"

    def test_the_totals_repeat_on_testsuites(self) -> None:
        root = parsed(failing())
        suite = root.find("testsuite")
        assert suite is not None
        for key in ("tests", "failures", "errors", "time"):
            assert root.get(key) == suite.get(key)

    def test_properties_carry_the_verdict_and_run(self) -> None:
        properties = {p.get("name"): p.get("value") for p in parsed(failing()).iter("property")}
        assert properties["verdict"] == "fail"
        assert properties["score"] == "25"
        assert properties["pass_score"] == "80"
        assert properties["run_id"] == "20261124T005103Z-bbbbbb"


class TestOutcomes:
    def test_a_failed_criterion_carries_measured_expected_and_evidence(self) -> None:
        suite = parsed(failing()).find("testsuite")
        assert suite is not None and suite.get("failures") == "1"
        failure = suite.find("testcase/failure")
        assert failure is not None
        assert failure.get("message") == "measured 0.5, expected ≥ 0.95"
        assert failure.get("type") == "json check, must-have"
        assert failure.text is not None
        assert "today (baseline): 0.6" in failure.text
        assert "recall was 0.5: 4 of 8 duplicates flagged" in failure.text

    def test_a_sandbox_error_becomes_errors_not_failures(self) -> None:
        suite = parsed(errored()).find("testsuite")
        assert suite is not None
        assert suite.get("errors") == "2" and suite.get("failures") == "0"
        assert suite.get("tests") == "3"
        sandbox, recall, _ = suite.findall("testcase")
        assert sandbox.get("name") == "sandbox"
        error = sandbox.find("error")
        assert error is not None and error.get("type") == "SandboxError"
        assert error.get("message") == "service 'db' exited with code 1 before it was healthy"
        recall_error = recall.find("error")
        assert recall_error is not None
        assert (recall_error.get("message") or "").startswith("not judged, the sandbox failed:")
        assert not list(suite.iter("failure"))


class TestUntrustedValues:
    def test_hostile_strings_survive_as_text(self) -> None:
        xml = render(hostile(), "junit")
        assert "<script>" not in xml and "<img" not in xml
        root = ET.fromstring(xml)
        names = [c.get("name") or "" for c in root.iter("testcase")]
        assert any(name.startswith('evil-<script>alert("x")</script>') for name in names)
        assert "]]>" in "".join(root.itertext())

    def test_characters_xml_cannot_carry_are_replaced(self) -> None:
        xml = render(hostile(), "junit")
        assert "\x00" not in xml and "\x1b" not in xml and "\ud800" not in xml

    def test_secrets_are_masked(self, monkeypatch: pytest.MonkeyPatch) -> None:
        register_secret(monkeypatch)
        xml = render(hostile(), "junit")
        assert SECRET not in xml
        assert "the token was ***" in "".join(ET.fromstring(xml).itertext())

    def test_a_secret_of_characters_xml_escapes_is_still_masked(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        awkward = 'to<k&en"42'
        register_secret(monkeypatch, awkward)
        result = failing()
        result.criteria[0].measured = awkward
        result.criteria[0].evidence = f"saw {awkward}"
        xml = render(result, "junit")
        assert "to&lt;k&amp;en" not in xml and awkward not in xml
        assert "saw ***" in xml

    def test_long_messages_are_cut_to_one_line(self) -> None:
        result = failing()
        result.criteria[0].measured = "line\n" * 500
        failure = parsed(result).find("testsuite/testcase/failure")
        assert failure is not None
        message = failure.get("message") or ""
        assert "\n" not in message and len(message) <= 500
