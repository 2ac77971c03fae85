"""What every report format says the same way: the words for a verdict and for a criterion's
state, how any value reads as words, which criteria belong to which stakeholder. (How a
criterion's own figures read is report/figures.py; numbers and units, report/quantities.py.)

Every value in a result may come from the product under test (its output, its files, its
answers), so it is untrusted: `clean` masks the run's secrets and drops the characters that
would make a report invalid (control characters, lone surrogates) before any format escapes it.
Masking happens before escaping, because escaping can hide a secret from the mask (`a&b`
becomes `a&amp;b`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from poc_runner.masking import SECRETS
from poc_runner.report.quantities import readable, score_text
from poc_runner.result import CriterionResult, RunResult, Status, Verdict

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


class State(StrEnum):
    """A criterion as a reader sees it: met; close (not met, but within its `near` bound:
    amber, no points); not met; or not judged because the sandbox failed (a criterion failed by
    a broken sandbox says nothing about the product)."""

    MET = "met"
    CLOSE = "close"
    NOT_MET = "not met"
    NOT_JUDGED = "not judged"


CRITERION_WORD = {
    State.MET: "PASS",
    State.CLOSE: "CLOSE",
    State.NOT_MET: "FAIL",
    State.NOT_JUDGED: "not judged",
}


def state(result: RunResult, criterion: CriterionResult) -> State:
    """From the criterion's status, and the run's verdict for a result written before status
    was (a criterion not met in a run whose sandbox failed was not judged)."""
    if criterion.passed:
        return State.MET
    if result.verdict is Verdict.ERROR or criterion.status is Status.NOT_JUDGED:
        return State.NOT_JUDGED
    return State.CLOSE if criterion.status is Status.CLOSE else State.NOT_MET


def close_count(result: RunResult, criteria: list[CriterionResult] | None = None) -> int:
    """How many of the criteria (default: the run's) are close."""
    chosen = result.criteria if criteria is None else criteria
    return sum(state(result, criterion) is State.CLOSE for criterion in chosen)


def clean(value: object) -> str:
    """Text safe to put in any report: secrets masked, forbidden characters replaced."""
    return _INVALID.sub("\ufffd", SECRETS.mask(str(value)))


def show(value: Any, missing: str = NOT_MEASURED) -> str:
    """Any value as words: numbers rounded for reading, yes/no, lists item by item, mappings
    as `key value; key value`. Never a Python or JSON structure. Criteria's figures read
    through report/figures.py, which knows what each check measured."""
    if value is None:
        return missing
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return readable(value)
    if value == "":
        return "(empty)"
    if isinstance(value, list):
        return ", ".join(show(item, missing) for item in value) or "(none)"
    if isinstance(value, dict):
        return "; ".join(f"{key} {show(item, missing)}" for key, item in value.items()) or "(none)"
    return clean(value)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Group:
    """One stakeholder: what they want and the criteria that prove it."""

    role: str
    wants: str | None
    criteria: list[CriterionResult] = field(default_factory=list)

    @property
    def met(self) -> int:
        return sum(c.passed for c in self.criteria)


def tally(result: RunResult, group: Group) -> str:
    """How far a stakeholder's criteria got: `2 of 3 met`, `0 of 2 met, 2 not judged`."""
    total = len(group.criteria)
    if not total:
        return "no criterion proves this yet"
    unjudged = sum(state(result, c) is State.NOT_JUDGED for c in group.criteria)
    close = close_count(result, group.criteria)
    return (
        f"{group.met} of {total} met"
        + (f", {close} {State.CLOSE}" if close else "")
        + (f", {unjudged} {State.NOT_JUDGED}" if unjudged else "")
    )


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
    close = close_count(result)
    counted = f"{met} of {total} criteria met" + (f", {close} close" if close else "")
    if result.verdict is Verdict.ERROR:
        return f"The sandbox failed, so the product was not fairly judged ({counted} so far)."
    score, needed = score_text(result.score), readable(result.pass_score)
    if result.verdict is Verdict.PASS:
        return f"{counted}; score {score} reaches {needed}" + (
            " and every must-have is met." if any(c.must for c in result.criteria) else "."
        )
    reasons = []
    if result.score < result.pass_score:
        reasons.append(f"score {score} is below {needed}")
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
