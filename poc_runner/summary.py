"""The end-of-run summary in the terminal: verdict and score first, then each stakeholder's
criteria with what was measured against what was expected. Values, numbers, improvements and
groups read as they do in the reports (report/common.py): one way to say each."""

from __future__ import annotations

from poc_runner.report.common import (
    CRITERION_WORD,
    NOT_STATED,
    by_stakeholder,
    improvement_text,
    number,
    shorten,
    show,
)
from poc_runner.result import CriterionResult, RunResult, StepRecord

_WIDTH = 38  # characters of a measured or expected value, so a criterion stays on one line


def summarize(result: RunResult, folder: str) -> str:
    lines = [
        f"{result.scenario}: {result.verdict.word}  score {number(result.score)}"
        f" (needs {number(result.pass_score)})",
    ]
    if result.error:
        lines.append(f"  sandbox error: {result.error}")
    if result.reused:
        lines.append(f"  on the sandbox left up by run {result.reused} (not a clean one)")
    lines += [f"  service {i.service} {i.status}" for i in result.incidents]
    lines += [line for step in result.steps for line in _failed(step)]
    for group in by_stakeholder(result):
        if group.criteria:
            lines.append(f"  {group.role}")
            lines += [f"    {_line(criterion)}" for criterion in group.criteria]
    lines.append(f"  results: {folder}")
    lines.append(f"  report:  {folder}/report.html")
    return "\n".join(lines)


def _failed(step: StepRecord) -> list[str]:
    """A step that failed, and what it said last: the reason is on screen, not in a file."""
    if not step.last_lines:
        return []
    how = step.outcome.words(step.exit_code)
    return [f"  step {step.name} {how}:", *(f"    | {line}" for line in step.last_lines)]


def _line(criterion: CriterionResult) -> str:
    must = " (must)" if criterion.must else ""
    measured = _cell(show(criterion.measured, criterion.check))
    expected = _cell(show(criterion.expected, criterion.check, NOT_STATED))
    better = improvement_text(criterion.improvement)
    return (
        f"{CRITERION_WORD[criterion.passed]}  {criterion.id}{must}: measured {measured},"
        f" expected {expected}" + (f", {better}" if better else "")
    )


def _cell(text: str) -> str:
    return shorten(" ".join(text.split()), _WIDTH)  # one line per criterion
