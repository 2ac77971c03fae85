"""The end-of-run summary in the terminal: verdict and score first, then each stakeholder's
criteria with what was measured against what was expected."""

from __future__ import annotations

from typing import Any

from poc_runner.result import CriterionResult, RunResult

_MARK = {True: "PASS", False: "FAIL"}
_WIDTH = 38


def summarize(result: RunResult, folder: str) -> str:
    lines = [
        f"{result.scenario}: {result.verdict.upper()}  score {result.score:g}"
        f" (needs {result.pass_score:g})",
    ]
    if result.error:
        lines.append(f"  sandbox error: {result.error}")
    lines += [f"  service {i.service} {i.status}" for i in result.incidents]
    for stakeholder, criteria in _by_stakeholder(result.criteria).items():
        lines.append(f"  {stakeholder}")
        for criterion in criteria:
            must = " (must)" if criterion.must else ""
            lines.append(
                f"    {_MARK[criterion.passed]}  {criterion.id}{must}: measured"
                f" {_show(criterion.measured)}, expected {_show(criterion.expected)}"
                + (
                    f", {criterion.improvement:g}x the current solution"
                    if criterion.improvement
                    else ""
                )
            )
    lines.append(f"  results: {folder}")
    lines.append(f"  report:  {folder}/report.html")
    return "\n".join(lines)


def _by_stakeholder(criteria: list[CriterionResult]) -> dict[str, list[CriterionResult]]:
    grouped: dict[str, list[CriterionResult]] = {}
    for criterion in criteria:
        for stakeholder in criterion.stakeholders or ["(no stakeholder)"]:
            grouped.setdefault(stakeholder, []).append(criterion)
    return grouped


def _show(value: Any) -> str:
    text = "-" if value is None else " ".join(str(value).split())  # one line per criterion
    return text if len(text) <= _WIDTH else text[: _WIDTH - 3] + "..."
