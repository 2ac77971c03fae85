"""The end-of-run summary in the terminal: verdict and score first, then what went wrong around
the product (the sandbox, a reused sandbox, its services, the steps that failed and their last
words), then each stakeholder's criteria with what was measured against what was expected, then
where the results are. A failing verdict leads with what failed: the criteria not met,
must-haves first, then by stakeholder what was met. Each criterion shows its whole expectation,
and where nothing was measured, why. Figures read as they do in the reports
(report/figures.py), as text: never a Python structure. Each part is a list of lines, so
another part slots in where it belongs."""

from __future__ import annotations

from poc_runner.report.common import CRITERION_WORD, State, by_stakeholder, shorten, state
from poc_runner.report.executive import REASON, not_met_first
from poc_runner.report.figures import expected_text, improvement_text, measured_text, near_text
from poc_runner.report.quantities import readable, score_text
from poc_runner.result import CriterionResult, RunResult, StepRecord, Verdict

_WIDTH = 38  # characters of a measured value (an output excerpt, say) on a criterion's line


def summarize(result: RunResult, folder: str) -> str:
    parts = [_verdict(result), _trouble(result), _criteria(result), _where(folder)]
    return "\n".join(line for part in parts for line in part)


def _verdict(result: RunResult) -> list[str]:
    return [
        f"{result.scenario}: {result.verdict.word}  score {score_text(result.score)}"
        f" (needs {readable(result.pass_score)})"
    ]


def _trouble(result: RunResult) -> list[str]:
    """The sandbox's error, a reused sandbox, the services that stopped, the steps that
    failed: what a reader must know before the criteria."""
    lines = [f"  sandbox error: {result.error}"] if result.error else []
    if result.reused:
        lines.append(f"  on the sandbox left up by run {result.reused} (not a clean one)")
    lines += [f"  service {i.service} {i.status}" for i in result.incidents]
    return lines + [line for step in result.steps for line in _failed(step)]


def _failed(step: StepRecord) -> list[str]:
    """A step that failed, and what it said last: the reason is on screen, not in a file."""
    if not step.last_lines:
        return []
    how = step.outcome.words(step.exit_code)
    return [f"  step {step.name} {how}:", *(f"    | {line}" for line in step.last_lines)]


def _criteria(result: RunResult) -> list[str]:
    """By stakeholder; a fail's criteria not met first, then by stakeholder what was met."""
    failing = result.verdict is Verdict.FAIL
    lines = []
    if failing:
        lines.append("  Not met (must-haves first)")
        lines += [f"    {_line(state(result, c), c)}" for c in not_met_first(result)]
    for group in by_stakeholder(result):
        shown = [c for c in group.criteria if c.passed or not failing]
        if shown:
            lines.append(f"  {group.role}")
            lines += [f"    {_line(state(result, c), c)}" for c in shown]
    return lines


def _where(folder: str) -> list[str]:
    return [f"  results: {folder}", f"  report:  {folder}/report.html"]


def _line(judged: State, criterion: CriterionResult) -> str:
    must = " (must)" if criterion.must else ""
    measured = _cell(measured_text(criterion))
    if criterion.measured is None and criterion.evidence:  # why: the reason is the news
        measured += f" ({shorten(' '.join(criterion.evidence.split()), REASON)})"
    expected = " ".join(expected_text(criterion).split())  # whole: operator and all
    better = improvement_text(criterion)
    near = near_text(criterion) if judged is State.CLOSE else None
    return f"{CRITERION_WORD[judged]}  {criterion.id}{must}: {measured}, expected {expected}" + (
        f", {better}" if better else f", close at {near}" if near else ""
    )


def _cell(text: str) -> str:
    return shorten(" ".join(text.split()), _WIDTH)  # one line per criterion
