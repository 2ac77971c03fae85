"""What each criterion measured and expected, in words: with its unit, rounded to its
meaningful digits, each check type naming its own figure ("18 differing rows", "exit code 0",
"status 200 in 17.2 ms"), and how it compares with today ("1.6x better than today",
"6 h → 0.27 s").

Values are read back from result.json as the checks recorded them (checks/), so every shape is
known; one of another shape (a hand-edited file) still reads as words, never as a Python or
JSON structure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, Protocol

from poc_runner.model.types import as_number
from poc_runner.report.common import NOT_MEASURED, NOT_STATED, clean, show
from poc_runner.report.quantities import duration_text, is_time, quantity, readable
from poc_runner.result import CriterionResult
from poc_runner.units import parse_duration

SAME = "about the same"
OPERATORS = ("<=", ">=", "==", "!=", "<", ">", "between", "contains", "matches")
_SYMBOL = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
# `between 1 and 1000`, or the `between [1, 1000]` results written before 0.2 recorded
_BETWEEN = re.compile(r"(.+?) and (.+)|\[\s*'?([^,']*?)'?\s*,\s*'?([^,']*?)'?\s*\]")
_MAX_EXTRA = 5  # digits added, at most, to tell a value from its bound
_SHA_SHOWN = 12


class Judged(Protocol):
    """What figures need of a criterion: a result.json criterion, or a history row."""

    @property
    def check(self) -> str: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def measured(self) -> Any: ...
    @property
    def expected(self) -> Any: ...


Amount = Callable[[str], str]  # a bound's text (a number, or anything) as it reads


def measured_text(criterion: Judged) -> str:
    """The measured value as the criterion's check names it, with its unit."""
    if criterion.measured is None:
        return NOT_MEASURED
    render = _MEASURED.get(criterion.check, _value)
    return clean(render(criterion, criterion.measured))


def expected_text(criterion: Judged) -> str:
    """What the criterion asked for: `≥ 95%`, `no differing rows`, `status 200, < 200 ms`."""
    if criterion.expected is None:
        return NOT_STATED
    render = _EXPECTED.get(criterion.check, _comparison)
    return clean(render(criterion, criterion.expected))


def baseline_text(criterion: CriterionResult) -> str | None:
    """Today's figure (the baseline), in the criterion's unit; None without one."""
    value = criterion.baseline
    if value is None:
        return None
    if criterion.check == "duration":
        try:
            return duration_text(parse_duration(value))
        except ValueError:
            return show(value)
    number = as_number(value)
    if criterion.check == "http" and number is not None:  # a latency, in ms
        return quantity(number, "ms")
    return show(value) if number is None else _scale(criterion)(number, 0)


def improvement_text(criterion: CriterionResult) -> str | None:
    """How a met criterion compares with today: a time as the reader's clock says it
    ("6 h → 0.27 s"), a rate on what is left to do when that is the larger change
    ("unmatched: 8% → 0.3%, 27x fewer"), anything else as a factor ("1.6x better than today",
    "over 100x ..."). None on a criterion not met: its figure would praise a failure."""
    if not _improved(criterion):
        return None
    if timed(criterion):
        slower = ", slower than today" if worse(criterion) else ""
        return f"{baseline_text(criterion)} → {_time_now(criterion)}{slower}"
    rest = remainder_text(criterion)
    if rest is not None:
        return rest
    words = factor_words(criterion)
    return f"{words} as today" if words == SAME else f"{words} than today"


def factor_words(criterion: CriterionResult) -> str | None:
    """ "1.6x better", "2x worse", "over 100x better" (above the criterion's max_factor),
    "about the same", or a rate's rest ("unmatched: 8% → 0.3%, 27x fewer"); None for a time
    (said as today's against now) or without a factor."""
    if not _improved(criterion) or timed(criterion):
        return None
    rest = remainder_text(criterion)
    if rest is not None:
        return rest
    factor = float(criterion.improvement or 0)
    if math.isclose(factor, 1.0, rel_tol=0.005):
        return SAME
    times = factor if factor > 1 else 1 / factor
    return f"{_times(criterion, times)} {'better' if factor > 1 else 'worse'}"


