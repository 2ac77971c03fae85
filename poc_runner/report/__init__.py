"""Reports of a run, each rendered from its RunResult alone (so `poc report` can re-render any
of them from result.json): report.html for the prospect, report.md for an email or a pull
request, junit.xml for CI, result.json itself, and report.pdf (report.html printed by
Chromium, report/pdf.py). Two runs side by side are a page of their own (report/comparison.py).

Every report passes through SECRETS.mask twice: each value before it is escaped (escaping can
hide a secret from the mask) and the finished text once more.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal, get_args

from poc_runner.atomic import write_atomic
from poc_runner.masking import SECRETS
from poc_runner.report.compare_html import render_comparison_html
from poc_runner.report.compare_md import render_comparison_md
from poc_runner.report.gaps import render_gaps_csv, render_gaps_json
from poc_runner.report.html import render_html
from poc_runner.report.junit import render_junit
from poc_runner.report.markdown import render_markdown
from poc_runner.report.pdf import print_pdf
from poc_runner.result import RunResult

Format = Literal["html", "md", "junit", "json", "gaps", "gaps-json"]
FORMATS: tuple[str, ...] = get_args(Format)
FILES: dict[Format, str] = {"html": "report.html", "md": "report.md", "junit": "junit.xml"}
ComparisonFormat = Literal["html", "md"]
_RENDERERS: dict[Format, Callable[[RunResult], str]] = {
    "html": render_html,
    "md": render_markdown,
    "junit": render_junit,
    "json": RunResult.to_json,
    "gaps": render_gaps_csv,
    "gaps-json": render_gaps_json,
}


def render(result: RunResult, fmt: Format) -> str:
    """One report as text: fmt is html, md, junit, json, or the gap list (gaps: CSV,
    gaps-json)."""
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return SECRETS.mask(renderer(result))


def render_comparison(before: RunResult, after: RunResult, fmt: ComparisonFormat) -> str:
    """Run A (`before`) and run B (`after`) side by side: fmt is html or md."""
    renderer = {"html": render_comparison_html, "md": render_comparison_md}.get(fmt)
    if renderer is None:
        raise ValueError(f"a comparison is html or md, not {fmt!r}")
    return SECRETS.mask(renderer(before, after))


def write_reports(folder: Path, result: RunResult) -> list[Path]:
    """report.html, report.md and junit.xml next to result.json, each written whole or not at
    all (temporary name, then rename), so a reader never opens half a report."""
    written = []
    for fmt, name in FILES.items():
        written.append(write_atomic(folder / name, render(result, fmt)))
    return written


def write_pdf(result: RunResult, pdf: Path) -> Path:
    """`result`'s report.html printed to `pdf` (ToolUnavailable without Chromium)."""
    with tempfile.TemporaryDirectory(prefix="poc-report-") as scratch:
        html = write_atomic(Path(scratch) / FILES["html"], render(result, "html"))
        return print_pdf(html, pdf)


__all__ = [
    "FILES",
    "FORMATS",
    "ComparisonFormat",
    "Format",
    "print_pdf",
    "render",
    "render_comparison",
    "write_atomic",
    "write_pdf",
    "write_reports",
]
