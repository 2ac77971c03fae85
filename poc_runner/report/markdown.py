"""report.md: the run for an email or a pull request (GitHub-flavoured Markdown).

Read as rendered Markdown on GitHub and as plain text in a mail client, so it stays short:
verdict and score, one table per stakeholder, then the failing criteria with their evidence.
Untrusted values never become Markdown or HTML: prose is backslash-escaped (no links, images
or tags can form, so rendering it fetches nothing), values sit in code spans and evidence in
fenced blocks whose fence is longer than any backtick run inside.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from poc_runner.report.common import (
    VERDICT_HEADLINE,
    Group,
    State,
    by_stakeholder,
    clean,
    criterion_name,
    data_cache_note,
    reuse_note,
    shorten,
    show,
    state,
    tally,
)
from poc_runner.report.executive import executive_summary
from poc_runner.report.figures import (
    baseline_text,
    expected_text,
    improvement_text,
    measured_text,
    near_text,
)
from poc_runner.report.gaps import gaps
from poc_runner.report.quantities import quantity, readable, score_text
from poc_runner.result import CriterionResult, RowSample, RunResult

ICON = {"pass": "✅", "fail": "❌", "error": "⚠️"}
MARK = {State.MET: "✅", State.CLOSE: "🟠", State.NOT_MET: "❌", State.NOT_JUDGED: "⚪"}
_CELL_LIMIT = 80
_EVIDENCE_LIMIT = 4000  # an email stays readable; report.html and result.json hold it all
_INLINE = re.compile(r"([\\`*_\[\]<>|!~&])")
_LEADING = re.compile(r"^[#+\-=]")
_NUMBERED = re.compile(r"^(\d+)([.)])")  # "1. " would start a list; "1\. " does not
_TICKS = re.compile(r"`+")


def text(value: object) -> str:
    """Prose: one line, Markdown and HTML syntax escaped so it renders as typed."""
    line = " ".join(clean(value).split())
    line = _INLINE.sub(r"\\\1", line)
    line = _NUMBERED.sub(r"\1\\\2", line)
    return _LEADING.sub(lambda match: "\\" + match.group(), line)


def code(value: str, *, in_table: bool = False) -> str:
    """A value in a code span: shown literally, whatever it holds."""
    line = " ".join(clean(value).split()) or " "
    if in_table:
        line = line.replace("|", "\\|")  # GitHub splits cells before it parses code spans
    fence = "`" * (max((len(run) for run in _TICKS.findall(line)), default=0) + 1)
    pad = " " if line.startswith(("`", " ")) or line.endswith(("`", " ")) else ""
    return f"{fence}{pad}{line}{pad}{fence}"


def fenced(value: str) -> str:
    body = clean(value)
    if len(body) > _EVIDENCE_LIMIT:
        body = body[:_EVIDENCE_LIMIT] + "\n… (cut here; report.html and result.json hold it all)"
    longest = max((len(run) for run in _TICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


def render_markdown(result: RunResult) -> str:
    """The whole report.md."""
    parts = [_head(result), _executive(result), text(reuse_note(result) or ""), _job(result)]
    parts += [_stakeholder(result, group) for group in by_stakeholder(result)]
    parts.append(_gaps(result))
    parts += [_error(result), _incidents(result), _failed_steps(result), _failing(result)]
    parts.append(_environment(result))
    return "\n\n".join(part for part in parts if part) + "\n"


def _head(result: RunResult) -> str:
    title = result.title or result.scenario
    prospect = f" · for {text(result.job.prospect)}" if result.job.prospect else ""
    return (
        f"# {ICON[result.verdict]} {result.verdict.word}: {text(title)}\n\n"
        f"**Verdict: {result.verdict.word}** ({VERDICT_HEADLINE[result.verdict]}) · "
        f"**Score: {score_text(result.score)} / 100** (needs {readable(result.pass_score)})"
        f"{prospect}\n\n"
        f"Scenario {code(result.scenario)}, run {code(result.run_id)}, started"
        f" {text(result.started_at)}."
    )


def _executive(result: RunResult) -> str:
    return f"## Executive summary\n\n{text(executive_summary(result))}"


def _job(result: RunResult) -> str:
    job = result.job
    lines = []
    if job.statement:
        lines.append(f"> {text(job.statement)}")
    if job.current_solution:
        lines.append(f"**How it is done today:** {text(job.current_solution)}")
    return "\n\n".join(lines)


def _stakeholder(result: RunResult, group: Group) -> str:
    wants = f"*Wants: {text(group.wants)}* · " if group.wants else ""
    lines = [
        f"## {text(group.role)}",
        "",
        f"{wants}{tally(result, group)}",
    ]
    if group.criteria:
        lines += [
            "",
            "| | Criterion | Measured | Expected | Today | Compared with today |",
            "|---|---|---|---|---|---|",
            *(_row(state(result, criterion), criterion) for criterion in group.criteria),
        ]
    return "\n".join(lines)


def _row(judged: State, criterion: CriterionResult) -> str:
    must = " (must-have)" if criterion.must else ""
    title = text(criterion.title or criterion.id)
    today = baseline_text(criterion)
    cells = [
        MARK[judged],
        f"**{title}**{must}<br>{code(criterion.id, in_table=True)}",
        _cell(measured_text(criterion)),
        _cell(expected_text(criterion)),
        "" if today is None else _cell(today),
        text(improvement_text(criterion) or ""),
    ]
    return "| " + " | ".join(cells) + " |"


def _cell(value: str) -> str:
    return code(shorten(value, _CELL_LIMIT), in_table=True)


def _error(result: RunResult) -> str:
    if not result.error:
        return ""
    return (
        "## ⚠️ Sandbox error\n\nThe test environment failed, so this is not a verdict on the"
        f" product; repeat the run.\n\n{fenced(result.error)}"
    )


def _incidents(result: RunResult) -> str:
    """Services that stopped after they were up: why, and their last words."""
    if not result.incidents:
        return ""
    return "## What happened to the services\n\n" + "\n\n".join(
        f"- **{text(incident.service)}**: {text(incident.message)}"
        + (f"\n\n{fenced(chr(10).join(incident.logs))}" if incident.logs else "")
        for incident in result.incidents
    )


def _failed_steps(result: RunResult) -> str:
    """Steps that failed, and what each said last."""
    failed = [step for step in result.steps if step.last_lines]
    if not failed:
        return ""
    return "## Steps that failed\n\n" + "\n\n".join(
        f"- **{text(step.name)}** {text(step.outcome.words(step.exit_code))}"
        f"\n\n{fenced(chr(10).join(step.last_lines))}"
        for step in failed
    )


_UNMET_HEADING = {
    State.CLOSE: "## Failing criteria",
    State.NOT_MET: "## Failing criteria",
    State.NOT_JUDGED: "## Criteria not judged (the sandbox failed)",
}


def _failing(result: RunResult) -> str:
    """The criteria not met (or not judged), each with its evidence."""
    failing = [criterion for criterion in result.criteria if not criterion.passed]
    if not failing:
        return ""
    heading = _UNMET_HEADING[state(result, failing[0])]
    return f"{heading}\n\n" + "\n\n".join(_failure(state(result, c), c) for c in failing)


def _failure(judged: State, criterion: CriterionResult) -> str:
    must = " · **must-have**" if criterion.must else ""
    who = ", ".join(text(role) for role in criterion.stakeholders) or "nobody named"
    near = near_text(criterion)
    close = f" · close at {code(near)}" if near else ""
    return (
        f"### {MARK[judged]} {text(criterion_name(criterion))}\n\n"
        f"Measured {code(measured_text(criterion))} · expected"
        f" {code(expected_text(criterion))}{close}{must} · for {who}\n\n"
        f"{fenced(criterion.evidence or '(no evidence)')}" + _rows(criterion.failing_rows)
    )


def _rows(sample: RowSample | None) -> str:
    """The first rows that fail a data or schema check, as a table after its evidence."""
    if sample is None or not sample.rows:
        return ""
    numbered = sample.numbers is not None and len(sample.numbers) == len(sample.rows)
    head = (["Row"] if numbered else []) + [code(c, in_table=True) for c in sample.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, row in enumerate(sample.rows):
        cells = [readable(sample.numbers[i])] if numbered and sample.numbers else []
        cells += ["NULL" if v is None else _cell(str(v)) if v != "" else "(empty)" for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    shown = len(sample.rows)
    said = (
        f"The {shown} rows that fail it:"
        if sample.total == shown
        else f"The first {shown} of {readable(sample.total)} rows that fail it:"
    )
    return f"\n\n{said}\n\n" + "\n".join(lines)


_SEVERITY_MARK = {"deal-breaker": "🔴", "challenge": "🟠", "nice-to-have": "⚪"}


def _gaps(result: RunResult) -> str:
    """The gap list: every criterion not met or close, worst first."""
    found = gaps(result)
    if not found:
        return ""
    lines = [
        "## Gap list",
        "",
        "| Severity | Criterion | For | Measured | Expected | Short by |",
        "|---|---|---|---|---|---|",
    ]
    for gap in found:
        close = " (close)" if gap.status == "close" else ""
        short = "-" if gap.shortfall is None else _cell(quantity(gap.shortfall, gap.unit))
        lines.append(
            f"| {_SEVERITY_MARK[gap.severity]} {gap.severity}{close}"
            f" | **{text(gap.title or gap.id)}**<br>{code(gap.id, in_table=True)}"
            f" | {text(', '.join(gap.stakeholders)) or '-'}"
            f" | {_cell(measured_text(gap.criterion))} | {_cell(expected_text(gap.criterion))}"
            f" | {short} |"
        )
    return "\n".join(lines)


def _environment(result: RunResult) -> str:
    env = result.environment
    lines = ["## Reproducibility", ""]
    for key, label in (("runner", "poc-runner"), ("engine", "Docker engine")):
        section = env.get(key)
        if isinstance(section, Mapping):
            described = ", ".join(
                f"{_key(k)} {code(show(v, missing='-'))}" for k, v in section.items()
            )
            lines.append(f"- {label}: {described}")
    if env.get("network"):
        lines.append(f"- network: {code(show(env['network']))}")
    for key, label in (("images", "image"), ("data", "data sha256")):
        section = env.get(key)
        if isinstance(section, Mapping):
            lines += [f"- {label} {text(name)}: {code(show(v))}" for name, v in section.items()]
    inputs = result.inputs
    lines += [f"- var {code(name)} = {code(value)}" for name, value in inputs.vars.items()]
    lines += [f"- file {code(path)} sha256: {code(sha)}" for path, sha in inputs.files.items()]
    lines += _data_cache(result)
    return "\n".join(lines) if len(lines) > 2 else ""


def _data_cache(result: RunResult) -> list[str]:
    note = data_cache_note(result)
    return [f"- {text(note)}"] if note else []


def _key(name: str) -> str:
    """api_version -> api version: plain words read better in a mail client than escapes."""
    return text(name.replace("_", " "))
