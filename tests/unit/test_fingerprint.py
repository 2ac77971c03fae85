"""The run's environment fingerprint names the host the way `platform.platform()` does."""

from __future__ import annotations

import platform

from poc_runner.pipeline import host_platform


def test_host_platform_matches_the_standard_library() -> None:
    assert host_platform() == platform.platform()
