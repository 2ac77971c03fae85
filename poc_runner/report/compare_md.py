"""Two runs side by side in Markdown (`poc report --compare RUN_A RUN_B --format md`), for a
pull request: the same model as the page (report/comparison.py), escaped as report.md is
(report/markdown.py: prose escaped, values in code spans)."""

from __future__ import annotations

from poc_runner.report.common import State
from poc_runner.report.compare_html import comparison_title
from poc_runner.report.comparison import InputChange, Row, input_changes, rows, what_differs
from poc_runner.report.figures import expected_text, measured_text
from poc_runner.report.markdown import ICON, MARK, code, text
from poc_runner.report.quantities import readable, score_text
from poc_runner.result import CriterionResult, RunResult


def render_comparison_md(before: RunResult, after: RunResult) -> str:
    """The whole comparison: run A (`before`) against run B (`after`)."""
    changes = input_changes(before.inputs, after.inputs)
    parts = [
        f"# A against B: {text(comparison_title(before, after))}",
        f"**What differs:** {text(what_differs(changes))}",
        _sides(before, after),
        _inputs(changes),
        _criteria(rows(before, after)),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def _sides(before: RunResult, after: RunResult) -> str:
    def verdict(result: RunResult) -> str:
        return f"{ICON[result.verdict]} **{result.verdict.word}**"

    def score(result: RunResult) -> str:
        return f"{score_text(result.score)} / 100 (needs {readable(result.pass_score)})"

    lines = [
        "| | Run A | Run B |",
        "|---|---|---|",
        f"| Verdict | {verdict(before)} | {verdict(after)} |",
        f"| Score | {score(before)} | {score(after)} |",
        f"| Run | {_code(before.run_id)} | {_code(after.run_id)} |",
        f"| Scenario | {_code(before.scenario)} | {_code(after.scenario)} |",
        f"| Started | {text(before.started_at)} | {text(after.started_at)} |",
    ]
    return "\n".join(lines)


def _inputs(changes: list[InputChange]) -> str:
    if not changes:
        return "## What they were given\n\nNeither run recorded its inputs."
    lines = ["## What they were given", "", "| | Input | Run A | Run B |", "|---|---|---|---|"]
    lines += [
        f"| {'≠' if change.changed else '='} | {change.kind} {_code(change.name)} |"
        f" {_code(change.shown(change.before))} | {_code(change.shown(change.after))} |"
        for change in changes
    ]
    return "\n".join(lines)


def _criteria(found: list[Row]) -> str:
    if not found:
        return ""
    lines = ["## Criteria", "", "| Criterion | Run A | Run B | Change |", "|---|---|---|---|"]
    lines += [
        f"| **{text(row.title)}**<br>{_code(row.id)} | {_cell(row.before, row.states[0])} |"
        f" {_cell(row.after, row.states[1])} | {text(row.change)} |"
        for row in found
    ]
    return "\n".join(lines)


def _cell(criterion: CriterionResult | None, judged: State | None) -> str:
    if criterion is None or judged is None:
        return "not in this run"
    return (
        f"{MARK[judged]} {_code(measured_text(criterion))}<br>needs"
        f" {_code(expected_text(criterion))}"
    )


def _code(value: str) -> str:
    return code(value, in_table=True)
