"""Judging each criterion on the evidence a run collected (spec, "acceptance").

One module per check type, each a `judge(check, evidence) -> Judgement`. A check whose evidence
is missing (its step never ran, its artifact was not produced) fails and says why; it is never
an error of the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from poc_runner.checks.evidence import Evidence, Judgement, missing
from poc_runner.checks.steps import judge_duration, judge_exit_code, judge_output

Judge = Callable[[Any, Evidence], Judgement]

JUDGES: dict[str, Judge] = {
    "exit_code": judge_exit_code,
    "duration": judge_duration,
    "output": judge_output,
}


def judge(check: Any, evidence: Evidence) -> Judgement:
    judge_one = JUDGES.get(check.type)
    if judge_one is None:
        return missing(f"{check.type} checks are not evaluated by this version of poc-runner")
    return judge_one(check, evidence)


__all__ = ["Evidence", "Judgement", "judge"]