REST = "the rest"  # what a rate's remainder is called when the baseline does not name it
_WHOLE = {"%": 100.0, "ratio": 1.0}


def remainder_text(criterion: CriterionResult) -> str | None:
    """A rate's improvement said on what is left to do, when that is the larger change: 92%
    matched today and 99.7% now read "unmatched: 8% → 0.3%, 27x fewer" (the rate itself grew
    1.1x). None for anything else, or when the rate's own change is the larger."""
    whole = _WHOLE.get(criterion.unit or "")
    before, after = as_number(criterion.baseline), as_number(criterion.measured)
    if whole is None or before is None or after is None or not _improved(criterion):
        return None
    if not (0 <= before <= whole and 0 <= after <= whole):
        return None
    left_before, left_after = whole - before, whole - after
    if left_after >= left_before:
        return None  # the rest did not shrink: the factor on the rate says it
    rate = max(after / before, before / after) if before and after else math.inf
    rest = left_before / left_after if left_after > 0 else math.inf
    if rest <= rate:
        return None
    label = criterion.remainder or REST
    change = "none left" if left_after <= 0 else f"{_times(criterion, rest)} fewer"
    unit = criterion.unit
    return f"{label}: {quantity(left_before, unit)} → {quantity(left_after, unit)}, {change}"


def _times(criterion: CriterionResult, times: float) -> str:
    """27x, 1.6x, over 100x (above the criterion's max_factor)."""
    if times > criterion.max_factor:
        return f"over {readable(criterion.max_factor)}x"
    return f"{times:,.0f}x" if times >= 10 else f"{times:.1f}".removesuffix(".0") + "x"


def near_text(criterion: Judged) -> str | None:
    """Where a criterion not met counts as close, as its bound reads: `≥ 99%`."""
    near = getattr(criterion, "near", None)
    if not near:
        return None
    return clean(_condition(str(near), _amount_of(criterion)))


def worse(criterion: CriterionResult) -> bool:
    """Met, but behind today's solution on this figure."""
    factor = criterion.improvement
    return (
        _improved(criterion)
        and factor is not None
        and factor < 1
        and not math.isclose(factor, 1.0, rel_tol=0.005)
    )


def timed(criterion: Judged) -> bool:
    """Its figure is a time: a duration, a latency, or a value in ms, s, min or h."""
    return criterion.check in ("duration", "http") or is_time(criterion.unit)


def _improved(criterion: CriterionResult) -> bool:
    factor = criterion.improvement
    return (
        criterion.passed
        and criterion.baseline is not None
        and factor is not None
        and math.isfinite(factor)
        and factor > 0
    )


def _time_now(criterion: CriterionResult) -> str:
    measured = criterion.measured
    if criterion.check == "http" and isinstance(measured, dict):
        latency = as_number(measured.get("latency_ms"))
        return NOT_MEASURED if latency is None else quantity(latency, "ms")
    return measured_text(criterion)


# --- numbers and bounds ------------------------------------------------------------------


def _scale(criterion: Judged) -> Callable[[float, int], str]:
    """How the criterion's numbers read: seconds for a duration check, else its unit."""
    if criterion.check == "duration":
        return duration_text
    return lambda value, extra: quantity(value, criterion.unit, extra)


def parse_bound(expected: str) -> tuple[str, list[str]] | None:
    """`>= 0.95` -> (">=", ["0.95"]); `between 1 and 9` -> ("between", ["1", "9"])."""
    op, _, rest = expected.partition(" ")
    if op not in OPERATORS or not rest:
        return None
    if op != "between":
        return op, [rest]
    found = _BETWEEN.fullmatch(rest)
    if found is None:
        return None
    low, high = (found.group(1), found.group(2)) if found.group(1) else found.group(3, 4)
    return op, [low.strip(), high.strip()]


def _bounds(criterion: Judged) -> list[float]:
    """The numbers the criterion's value is compared with."""
    expected = criterion.expected
    if isinstance(expected, dict):
        expected = expected.get("latency_ms")
    parsed = parse_bound(expected) if isinstance(expected, str) else None
    found = [as_number(operand) for operand in parsed[1]] if parsed else []
    return [bound for bound in found if bound is not None]


