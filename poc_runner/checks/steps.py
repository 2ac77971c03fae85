"""Checks on what a step did: its exit code, its output, its wall time. What they conclude of a
step that failed, timed out or never ran is grounds.py's table, applied to every check.

Step output is masked as it is captured, so `contains` and `not_contains` texts holding a
secret are judged on masked text plus the secret forms the capture saw (`_holds`); what a
judgement shows is masked too.
"""

from __future__ import annotations

from poc_runner.checks.compare import Incomparable, compare, expectation
from poc_runner.checks.evidence import Evidence, Judgement, excerpt, never_ran
from poc_runner.masking import SECRETS
from poc_runner.model.checks import DurationCheck, ExitCodeCheck, OutputCheck
from poc_runner.units import parse_duration


def judge_exit_code(check: ExitCodeCheck, evidence: Evidence) -> Judgement:
    step = evidence.step(check.step)
    if step is None:
        return never_ran(check.step, check.value)
    return Judgement(
        step.exit_code == check.value,
        step.exit_code,
        check.value,
        f"step {check.step!r} exited with {step.exit_code}",
    )


def judge_duration(check: DurationCheck, evidence: Evidence) -> Judgement:
    expected = (
        [parse_duration(bound) for bound in check.value]
        if check.op == "between"
        else parse_duration(check.value)
    )
    wanted = expectation(check.op, expected)  # with its operator, measured or not
    step = evidence.step(check.step)
    if step is None:
        return never_ran(check.step, wanted)
    return Judgement(
        compare(step.duration_s, check.op, expected),
        step.duration_s,
        wanted,
        f"step {check.step!r} took {step.duration_s:.2f} s",
    )


def judge_output(check: OutputCheck, evidence: Evidence) -> Judgement:
    expected = {
        key: SECRETS.mask(value)
        for key, value in (
            ("contains", check.contains),
            ("not_contains", check.not_contains),
            ("matches", check.matches),
        )
        if value is not None
    }
    step = evidence.step(check.step)
    if step is None:
        return never_ran(check.step, expected)
    text, seen = step.output(check.stream), step.seen(check.stream)
    failures = []
    if check.contains is not None and not _holds(text, seen, check.contains):
        failures.append(f"does not contain {expected['contains']!r}")
    if check.not_contains is not None and _holds(text, seen, check.not_contains):
        failures.append(f"contains {expected['not_contains']!r}")
    if check.matches is not None:
        try:
            if not compare(text, "matches", check.matches):
                failures.append(f"does not match {expected['matches']!r}")
        except Incomparable as exc:
            failures.append(f"could not be searched: {exc}")
    where = f"{check.stream} of step {check.step!r}"
    return Judgement(
        not failures,
        excerpt(text),
        expected,
        f"{where} " + ("; ".join(failures) if failures else "satisfies every condition"),
    )


def _holds(text: str, seen: set[str], wanted: str) -> bool:
    """Whether the output, masked as `text` with the secret forms `seen` masked in it, held
    `wanted`: its masked form is in the text and every secret form in it was printed. A `***`
    stands for any form, so `token=${S}` also holds where `token=` preceded another secret and
    S was printed elsewhere in the stream: the price of never keeping the output unmasked."""
    return SECRETS.mask(wanted) in text and SECRETS.found(wanted) <= seen
