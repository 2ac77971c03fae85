"""Problems found in a scenario file, and the three ways `poc validate` prints them.

A diagnostic always names the file, the 1-based line and column, and the key path, so a sales
engineer (or an editor, or a CI annotation) can jump straight to the offending spot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum

KeyPath = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int
    column: int
    message: str
    key_path: str = ""
    rule: str = "schema"
    severity: Severity = Severity.ERROR
    fix: str | None = None  # what to write instead, where there is an obvious fix

    def format_text(self) -> str:
        where = f" [{self.key_path}]" if self.key_path else ""
        return (
            f"{self.file}:{self.line}:{self.column}: {self.severity.value}: {self.message}{where}"
        )

    def format_github(self) -> str:
        props = ",".join(
            f"{name}={_github_escape(str(value), property_value=True)}"
            for name, value in (
                ("file", self.file),
                ("line", self.line),
                ("col", self.column),
                ("title", f"poc validate: {self.rule}"),
            )
        )
        where = f" [{self.key_path}]" if self.key_path else ""
        return f"::{self.severity.value} {props}::{_github_escape(self.message + where)}"

    def as_json(self) -> dict[str, object]:
        """Every field; `fix` only where there is one."""
        data = asdict(self)
        data["severity"] = self.severity.value
        if self.fix is None:
            del data["fix"]
        return data


def format_key_path(path: KeyPath) -> str:
    """Render ('services', 'app', 'ports', 0) as services.app.ports[0]."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def render(diagnostics: Sequence[Diagnostic], fmt: str) -> str:
    """All diagnostics in one of the formats `poc validate --format` offers."""
    if fmt == "json":
        return json.dumps([d.as_json() for d in diagnostics], indent=2)
    if fmt == "github":
        return "\n".join(d.format_github() for d in diagnostics)
    return "\n".join(d.format_text() for d in diagnostics)


def in_order(diagnostics: Iterable[Diagnostic], first: str) -> list[Diagnostic]:
    """By file (`first`, the scenario file, before the Compose files it names), then line."""
    return sorted(diagnostics, key=lambda d: (d.file != first, d.file, d.line, d.column))


def count_errors(diagnostics: Iterable[Diagnostic]) -> int:
    return sum(d.severity is Severity.ERROR for d in diagnostics)


def tally(files: int, valid: int, diagnostics: Sequence[Diagnostic]) -> str:
    """`poc validate`'s last line: `2 files checked: 1 valid, 3 errors, 0 warnings`."""
    errors = count_errors(diagnostics)
    warnings = len(diagnostics) - errors
    return (
        f"{files} file{'s' * (files != 1)} checked: {valid} valid,"
        f" {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    )


def _github_escape(text: str, *, property_value: bool = False) -> str:
    # Workflow-command escaping, as in actions/toolkit's command.ts.
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text
