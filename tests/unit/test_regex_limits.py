"""A scenario's regexes run under a time limit: a backtracking pattern on hostile output fails
its check quickly and says why, instead of hanging the run (`compare.search`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from poc_runner.checks import compare as compare_module
from poc_runner.checks.compare import REGEX_TIMEOUT, Found, Incomparable, compare, search
from poc_runner.checks.evidence import Evidence
from poc_runner.checks.json_check import judge_json
from poc_runner.checks.metric import judge_metric
from poc_runner.checks.steps import judge_output
from poc_runner.model.checks import Check
from poc_runner.steps import StepResult

EVIL = r"(a+)+$"
HOSTILE = "a" * 50_000 + "!"  # every way to split the a's is tried before giving up
LIMIT = 0.2


@pytest.fixture
def short_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The same limit, shorter, so the suite stays fast."""
    monkeypatch.setattr(compare_module, "REGEX_TIMEOUT", LIMIT)
    yield


def model(**fields: Any) -> Any:
    return TypeAdapter(Check).validate_python(fields)


def evidence(tmp_path: Path, stdout: str) -> Evidence:
    step = StepResult("detect", "app", exit_code=0, ran=True, stdout=stdout)
    return Evidence({"detect": step}, tmp_path / "run", tmp_path)


class TestSearch:
    def test_first_match(self) -> None:
        assert search(r"(\d+)", "a 1 b 22") == Found("1", ("1",))

    def test_last_match(self) -> None:
        assert search(r"(\d+)", "a 1 b 22", last=True) == Found("22", ("22",))

    def test_no_match(self) -> None:
        assert search(r"\d", "none") is None
        assert search(r"\d", "none", last=True) is None

    def test_the_default_limit(self) -> None:
        assert REGEX_TIMEOUT == 2.0

    def test_a_catastrophic_regex_stops_at_the_default_limit(self) -> None:
        started = time.monotonic()
        with pytest.raises(Incomparable) as raised:
            search(EVIL, HOSTILE)
        assert time.monotonic() - started < REGEX_TIMEOUT + 3
        assert str(raised.value) == (
            "the regex '(a+)+$' took longer than 2 s on 50001 bytes of output, so it was stopped"
        )

    @pytest.mark.usefixtures("short_limit")
    def test_the_limit_covers_a_whole_scan_for_the_last_match(self) -> None:
        # each `z` is found only after a slow failed attempt; together they exceed the limit
        text = ("a" * 300 + "! z ") * 200
        started = time.monotonic()
        with pytest.raises(Incomparable, match=r"took longer than 0\.2 s"):
            search(r"(a+)+$|z", text, last=True)
        assert time.monotonic() - started < 2

    def test_an_invalid_regex_is_incomparable(self) -> None:
        with pytest.raises(Incomparable, match=r"'\(unclosed' is not a valid regular expression"):
            search("(unclosed", "text")

    def test_measured_in_bytes(self, short_limit: None) -> None:
        with pytest.raises(Incomparable, match="on 50002 bytes of output"):
            search(EVIL, "a" * 50_000 + "é")  # the message counts bytes, not characters


@pytest.mark.usefixtures("short_limit")
class TestChecksFailQuickly:
    def test_the_matches_operator(self) -> None:
        started = time.monotonic()
        with pytest.raises(Incomparable, match=r"took longer than 0\.2 s on 50001 bytes"):
            compare(HOSTILE, "matches", EVIL)
        assert time.monotonic() - started < 2

    def test_output_check(self, tmp_path: Path) -> None:
        check = model(type="output", step="detect", matches=EVIL)
        started = time.monotonic()
        judged = judge_output(check, evidence(tmp_path, HOSTILE))
        assert time.monotonic() - started < 2
        assert not judged.passed
        assert judged.evidence == (
            "stdout of step 'detect' could not be searched: the regex '(a+)+$' took longer than"
            " 0.2 s on 50001 bytes of output, so it was stopped"
        )

    def test_output_check_reports_the_other_conditions_too(self, tmp_path: Path) -> None:
        check = model(type="output", step="detect", contains="zzz", matches=EVIL)
        judged = judge_output(check, evidence(tmp_path, HOSTILE))
        assert not judged.passed
        assert "does not contain 'zzz'; could not be searched" in judged.evidence

    def test_metric_pattern(self, tmp_path: Path) -> None:
        check = model(type="metric", step="detect", pattern=r"(\d+)(?:a+)+$", op=">=", value=1)
        started = time.monotonic()
        judged = judge_metric(check, evidence(tmp_path, "1" + HOSTILE))
        assert time.monotonic() - started < 2
        assert not judged.passed
        assert judged.measured is None
        assert "took longer than 0.2 s" in judged.evidence
        assert judged.evidence.startswith("stdout of step 'detect': the regex")

    def test_json_check_matches(self, tmp_path: Path) -> None:
        check = model(type="json", step="detect", path="$.log", op="matches", value=EVIL)
        started = time.monotonic()
        judged = judge_json(check, evidence(tmp_path, f'{{"log": "{HOSTILE}"}}'))
        assert time.monotonic() - started < 2
        assert not judged.passed
        assert "took longer than 0.2 s" in judged.evidence
        assert len(judged.evidence) < 300

    def test_a_json_wildcard_stops_at_the_first_overrun(self, tmp_path: Path) -> None:
        check = model(type="json", step="detect", path="$.logs[*]", op="matches", value=EVIL)
        logs = ", ".join(f'"{HOSTILE}"' for _ in range(20))
        started = time.monotonic()
        judged = judge_json(check, evidence(tmp_path, f'{{"logs": [{logs}]}}'))
        assert time.monotonic() - started < 2
        assert not judged.passed


@pytest.mark.usefixtures("short_limit")
@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        (r"saved (\d+) hours", "saved 12 hours", True),
        (r"(?m)^done$", "working\ndone\n", True),
        (r"^done$", "working\ndone", False),  # as `re`: no MULTILINE unless asked
        (r"(?i)DONE", "done", True),
        (r"\bok\b", "look", False),
        (r"caf\w\b", "café au lait", True),  # \w is Unicode-aware in both
        (r"\d{3}-\d{4}", "call 555-1234", True),
    ],
)
def test_ordinary_regexes_behave_as_re_does(pattern: str, text: str, found: bool) -> None:
    import re

    assert (search(pattern, text) is not None) is found
    assert (re.search(pattern, text) is not None) is found
