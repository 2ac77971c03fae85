"""The reports say in one line which data items came from the data cache."""

from __future__ import annotations

import pytest

from poc_runner.report import render
from tests.unit.sample_results import passing


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_items_mounted_from_the_cache_are_named(fmt: str) -> None:
    result = passing()
    result.environment["data_cache"] = {"invoices": "cached", "vendors": "copied", "ref": "cached"}
    text = render(result, fmt)  # type: ignore[arg-type]
    assert "Data from the cache, not copied again" in text
    assert "invoices, ref." in text
    assert "data_cache" not in text and "data cache" not in text  # no raw field, one line


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_nothing_is_said_when_every_item_was_copied(fmt: str) -> None:
    result = passing()
    result.environment["data_cache"] = {"invoices": "copied"}
    assert "Data from the cache" not in render(result, fmt)  # type: ignore[arg-type]