def _number(criterion: Judged, value: float) -> str:
    """A measured number, with the digits it takes to tell it from a bound it is not."""
    scale = _scale(criterion)
    bounds = [scale(bound, 0) for bound in _bounds(criterion) if bound != value]
    extra = next((n for n in range(_MAX_EXTRA) if scale(value, n) not in bounds), _MAX_EXTRA)
    return scale(value, extra)


def _bound(op: str, operands: list[str], amount: Amount) -> str:
    if op == "between":
        return f"between {amount(operands[0])} and {amount(operands[1])}"
    if op in ("contains", "matches"):
        return f'{op} "{operands[0]}"'
    return f"{_SYMBOL[op]} {amount(operands[0])}"


def _amount_of(criterion: Judged) -> Amount:
    scale = _scale(criterion)

    def amount(text: str) -> str:
        number = as_number(text)
        return text if number is None else scale(number, 0)

    return amount


def _bytes(text: str) -> str:
    number = as_number(text)
    return text if number is None else f"{readable(number)} bytes"


def _milliseconds(text: str) -> str:
    number = as_number(text)
    return text if number is None else quantity(number, "ms")


def _plain(text: str) -> str:
    return text


def _condition(text: str, amount: Amount) -> str:
    parsed = parse_bound(text)
    return _bound(*parsed, amount) if parsed else text


# --- per check type ----------------------------------------------------------------------


def _value(criterion: Judged, value: Any) -> str:
    """json, metric, sql: the value, a number with its unit, a list item by item."""
    if isinstance(value, list):
        return ", ".join(_value(criterion, item) for item in value) or "nothing"
    number = None if isinstance(value, bool) else as_number(value)
    return show(value) if number is None else _number(criterion, number)


def _comparison(criterion: Judged, value: Any) -> str:
    if not isinstance(value, str):
        return _value(criterion, value)
    return _condition(value, _amount_of(criterion))


def _exit(_criterion: Judged, value: Any) -> str:
    return f"exit code {show(value)}"


def _rows(criterion: Judged, value: Any) -> str:
    """A csv check: how many rows differ (changed, missing or extra); `unit` names them."""
    number = as_number(value)
    if number is None:
        return show(value)
    noun = criterion.unit or "rows"
    if number == 0:
        return f"no differing {noun}"
    if number == 1 and criterion.unit is None:
        return "1 differing row"
    return f"{readable(number)} differing {noun}"


def _printed(_criterion: Judged, value: Any) -> str:
    text = " ".join(str(value).split())
    return f'"{text}"' if text else "nothing printed"


def _conditions(_criterion: Judged, value: Any) -> str:
    """An output check's conditions."""
    if not isinstance(value, dict):
        return show(value)
    words = {"contains": "contains", "not_contains": "does not contain", "matches": "matches"}
    return ", ".join(f'{words.get(key, key)} "{item}"' for key, item in value.items())


def _file(_criterion: Judged, value: Any) -> str:
    """A file check's findings or conditions: exists, size in bytes, sha256."""
    if not isinstance(value, dict):
        return show(value)
    parts = []
    for key, item in value.items():
        if key == "exists":
            parts.append("exists" if item else "absent")
        elif key == "size" and isinstance(item, str):  # a condition: `> 0`
            parts.append(f"size {_condition(item, _bytes)}")
        elif key == "size":  # what was measured
            parts.append(_bytes(str(item)))
        elif key == "sha256":
            parts.append(f"sha256 {str(item)[:_SHA_SHOWN]}…")
        else:
            parts.append(f"{key} {show(item)}")
    return ", ".join(parts)


def _answer(criterion: Judged, value: Any) -> str:
    """An http check's answer: status, latency, and the JSON value it looked at."""
    if not isinstance(value, dict):
        return show(value)
    said = f"status {show(value.get('status'))}"
    latency = as_number(value.get("latency_ms"))
    if latency is not None:
        said += f" in {quantity(latency, 'ms')}"
    if "json" in value:
        asked = criterion.expected.get("json") if isinstance(criterion.expected, dict) else None
        path = str(asked).partition(" ")[0] if asked else "JSON"
        said += f", {path} = {show(value['json'], missing='nothing')}"
    return said


