"""`poc clean`: which caches each flag clears (the removals themselves are tested against a
real engine in tests/integration: test_datacache.py, test_ownership.py, test_lifecycle.py)."""

from __future__ import annotations

from typing import Any

import pytest

from poc_runner.backend import Swept
from poc_runner.backends.docker import DockerEngine, datacache
from poc_runner.backends.docker import sweep as module


@pytest.fixture
def cleared(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What `clean` asked to remove, in order."""
    asked: list[str] = []

    def asking(what: str) -> Any:
        def remove(*_: object, **__: object) -> Swept:
            asked.append(what)
            return Swept(removed=[what])

        return remove

    monkeypatch.setattr(module, "sweep", asking("dead runs"))
    monkeypatch.setattr(module, "remove_built_images", asking("images"))
    monkeypatch.setattr(datacache, "remove_all", asking("data cache"))
    return asked


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({}, ["dead runs"]),
        ({"cache": True}, ["dead runs", "data cache"]),
        ({"images": True}, ["dead runs", "images", "data cache"]),
        ({"images": True, "cache": True}, ["dead runs", "images", "data cache"]),
    ],
)
def test_each_flag_clears_its_caches_and_images_clears_both(
    cleared: list[str], flags: dict[str, bool], expected: list[str]
) -> None:
    engine = DockerEngine(object())  # type: ignore[arg-type]
    swept = engine.sweep(include_kept=True, **flags)
    assert cleared == expected
    assert swept.removed == expected
