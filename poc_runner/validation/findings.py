"""Collects a file's diagnostics, placing each at the line and column its key path was written."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from poc_runner.diagnostics import Diagnostic, KeyPath, Severity, format_key_path
from poc_runner.loader import START, Mark, SourceMap


@dataclass
class Findings:
    file: str
    source_map: SourceMap = field(default_factory=SourceMap)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    remap: Callable[[KeyPath], KeyPath] | None = None  # rules running on a salvaged scenario

    def error(self, path: KeyPath, message: str, rule: str, *, at_key: bool = False) -> None:
        path = self.remap(path) if self.remap else path
        self.add(self._place(path, at_key), path, message, rule)

    def warning(self, path: KeyPath, message: str, rule: str, *, at_key: bool = False) -> None:
        path = self.remap(path) if self.remap else path
        self.add(self._place(path, at_key), path, message, rule, Severity.WARNING)

    def add(
        self,
        mark: Mark,
        path: KeyPath,
        message: str,
        rule: str,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.diagnostics.append(
            Diagnostic(
                file=self.file,
                line=mark.line,
                column=mark.column,
                message=message,
                key_path=format_key_path(path),
                rule=rule,
                severity=severity,
            )
        )

    def file_error(self, message: str, rule: str, mark: Mark = START) -> None:
        """A problem with the file as a whole (unreadable, not YAML, too large)."""
        self.add(mark, (), message, rule)

    def _place(self, path: KeyPath, at_key: bool) -> Mark:
        return self.source_map.key_at(path) if at_key else self.source_map.value_at(path)


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` was most likely meant to be (ignoring case), if any is close."""
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'image'?)` when a choice is close to `word`, else an empty string."""
    match = closest(word, choices)
    return f" (did you mean {match!r}?)" if match else ""
