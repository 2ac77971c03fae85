"""Writing a file whole or not at all: to a temporary name beside it, then renamed over it, so
a reader (a browser, CI, `poc report`) never opens half a result or half a report."""

from __future__ import annotations

from pathlib import Path


def write_atomic(target: Path, text: str) -> Path:
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)
    return target
