"""Checks on what a step did: its exit code, its output, its wall time."""

from __future__ import annotations

from poc_runner.checks.compare import Incomparable, compare
from poc_runner.checks.evidence import Evidence, Judgement, excerpt, missing, never_ran
from poc_runner.model.checks import DurationCheck, ExitCodeCheck, OutputCheck
from poc_runner.units import parse_duration


def judge_exit_code(check: ExitCodeCheck, evidence: Evidence) -> Judgement:
    step = evidence.step(check.step)
    if step is None:
        return never_ran(check.step, check.value)
    if step.timed_out:
        return missing(f"step {check.step!r} timed out after {step.duration_s:.1f} s", check.value)
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
    step = evidence.step(check.step)
    if step is None:
        return never_ran(check.step, expected)
    passed = not step.timed_out and compare(step.duration_s, check.op, expected)
    note = " (timed out)" if step.timed_out else ""
    return Judgement(
        passed,
        step.duration_s,
        f"{check.op} {expected}",
        f"step {check.step!r} took {step.duration_s:.2f} s{note}",
    )


def judge_output(check: OutputCheck, evidence: Evidence) -> Judgement:
    expected = {
        key: value
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
    text = step.output(check.stream)
    failures = [f"is incomplete: the step timed out after {step.duration_s:.1f} s"] * step.timed_out
    if check.contains is not None and check.contains not in text:
        failures.append(f"does not contain {check.contains!r}")
    if check.not_contains is not None and check.not_contains in text:
        failures.append(f"contains {check.not_contains!r}")
    if check.matches is not None:
        try:
            if not compare(text, "matches", check.matches):
                failures.append(f"does not match {check.matches!r}")
        except Incomparable as exc:
            failures.append(f"could not be searched: {exc}")
    where = f"{check.stream} of step {check.step!r}"
    return Judgement(
        not failures,
        excerpt(text),
        expected,
        f"{where} " + ("; ".join(failures) if failures else "satisfies every condition"),
    )
