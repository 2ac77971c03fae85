"""Shared by every test: runs never touch the developer's own run history or state folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def private_run_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every `poc run` records into the history (poc_runner.history); in tests, into a file of
    the session's own, also for the `poc` subprocesses the integration tests start."""
    previous = os.environ.get("POC_HISTORY")
    os.environ["POC_HISTORY"] = str(tmp_path_factory.mktemp("history") / "history.sqlite")
    yield
    if previous is None:
        os.environ.pop("POC_HISTORY", None)
    else:
        os.environ["POC_HISTORY"] = previous


@pytest.fixture(scope="session", autouse=True)
def private_state_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The state folder (the data hash index, the notes of what `poc down` removed, the locks
    of `poc up`) is the session's own too, also for the `poc` subprocesses; a test that needs
    one of its own sets POC_STATE_DIR itself."""
    previous = os.environ.get("POC_STATE_DIR")
    os.environ["POC_STATE_DIR"] = str(tmp_path_factory.mktemp("state"))
    yield
    if previous is None:
        os.environ.pop("POC_STATE_DIR", None)
    else:
        os.environ["POC_STATE_DIR"] = previous
