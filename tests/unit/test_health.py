"""Healthcheck patience as Docker counts it: failures within `start_period` do not count; the
k-th failure counts once `start_period + k * interval` has passed, however many eager checks
failed in between; `retries` counted failures give up. A check failing at once therefore gives
up after about `start_period + retries * interval`, not `retries * (interval + timeout)`."""

from __future__ import annotations

import pytest

from poc_runner.backends.docker.health import Patience
from poc_runner.model.services import Healthcheck


def patience(**fields: object) -> Patience:
    return Patience(Healthcheck.model_validate({"test": ["CMD", "true"], **fields}), started=100.0)


def fail_every(patience: Patience, step: float, until: float) -> float:
    """Fail a check every `step` seconds from the start; the time it gave up, or `until`."""
    now = patience.started
    while now < until:
        patience.failed(now)
        if patience.exhausted:
            return now - patience.started
        now += step
    return until


def test_a_check_failing_at_once_gives_up_after_retries_intervals() -> None:
    """interval 1s, retries 5, the default 30 s timeout never reached: about 5 s, not 155 s."""
    gave_up = fail_every(patience(interval="1s", retries=5), step=0.02, until=200)
    assert gave_up == pytest.approx(5.0, abs=0.05)


def test_eager_checks_between_intervals_do_not_count() -> None:
    waiting = patience(interval="1s", retries=3)
    assert [waiting.failed(100.0 + t) for t in (0.02, 0.5, 0.99)] == [False, False, False]
    assert waiting.failed(101.0)
    assert not waiting.failed(101.5)
    assert waiting.counted == 1


def test_failures_within_the_start_period_do_not_count() -> None:
    gave_up = fail_every(patience(interval="1s", retries=2, start_period="10s"), 0.1, 200)
    assert gave_up == pytest.approx(12.0, abs=0.15)


def test_checks_that_time_out_count_each_time() -> None:
    """Each check takes its whole 5 s timeout: every one of them is past its due time."""
    gave_up = fail_every(patience(interval="1s", timeout="5s", retries=3), step=5.0, until=200)
    assert gave_up == 15.0


def test_zero_retries_still_allows_one_check() -> None:
    waiting = patience(interval="2s", retries=0)
    assert not waiting.exhausted
    waiting.failed(102.0)
    assert waiting.exhausted
