"""Writing a file whole or not at all: to a temporary name beside it, then renamed over it, so
a reader (a browser, CI, `poc report`) never opens half a result or half a report."""

from __future__ import annotations

from pathlib import Path


def partial(target: Path) -> Path:
    """Where `target` is written before it is renamed into place (the same folder, so the
    rename is atomic)."""
    return target.with_name(f".{target.name}.partial")


def write_atomic(target: Path, text: str) -> Path:
    being_written = partial(target)
    being_written.write_text(text, encoding="utf-8")
    being_written.replace(target)
    return target
