"""`metric` checks: a number the product printed, compared with `op` and `value` (spec, "Check
types").

The number comes from the step's stream (stdout unless `stream` says otherwise), either through
`pattern`, a regex whose one group captures it, or through `json_line`, the key of a JSON object
printed on a line of its own. Either way the LAST occurrence wins: a product that reports
progress prints the final figure last (`processed 10%` ... `processed 100%`). The captured text
must read as a number (`42`, `-0.5`, `1e3`, `"0.97"` in JSON); anything else fails and shows
the text seen. A step that failed or timed out proves nothing by its figures (grounds.py).
"""

from __future__ import annotations

import json
from typing import Any

from poc_runner.checks.compare import Incomparable, compare, expectation, search
from poc_runner.checks.evidence import Evidence, Judgement, excerpt, missing, never_ran
from poc_runner.model.checks import MetricCheck
from poc_runner.model.types import as_number


class NotFound(ValueError):
    """No figure in the output; the message says what was looked for."""


def judge_metric(check: MetricCheck, evidence: Evidence) -> Judgement:
    expected = expectation(check.op, check.value)
    step = evidence.step(check.step)
    if step is None:
        return never_ran(check.step, expected)
    where = f"{check.stream} of step {check.step!r}"
    text = step.output(check.stream)
    try:
        seen, raw = _extract(check, text)
    except NotFound as exc:
        return missing(f"{where}: {exc}; {_ending(text)}", expected)
    except Incomparable as exc:
        return missing(f"{where}: {exc}", expected)
    number = as_number(raw)
    if number is None:
        return missing(f"{where}: {seen} gives {_short(raw)}, which is not a number", expected)
    shown = f"{where}: {seen} gives {_figure(number)}"
    try:
        return Judgement(compare(number, check.op, check.value), number, expected, shown)
    except Incomparable as exc:
        return Judgement(False, number, expected, f"{shown}; {exc}")


def _extract(check: MetricCheck, text: str) -> tuple[str, Any]:
    """What was seen (for the evidence) and the raw value captured."""
    if check.pattern is not None:
        found = search(check.pattern, text, last=True)
        if found is None:
            raise NotFound(f"nothing matches {_short(check.pattern)}")
        return f"the last match {_short(found.text)}", found.groups[0]
    key = str(check.json_line)
    for line in reversed(text.splitlines()):
        value = _json_object(line)
        if value is not None and key in value:
            return f"the last JSON line with {key!r} {_short(line.strip())}", value[key]
    raise NotFound(f"no line is a JSON object with the key {key!r}")


def _json_object(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not (line.startswith("{") and line.endswith("}")):
        return None
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _ending(text: str) -> str:
    text = text.rstrip()
    if not text:
        return "it printed nothing"
    return f"it ends {'...' * (len(text) > 120) + text[-120:]!r}"


def _figure(number: float) -> str:
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _short(value: Any) -> str:
    return excerpt(repr(value), 80)
