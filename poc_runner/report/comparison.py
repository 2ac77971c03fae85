"""Two runs side by side ("7 days against 14", "version 2.3 against 2.4"): what differs in what
they were given, and each criterion's figures next to each other with the change. One model
for `poc history --compare` and for `poc report --compare` (HTML and Markdown)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from poc_runner.report.common import State, state
from poc_runner.report.figures import difference_text, measured_text
from poc_runner.result import CriterionResult, RunInputs, RunResult

SHA_SHOWN = 12  # hex digits of a file's sha256 that tell two versions apart at a glance


@dataclass(frozen=True)
class InputChange:
    """One variable or file of either run: its value (a file: its sha256) in each."""

    kind: str  # "var" or "file"
    name: str
    before: str | None  # None: the run did not have it
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def shown(self, value: str | None) -> str:
        """A value as a reader compares it: a file's digest cut short, `-` when absent."""
        if value is None:
            return "-"
        return value[:SHA_SHOWN] if self.kind == "file" else value


def input_changes(before: RunInputs, after: RunInputs) -> list[InputChange]:
    """Every variable, then every file, of either run, in the order the runs list them."""
    changes = []
    for kind, old, new in (("var", before.vars, after.vars), ("file", before.files, after.files)):
        for name in dict.fromkeys([*old, *new]):
            changes.append(InputChange(kind, name, old.get(name), new.get(name)))
    return changes


Item = TypeVar("Item", bound="_Named")


class _Named(Protocol):
    @property
    def id(self) -> str: ...


def pair_by_id(before: list[Item], after: list[Item]) -> list[tuple[str, Item | None, Item | None]]:
    """Criteria of two runs, paired by id: the later run's in its order, then those it lost."""
    old = {item.id: item for item in before}
    new = {item.id: item for item in after}
    ids = [*new, *(name for name in old if name not in new)]
    return [(name, old.get(name), new.get(name)) for name in ids]


def what_differs(changes: list[InputChange]) -> str:
    """The inputs that differ, in a line that names the comparison: `safety_days 7 → 14`,
    `scoring/score.py changed`; or that nothing the runs were given differs."""
    said = [
        f"{c.name} {c.shown(c.before)} → {c.shown(c.after)}" if c.kind == "var" else
        f"{c.name} {'changed' if c.before and c.after else 'added' if c.after else 'removed'}"
        for c in changes
        if c.changed
    ]  # fmt: skip
    if said:
        return "; ".join(said)
    return "the same variables and files" if changes else "inputs not recorded"


@dataclass(frozen=True)
class Row:
    """One criterion in both runs, with how it changed."""

    id: str
    title: str
    before: CriterionResult | None
    after: CriterionResult | None
    states: tuple[State | None, State | None]

    @property
    def change(self) -> str:
        """`met → not met; +1,686.35 EUR, worse`, `new in B`, `no change`."""
        if self.before is None:
            return "new in B"
        if self.after is None:
            return "not in B"
        old, new = self.states
        parts = [f"{old} → {new}"] if old != new else []
        difference = difference_text(self.before, self.after)
        if difference is None and measured_text(self.before) != measured_text(self.after):
            difference = "another value"
        parts += [difference] if difference and difference != "no change" else []
        return "; ".join(parts) or "no change"

    @property
    def changed(self) -> bool:
        return self.change != "no change"


def rows(before: RunResult, after: RunResult) -> list[Row]:
    """Every criterion of either run, side by side."""
    return [
        _row(before, after, name, old, new)
        for name, old, new in pair_by_id(before.criteria, after.criteria)
    ]


def _row(
    before: RunResult,
    after: RunResult,
    name: str,
    old: CriterionResult | None,
    new: CriterionResult | None,
) -> Row:
    either = new or old
    title = either.title if either is not None and either.title else name
    states = (state(before, old) if old else None, state(after, new) if new else None)
    return Row(name, title, old, new, states)
