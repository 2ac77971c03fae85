"""report.html: the run as a prospect reads it, in one self-contained file.

It is emailed, opened offline and printed to PDF, so it carries everything inline (CSS, SVG
charts, no fonts, images or scripts from anywhere) and its Content-Security-Policy forbids
every request: even a value that slipped past escaping could not fetch anything. Every value is
escaped, because criteria, evidence and step names come from the product under test. A reader
who is not an engineer sees the verdict and score first, then the job in their own words, then
what each stakeholder wanted and the criteria that prove it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
from collections.abc import Mapping
from typing import Any

from poc_runner import __version__
from poc_runner.report.common import (
    NOT_STATED,
    VERDICT_HEADLINE,
    Group,
    by_stakeholder,
    clean,
    data_cache_note,
    improvement_text,
    number,
    reuse_note,
    run_seconds,
    shorten,
    show,
    summary_line,
)
from poc_runner.result import (
    CriterionResult,
    Incident,
    RunResult,
    StepOutcome,
    StepRecord,
    TimelineEntry,
)
from poc_runner.units import size_text

_VALUE_LIMIT = 300  # longer measured values are cut in the cards; the evidence has them whole
# Opens every <details> before printing, for browsers whose print CSS cannot (see _CSS).
_PRINT_SCRIPT = (
    'addEventListener("beforeprint",function(){document.querySelectorAll("details")'
    '.forEach(function(d){if(!d.open){d.open=true;d.dataset.printed="1"}})});'
    'addEventListener("afterprint",function(){document.querySelectorAll("details[data-printed]")'
    ".forEach(function(d){d.open=false;delete d.dataset.printed})});"
)
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_PRINT_SCRIPT.encode()).digest()).decode()
_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; "
    f"script-src 'sha256-{_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"
)

_CSS = """
:root{--pass:#1a7f37;--pass-bg:#e8f5ec;--fail:#c62828;--fail-bg:#fdecec;--error:#8a5a00;
--error-bg:#fff4d6;--ink:#1f2328;--muted:#59636e;--line:#d8dee4;--soft:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue",Arial,"Liberation Sans","DejaVu Sans",sans-serif}
main{max-width:960px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:1.7rem;line-height:1.25;margin:.2rem 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.3rem;margin:2.2rem 0 .8rem;padding-bottom:.3rem;border-bottom:2px solid var(--line);
break-after:avoid}
h3{font-size:1.1rem;margin:0;break-after:avoid}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;
font-size:.85em}
.eyebrow{color:var(--muted);margin:0;text-transform:uppercase;letter-spacing:.06em;font-size:.8rem}
.hero{border:3px solid var(--c);background:var(--bg);border-radius:14px;padding:22px 26px;
display:flex;flex-wrap:wrap;gap:20px 40px;align-items:center;justify-content:space-between;
break-inside:avoid}
.v-pass{--c:var(--pass);--bg:var(--pass-bg)}.v-fail{--c:var(--fail);--bg:var(--fail-bg)}
.v-error{--c:var(--error);--bg:var(--error-bg)}
.verdict{display:inline-block;font-size:3rem;font-weight:800;line-height:1;color:var(--c);
border:4px solid var(--c);border-radius:12px;padding:8px 22px;letter-spacing:.08em;background:#fff}
.headline{font-size:1.35rem;font-weight:700;margin:.8rem 0 .2rem;color:var(--c)}
.hero-main{flex:1 1 340px}
.why{margin:0;max-width:34rem}
.score{flex:0 0 auto;text-align:right}
.score-value{font-size:3.4rem;font-weight:800;line-height:1;color:var(--c)}
.score-value small{font-size:1.2rem;color:var(--muted);font-weight:600}
.score-needs{margin:.2rem 0 .4rem;color:var(--muted)}
.scorebar .track{fill:#fff;stroke:var(--line)}.scorebar .fill{fill:var(--c)}
.scorebar .mark{stroke:var(--ink);stroke-width:2}.scorebar text{font-size:11px;fill:var(--muted)}
.alert{border-left:6px solid var(--error);background:var(--error-bg);padding:12px 16px;
margin:20px 0;border-radius:6px;break-inside:avoid}
.alert pre{white-space:pre-wrap;word-break:break-word;margin:.4rem 0 0}
.job blockquote{font-size:1.2rem;margin:0 0 1rem;padding:.2rem 0 .2rem 1rem;
border-left:4px solid var(--line)}
.job p{margin:.3rem 0}
.label{font-weight:700}
.stakeholder{margin:0 0 1.6rem}
.stakeholder-head{display:flex;justify-content:space-between;gap:12px;align-items:baseline;
flex-wrap:wrap;break-after:avoid}
.wants{margin:.2rem 0 .7rem;color:var(--muted);font-style:italic}
.tally{font-weight:600;color:var(--muted)}
.criteria{list-style:none;margin:0;padding:0}
.criterion{border:1px solid var(--line);border-left:6px solid var(--c);border-radius:8px;
padding:12px 16px;margin:0 0 10px;break-inside:avoid;page-break-inside:avoid}
.c-pass{--c:var(--pass)}.c-fail{--c:var(--fail)}
.c-head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.mark{font-weight:800;color:var(--c);white-space:nowrap}
.c-title{font-weight:700;overflow-wrap:anywhere}
.must{font-size:.75rem;font-weight:700;text-transform:uppercase;letter-spacing:.05em;
border:1.5px solid var(--ink);border-radius:999px;padding:0 8px;white-space:nowrap}
.c-meta{color:var(--muted);font-size:.85rem;margin:.1rem 0 .5rem}
.figures{display:flex;flex-wrap:wrap;gap:8px 28px;margin:0}
.figures div{min-width:8rem}
.figures dt{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.figures dd{margin:0;font-weight:600;word-break:break-word}
.gain{margin:.5rem 0 0;font-weight:700;color:var(--pass)}
.gain.worse{color:var(--fail)}
details{margin-top:.6rem}
summary{cursor:pointer;color:var(--muted);font-size:.9rem}
details pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:10px;
white-space:pre-wrap;word-break:break-word;margin:.4rem 0 0;max-height:24rem;overflow:auto}
.timeline{width:100%;height:auto}
.timeline text{font-size:12px;fill:var(--ink)}.timeline .axis text{fill:var(--muted);font-size:11px}
.timeline .grid{stroke:var(--line)}.timeline .dur{fill:var(--muted);font-size:11px}
.b-phase{fill:#8c959f}.b-service{fill:#4a7fd4}.b-pass{fill:var(--pass)}.b-fail{fill:var(--fail)}
.b-timeout{fill:#d4a72c}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:.85rem;color:var(--muted);margin:.4rem 0}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;
vertical-align:-1px}
.legend .b-phase{background:#8c959f}.legend .b-service{background:#4a7fd4}
.legend .b-pass{background:var(--pass)}.legend .b-fail{background:var(--fail)}
.legend .b-timeout{background:#d4a72c}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem;font-size:.92rem}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
.kv th{width:30%}
th{font-size:.78rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
tr{break-inside:avoid}
td code{word-break:break-all}
.ok{color:var(--pass);font-weight:600}.bad{color:var(--fail);font-weight:600}
.muted{color:var(--muted)}
footer{margin-top:3rem;color:var(--muted);font-size:.8rem;border-top:1px solid var(--line);
padding-top:.6rem}
@media print{
@page{margin:16mm 14mm}
body{font-size:11pt;background:#fff}
main{max-width:none;padding:0}
.hero,.alert,.verdict{background:#fff !important}
details::details-content{content-visibility:visible;display:block;block-size:auto}
details>summary{list-style:none;color:var(--ink);font-weight:600}
details>summary::-webkit-details-marker{display:none}
details pre{max-height:none;overflow:visible;background:#fff}
.criterion,.hero,.alert,figure{break-inside:avoid;page-break-inside:avoid}
h2,h3,.stakeholder-head{break-after:avoid;page-break-after:avoid}
a{color:inherit;text-decoration:none}
}
"""


def e(value: object) -> str:
    """Escaped for HTML text and attributes, after masking (see report.common)."""
    return html.escape(clean(value), quote=True)


def render_html(result: RunResult) -> str:
    """The whole report.html."""
    title = result.title or result.scenario
    body = "\n".join(
        [
            _hero(result),
            _error(result),
            _reused(result),
            _job(result),
            _stakeholders(result),
            _timeline(result.timeline),
            _incidents(result.incidents),
            _steps(result.steps),
            _environment(result),
            f"<footer>Generated by poc-runner {e(__version__)} from result.json of run"
            f" {e(result.run_id)}. Re-render it with <code>poc report RUN_DIR</code>.</footer>",
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{e(result.verdict.word)}: {e(title)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
        f"<script>{_PRINT_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _hero(result: RunResult) -> str:
    job = result.job
    who = " · ".join(e(part) for part in (job.prospect, job.industry) if part)
    eyebrow = f"Proof of concept for {who}" if who else "Proof of concept"
    return f"""<p class="eyebrow">{eyebrow}</p>
<h1>{e(result.title or result.scenario)}</h1>
<section class="hero v-{e(result.verdict)}" aria-label="Verdict">
<div class="hero-main">
<div class="verdict">{e(result.verdict.word)}</div>
<p class="headline">{e(VERDICT_HEADLINE[result.verdict])}</p>
<p class="why">{e(summary_line(result))}</p>
</div>
<div class="score">
<div class="score-value">{e(number(result.score))}<small> / 100</small></div>
<p class="score-needs">score · needs {e(number(result.pass_score))} to pass</p>
{_score_bar(result.score, result.pass_score)}
</div>
</section>"""


def _score_bar(score: float, pass_score: float) -> str:
    """The score as a filled bar, with a mark where passing starts."""
    width, fill = 300, max(min(score, 100.0), 0.0) * 3
    mark = max(min(pass_score, 100.0), 0.0) * 3
    anchor = "end" if mark > width - 40 else "middle"
    return (
        f'<svg class="scorebar" viewBox="0 0 {width + 2} 40" width="{width + 2}" height="40"'
        f' role="img" aria-label="score {e(number(score))} of 100, pass at'
        f' {e(number(pass_score))}">'
        f'<rect class="track" x="1" y="2" width="{width}" height="16" rx="8"/>'
        f'<rect class="fill" x="1" y="2" width="{fill:.1f}" height="16" rx="8"/>'
        f'<line class="mark" x1="{mark + 1:.1f}" y1="0" x2="{mark + 1:.1f}" y2="21"/>'
        f'<text x="{mark + 1:.1f}" y="34" text-anchor="{anchor}">pass at'
        f" {e(number(pass_score))}</text></svg>"
    )


def _error(result: RunResult) -> str:
    if not result.error:
        return ""
    return (
        '<section class="alert" aria-label="Sandbox error"><strong>The test environment'
        " failed, not necessarily the product.</strong> Nothing below is a verdict on the"
        f" product until the run is repeated.<pre>{e(result.error)}</pre></section>"
    )


def _reused(result: RunResult) -> str:
    note = reuse_note(result)
    return (
        ""
        if note is None
        else f'<section class="alert" aria-label="Reused sandbox">{e(note)}</section>'
    )


def _job(result: RunResult) -> str:
    job = result.job
    if not (job.statement or job.current_solution):
        return ""
    parts = ['<section class="job"><h2>The job</h2>']
    if job.statement:
        parts.append(f"<blockquote>{e(job.statement)}</blockquote>")
    if job.current_solution:
        parts.append(
            f'<p><span class="label">How it is done today:</span> {e(job.current_solution)}</p>'
        )
    parts.append("</section>")
    return "".join(parts)


def _stakeholders(result: RunResult) -> str:
    groups = by_stakeholder(result)
    if not groups:
        return '<section><h2>Acceptance criteria</h2><p class="muted">none defined</p></section>'
    return (
        "<section><h2>What each stakeholder wanted</h2>"
        + "".join(_stakeholder(group) for group in groups)
        + "</section>"
    )


def _stakeholder(group: Group) -> str:
    wants = f'<p class="wants">Wants: {e(group.wants)}</p>' if group.wants else ""
    total = len(group.criteria)
    tally = f"{group.met} of {total} met" if total else "no criterion proves this yet"
    cards = "".join(_criterion(criterion) for criterion in group.criteria)
    return (
        f'<article class="stakeholder"><div class="stakeholder-head"><h3>{e(group.role)}</h3>'
        f'<span class="tally">{e(tally)}</span></div>{wants}'
        f'<ul class="criteria">{cards}</ul></article>'
    )


def _criterion(criterion: CriterionResult) -> str:
    state = "pass" if criterion.passed else "fail"
    mark = "✓ Met" if criterion.passed else "✗ Not met"
    must = '<span class="must">must-have</span>' if criterion.must else ""
    check = criterion.check
    figures = [
        ("Measured", show(criterion.measured, check)),
        ("Expected", show(criterion.expected, check, NOT_STATED)),
        *([("Today", show(criterion.baseline, check))] if criterion.baseline is not None else []),
    ]
    shown = "".join(
        f"<div><dt>{label}</dt><dd>{e(shorten(value, _VALUE_LIMIT))}</dd></div>"
        for label, value in figures
    )
    gain = improvement_text(criterion.improvement)
    worse = " worse" if gain and "worse" in gain else ""
    gain_html = f'<p class="gain{worse}">{e(gain)}</p>' if gain else ""
    return (
        f'<li class="criterion c-{state}"><div class="c-head"><span class="mark">{mark}</span>'
        f'<span class="c-title">{e(criterion.title or criterion.id)}</span>{must}</div>'
        f'<p class="c-meta">{e(criterion.id)} · {e(criterion.check)} check · weight'
        f" {e(number(criterion.weight))}</p>"
        f'<dl class="figures">{shown}</dl>{gain_html}'
        f"<details><summary>Evidence</summary><pre>{e(criterion.evidence or '(none)')}</pre>"
        "</details></li>"
    )


# The timeline chart's geometry, in SVG user units (the chart scales to the page's width).
_LABEL_W, _CHART_W, _ROW_H, _TOP = 190, 560, 24, 26
_LABEL_CHARS = 26


def _timeline(recorded: list[TimelineEntry]) -> str:
    entries = [_sane(entry) for entry in recorded if math.isfinite(entry.start_s + entry.end_s)]
    if not entries:
        return '<section><h2>Timeline</h2><p class="muted">No timeline was recorded.</p></section>'
    span = max(max(entry.end_s for entry in entries), 1e-3)
    scale = _CHART_W / span
    height = _TOP + _ROW_H * len(entries) + 6
    width = _LABEL_W + _CHART_W + 60
    rows = "".join(_timeline_row(i, entry, scale) for i, entry in enumerate(entries))
    return (
        '<section><h2>Timeline</h2><figure style="margin:0">'
        f'<svg class="timeline" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="Timeline of the run: {len(entries)} phases, services and steps over'
        f' {e(_seconds(span))}">{_axis(span, scale, height)}{rows}</svg>'
        '<figcaption class="legend"><span><i class="b-phase"></i>phase</span>'
        '<span><i class="b-service"></i>service starting</span>'
        '<span><i class="b-pass"></i>step passed</span><span><i class="b-fail"></i>step failed'
        '</span><span><i class="b-timeout"></i>step timed out</span></figcaption>'
        "</figure></section>"
    )


def _sane(entry: TimelineEntry) -> TimelineEntry:
    """Times from a hand-edited result.json may run backwards; a chart cannot."""
    start = max(entry.start_s, 0.0)
    return TimelineEntry(entry.kind, entry.name, start, max(entry.end_s, start), entry.status)


def _axis(span: float, scale: float, height: int) -> str:
    step = _tick_step(span)
    ticks = []
    count = int(span / step + 1e-9)
    for i in range(count + 1):
        x = _LABEL_W + i * step * scale
        ticks.append(
            f'<line class="grid" x1="{x:.1f}" y1="{_TOP - 6}" x2="{x:.1f}" y2="{height}"/>'
            f'<text x="{x:.1f}" y="{_TOP - 10}" text-anchor="middle">{e(_seconds(i * step))}'
            "</text>"
        )
    return f'<g class="axis">{"".join(ticks)}</g>'


def _tick_step(span: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving at most eight ticks."""
    magnitude = 10 ** math.floor(math.log10(span / 8)) if span > 0 else 1.0
    for factor in (1, 2, 5, 10):
        if span / (factor * magnitude) <= 8:
            return factor * magnitude
    return 10 * magnitude


def _timeline_row(index: int, entry: TimelineEntry, scale: float) -> str:
    y = _TOP + index * _ROW_H
    x = _LABEL_W + entry.start_s * scale
    bar = max((entry.end_s - entry.start_s) * scale, 2.0)
    label = shorten(f"{entry.kind} · {entry.name}", _LABEL_CHARS)
    took = _seconds(max(entry.end_s - entry.start_s, 0.0))
    tip = f"{entry.kind} {entry.name}: {entry.status}, {took} (from {_seconds(entry.start_s)})"
    return (
        f"<g><title>{e(tip)}</title>"
        f'<text x="{_LABEL_W - 8}" y="{y + 16}" text-anchor="end">{e(label)}</text>'
        f'<rect class="{_bar_class(entry)}" x="{x:.1f}" y="{y + 5}" width="{bar:.1f}"'
        f' height="{_ROW_H - 8}" rx="3"/>'
        f'<text class="dur" x="{x + bar + 5:.1f}" y="{y + 16}">{e(took)}</text></g>'
    )


def _bar_class(entry: TimelineEntry) -> str:
    if entry.kind != "step":
        return f"b-{entry.kind}"
    if entry.status == StepOutcome.PASSED:
        return "b-pass"
    return "b-timeout" if entry.status == StepOutcome.TIMED_OUT else "b-fail"


def _seconds(value: float) -> str:
    if value >= 120:
        return f"{value / 60:.1f} min"
    return f"{number(round(value, 3 if value < 1 else 2))} s"


def _incidents(incidents: list[Incident]) -> str:
    """Services that stopped after they were up: why, and their last words."""
    if not incidents:
        return ""
    items = "".join(
        f"<li><strong>{e(incident.service)}</strong>: {e(incident.message)}"
        + (f"<pre>{e(chr(10).join(incident.logs))}</pre>" if incident.logs else "")
        + "</li>"
        for incident in incidents
    )
    return f"<section><h2>What happened to the services</h2><ul>{items}</ul></section>"


def _steps(steps: list[StepRecord]) -> str:
    if not steps:
        return ""
    rows = "".join(_step_row(step) for step in steps)
    return (
        "<section><h2>Steps</h2><table><thead><tr><th>Step</th><th>Service</th><th>Result</th>"
        "<th>Took</th><th>Output</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


_STEP_TONE = {
    StepOutcome.PASSED: "ok",
    StepOutcome.FAILED: "bad",
    StepOutcome.TIMED_OUT: "bad",
    StepOutcome.NOT_RUN: "muted",
}


def _step_row(step: StepRecord) -> str:
    tone = _STEP_TONE[step.outcome]
    outcome = f'<span class="{tone}">{e(step.outcome.words(step.exit_code))}</span>'
    if step.error:
        outcome += f'<br><span class="muted">{e(step.error)}</span>'
    if step.last_lines:
        outcome += f"<pre>{e(chr(10).join(step.last_lines))}</pre>"
    output = ", ".join(f"{e(k)} {e(size_text(v))}" for k, v in step.output_bytes.items())
    return (
        f"<tr><td>{e(step.name)}</td><td>{e(step.service)}</td><td>{outcome}</td>"
        f"<td>{e(_seconds(step.duration_s))}</td><td>{output or '-'}</td></tr>"
    )


def _environment(result: RunResult) -> str:
    """Everything needed to reproduce the run, or to show it ran on what was claimed."""
    run = {
        "scenario": result.scenario,
        "run id": result.run_id,
        "started (UTC)": result.started_at,
        "finished (UTC)": result.finished_at,
        "wall time": _seconds(run_seconds(result)),
    }
    env = dict(result.environment)
    if isinstance(env.get("network"), str):
        run["sandbox network"] = env.pop("network")
    tables = [_table("Run", run)]
    named = {
        "runner": "poc-runner",
        "engine": "Docker engine",
        "images": "Images (id per service)",
        "data": "Data checksums (sha256 per item)",
    }
    for key, heading in named.items():
        if isinstance(env.get(key), Mapping):
            tables.append(_table(heading, env.pop(key), code=key in ("images", "data")))
        elif key in env and env[key] is None:
            env.pop(key)
    tables.append(_data_cache(result, env))
    if env:
        tables.append(_table("Other", env))
    return (
        "<section><h2>Reproducibility</h2><p>The same scenario file, images and data (matched"
        " by these checksums) reproduce this run.</p>" + "".join(tables) + "</section>"
    )


def _data_cache(result: RunResult, env: dict[str, Any]) -> str:
    """One line under the checksums; the per-item field itself is in result.json."""
    env.pop("data_cache", None)
    note = data_cache_note(result)
    return f'<p class="muted">{e(note)}</p>' if note else ""


def _table(heading: str, rows: Mapping[str, Any], *, code: bool = False) -> str:
    body = "".join(
        f"<tr><th>{e(key.replace('_', ' '))}</th><td>{_cell(value, code)}</td></tr>"
        for key, value in rows.items()
    )
    return (
        f'<h3 style="margin-top:1rem">{e(heading)}</h3>'
        f'<table class="kv"><tbody>{body or "<tr><td class=muted>none</td></tr>"}</tbody></table>'
    )


def _cell(value: Any, code: bool) -> str:
    if value is None:
        return '<span class="muted">-</span>'
    text = e(value) if isinstance(value, str) else e(show(value))
    return f"<code>{text}</code>" if code else text
