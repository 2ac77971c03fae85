"""What every report format says the same way: the words for a verdict, how a measured value
or an improvement reads, which criteria belong to which stakeholder.

Every value in a result may come from the product under test (its output, its files, its
answers), so it is untrusted: `clean` masks the run's secrets and drops the characters that
would make a report invalid (control characters, lone surrogates) before any format escapes it.
Masking happens before escaping, because escaping can hide a secret from the mask (`a&b`
becomes `a&amp;b`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from poc_runner.masking import SECRETS
from poc_runner.result import CriterionResult, RunResult, Verdict

NOT_MEASURED = "not measured"
NOT_STATED = "-"  # an expected value a check did not state (it was not evaluated)
NO_STAKEHOLDER = "Other criteria"
# Characters XML 1.0 forbids (and HTML treats as errors): C0 controls but tab, newline and
# carriage return; DEL and C1 controls; lone surrogates; the two non-characters U+FFFE/U+FFFF.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

VERDICT_HEADLINE = {
    Verdict.PASS: "It did the job",
    Verdict.FAIL: "Not there yet",
    Verdict.ERROR: "No verdict: the test environment failed",
}
CRITERION_WORD = {True: "PASS", False: "FAIL"}  # a criterion met or not, in the terminal


def clean(value: object) -> str:
    """Text safe to put in any report: secrets masked, forbidden characters replaced."""
    return _INVALID.sub("\ufffd", SECRETS.mask(str(value)))


def show(value: Any, check: str = "", missing: str = NOT_MEASURED) -> str:
    """A measured, expected or baseline value as a reader expects to see it: numbers without
    trailing zeros, seconds marked on duration checks, structures as compact JSON."""
    if value is None:
        return missing
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        text = number(value)
        return f"{text} s" if check == "duration" else text
    if value == "":
        return "(empty)"
    if isinstance(value, str):
        seconds = check == "duration" and value[-1:].isdigit()
        return clean(f"{value} s" if seconds else value)
    return clean(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


def number(value: float) -> str:
    """12, 0.092, 88.89, 1234567: no exponent, no trailing zeros."""
    if isinstance(value, bool) or not math.isfinite(value):
        return str(value)
    if abs(value) >= 1e15 or (value != 0 and abs(value) < 1e-6):
        return f"{value:g}"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def improvement_text(factor: float | None) -> str | None:
    """'12x better than today' (or worse): how the product compares with the current solution."""
    if factor is None or not math.isfinite(factor) or factor <= 0:
        return None
    if math.isclose(factor, 1.0, rel_tol=0.005):
        return "about the same as today"
    better = factor > 1
    times = factor if better else 1 / factor
    shown = f"{times:,.0f}" if times >= 10 else f"{times:.1f}".removesuffix(".0")
    return f"{shown}x {'better' if better else 'worse'} than today"


@dataclass
class Group:
    """One stakeholder: what they want and the criteria that prove it."""

    role: str
    wants: str | None
    criteria: list[CriterionResult] = field(default_factory=list)

    @property
    def met(self) -> int:
        return sum(c.passed for c in self.criteria)


def by_stakeholder(result: RunResult) -> list[Group]:
    """The job's stakeholders in their order, then roles only criteria name, then criteria for
    nobody. A criterion for two stakeholders appears under both: each reads their own part."""
    groups = {s.role: Group(s.role, s.wants) for s in result.job.stakeholders}
    loose = Group(NO_STAKEHOLDER, None)
    for criterion in result.criteria:
        for role in criterion.stakeholders:
            groups.setdefault(role, Group(role, None)).criteria.append(criterion)
        if not criterion.stakeholders:
            loose.criteria.append(criterion)
    ordered = list(groups.values())
    return [*ordered, loose] if loose.criteria else ordered


def reuse_note(result: RunResult) -> str | None:
    """What a reader must know of a run on a sandbox left up: it is not a clean one."""
    if result.reused is None:
        return None
    return (
        f"This run reused the sandbox left up by run {result.reused}: its services had run"
        " before, so it was not a clean sandbox. Confirm the verdict with a full `poc run`."
    )


def data_cache_note(result: RunResult) -> str | None:
    """Which data items came from the data cache: their checksums hold all the same."""
    used = result.environment.get("data_cache") or {}
    cached = [item for item, how in used.items() if how == "cached"]
    if not cached:
        return None
    return (
        f"Data from the cache, not copied again (the same files as an earlier run, by their"
        f" checksums): {', '.join(cached)}."
    )


def criterion_name(criterion: CriterionResult) -> str:
    return f"{criterion.id}: {criterion.title}" if criterion.title else criterion.id


def summary_line(result: RunResult) -> str:
    """One sentence under the verdict, saying why it is what it is."""
    total = len(result.criteria)
    met = sum(c.passed for c in result.criteria)
    musts_missed = [c.id for c in result.criteria if c.must and not c.passed]
    counted = f"{met} of {total} criteria met"
    if result.verdict == "error":
        return f"The sandbox failed, so the product was not fairly judged ({counted} so far)."
    if result.verdict is Verdict.PASS:
        return f"{counted}; score {number(result.score)} reaches {number(result.pass_score)}" + (
            " and every must-have is met." if any(c.must for c in result.criteria) else "."
        )
    reasons = []
    if result.score < result.pass_score:
        reasons.append(f"score {number(result.score)} is below {number(result.pass_score)}")
    if musts_missed:
        reasons.append("must-have not met: " + ", ".join(musts_missed))
    return f"{counted}; " + "; ".join(reasons) + "." if reasons else f"{counted}."


def run_seconds(result: RunResult) -> float:
    """The run's wall time: from its timestamps, else from its timeline."""
    try:
        start = datetime.fromisoformat(result.started_at.replace("Z", "+00:00"))
        end = datetime.fromisoformat(result.finished_at.replace("Z", "+00:00"))
        return max((end - start).total_seconds(), 0.0)
    except ValueError:
        ends = [entry.end_s for entry in result.timeline if math.isfinite(entry.end_s)]
        return max([0.0, *ends])
