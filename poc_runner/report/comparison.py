"""Two runs side by side ("7 days against 14", "version 2.3 against 2.4"): what differs in what
they were given, and each criterion's figures next to each other with the change. One model
for `poc history --compare` and for `poc report --compare` (HTML and Markdown)."""

from __future__ import annotations

from dataclasses import dataclass

from poc_runner.result import RunInputs

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