def _request(_criterion: Judged, value: Any) -> str:
    """An http check's conditions."""
    if not isinstance(value, dict):
        return show(value)
    parts = []
    for key, item in value.items():
        if key == "status":
            parts.append(f"status {show(item)}")
        elif key == "body.contains":
            parts.append(f'body contains "{item}"')
        elif key == "json":
            path, _, rest = str(item).partition(" ")
            parts.append(f"{path} {_condition(rest, _plain)}")
        elif key == "latency_ms":
            parts.append(_condition(str(item), _milliseconds))
        else:
            parts.append(f"{key} {show(item)}")
    return ", ".join(parts)


def _isolation(_criterion: Judged, value: Any) -> str:
    """An isolation check's finding per service: isolated, or its way out."""
    if not isinstance(value, dict):
        return show(value)
    isolated = [name for name, said in value.items() if said == "isolated"]
    leaks = [f"{name} ({said})" for name, said in value.items() if said != "isolated"]
    if not leaks:
        return f"isolated: {', '.join(isolated)}" if isolated else "no service"
    return "a way out from " + "; ".join(leaks)


def _schema(_criterion: Judged, value: Any) -> str:
    """A schema check's problems, or that there were none."""
    if isinstance(value, list):
        return "; ".join(str(problem) for problem in value) or "as required"
    return show(value)


_MEASURED: dict[str, Callable[[Judged, Any], str]] = {
    "isolation": _isolation,
    "schema": _schema,
    "exit_code": _exit,
    "command": _exit,
    "csv": _rows,
    "output": _printed,
    "file": _file,
    "http": _answer,
}
_EXPECTED: dict[str, Callable[[Judged, Any], str]] = {
    "isolation": lambda _criterion, value: show(value),
    "schema": lambda _criterion, value: show(value),
    "exit_code": _exit,
    "command": _exit,
    "csv": _rows,
    "output": _conditions,
    "file": _file,
    "http": _request,
}


# --- one criterion's figure in two runs --------------------------------------------------


def figure(criterion: Judged) -> float | None:
    """The one number a criterion is judged on, where it has one (an http check: its latency);
    None for an exit code, a text, a file, or a value that is not a number."""
    measured = criterion.measured
    if criterion.check in ("exit_code", "command", "output", "file", "isolation", "schema"):
        return None
    if criterion.check == "http":
        measured = measured.get("latency_ms") if isinstance(measured, dict) else None
    return None if isinstance(measured, bool | list | dict) else as_number(measured)


def difference_text(before: Judged, after: Judged) -> str | None:
    """How `after`'s figure differs from `before`'s, with its unit, and whether that is better
    by the criterion's own bound: "+1,686.35 EUR, worse", "−18 rows, better", "no change";
    None when the two have no figure to compare."""
    old, new = figure(before), figure(after)
    if old is None or new is None or before.check != after.check:
        return None
    delta = new - old
    if delta == 0:
        return "no change"
    sign = "+" if delta > 0 else "−"
    amount = _difference(after, abs(delta))
    lower = _lower_is_better(after)
    if lower is None:
        return f"{sign}{amount}"
    return f"{sign}{amount}, {'better' if (delta < 0) == lower else 'worse'}"


def _difference(criterion: Judged, amount: float) -> str:
    if criterion.check == "csv":
        return f"{readable(amount)} {criterion.unit or 'rows'}"
    if criterion.check == "http":
        return quantity(amount, "ms")
    if criterion.unit in ("ratio", "%"):  # a difference of percentages is in points
        return f"{readable(amount * (100 if criterion.unit == 'ratio' else 1))} points"
    return _scale(criterion)(amount, 0)


def _lower_is_better(criterion: Judged) -> bool | None:
    """From the criterion's bound: `<`, `<=` and a csv's differing rows, lower; `>`, `>=`,
    higher; anything else says nothing."""
    if criterion.check == "csv":
        return True
    expected = criterion.expected
    if isinstance(expected, dict):
        expected = expected.get("latency_ms")
    parsed = parse_bound(expected) if isinstance(expected, str) else None
    op = parsed[0] if parsed else None
    return True if op in ("<", "<=") else False if op in (">", ">=") else None
