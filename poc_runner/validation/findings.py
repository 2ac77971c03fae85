"""Collects a file's diagnostics, placing each at the line and column its key path was written.

A scenario's services may come from Compose files (poc_runner/compose/): a path of the merged
scenario is then found where it was written, through the origins the merge recorded, and the
diagnostic names that file, its line and column, and the key path there.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from poc_runner.compose.origins import Origins, Source
from poc_runner.diagnostics import Diagnostic, KeyPath, Severity, format_key_path
from poc_runner.loader import START, Mark, SourceMap


@dataclass
class Findings:
    file: str
    source_map: SourceMap = field(default_factory=SourceMap)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    remap: Callable[[KeyPath], KeyPath] | None = None  # rules running on a salvaged scenario
    origins: Origins = field(default_factory=Origins)  # where merged Compose content was written
    explained: set[tuple[str, KeyPath]] = field(default_factory=set)  # (file, path) reported

    def error(
        self,
        path: KeyPath,
        message: str,
        rule: str,
        *,
        at_key: bool = False,
        fix: str | None = None,
    ) -> None:
        self._report(path, message, rule, Severity.ERROR, at_key, fix)

    def warning(
        self,
        path: KeyPath,
        message: str,
        rule: str,
        *,
        at_key: bool = False,
        fix: str | None = None,
    ) -> None:
        self._report(path, message, rule, Severity.WARNING, at_key, fix)

    def _report(
        self,
        path: KeyPath,
        message: str,
        rule: str,
        severity: Severity,
        at_key: bool,
        fix: str | None,
    ) -> None:
        source, written = self.locate(path)
        found = source.source_map
        mark = found.key_at(written) if at_key else found.value_at(written)
        self.add(mark, written, message, rule, severity, file=source.file, fix=fix)

    def locate(self, path: KeyPath) -> tuple[Source, KeyPath]:
        """The file and key path where `path` of the scenario was written."""
        path = self.remap(path) if self.remap else path
        return self.origins.locate(path) or (Source(self.file, self.source_map), path)

    def explain(self, path: KeyPath) -> None:
        """A problem at `path` is reported: the models' complaint about it would repeat it."""
        source, written = self.locate(path)
        self.explained.add((source.file, written))

    def is_explained(self, path: KeyPath) -> bool:
        source, written = self.locate(path)
        return (source.file, written) in self.explained

    def add(
        self,
        mark: Mark,
        path: KeyPath,
        message: str,
        rule: str,
        severity: Severity = Severity.ERROR,
        *,
        file: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.diagnostics.append(
            Diagnostic(
                file=file or self.file,
                line=mark.line,
                column=mark.column,
                message=message,
                key_path=format_key_path(path),
                rule=rule,
                severity=severity,
                fix=fix,
            )
        )

    def file_error(self, message: str, rule: str, mark: Mark = START) -> None:
        """A problem with the file as a whole (unreadable, not YAML, too large)."""
        self.add(mark, (), message, rule)

    def about(self, source: Source) -> Findings:
        """Findings placed in another file (a Compose file), kept with these."""
        return Findings(source.file, source.source_map, self.diagnostics, explained=self.explained)


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` was most likely meant to be (ignoring case), if any is close."""
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'image'?)` when a choice is close to `word`, else an empty string."""
    match = closest(word, choices)
    return f" (did you mean {match!r}?)" if match else ""
