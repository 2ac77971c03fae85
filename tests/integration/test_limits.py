"""Resource limits hold: a fork bomb and a memory hog are contained, and the run goes on."""

from __future__ import annotations

from collections.abc import Callable

from poc_runner.result import RunResult

from .conftest import BASE, ScenarioFactory


def test_a_fork_bomb_hits_the_pids_limit_and_is_killed(
    scenario: ScenarioFactory, run: Callable[..., RunResult]
) -> None:
    path = scenario(
        f"""\
        services:
          app:
            image: {BASE}
            command: [sleep, infinity]
            resources: {{pids: 64}}
        steps:
          - name: bomb
            service: app
            run: "bomb() {{ bomb | bomb & }}; bomb; sleep 30"
            timeout: 4s
            continue_on_error: true
          - {{name: still-works, service: app, run: echo alive}}
        """
    )
    result = run(path)
    bomb, after = result.steps
    assert bomb.timed_out
    assert bomb.duration_s < 15
    assert after.exit_code == 0
    assert result.error is None


def test_a_memory_hog_is_stopped_at_the_memory_limit(
    scenario: ScenarioFactory, run: Callable[..., RunResult]
) -> None:
    path = scenario(
        f"""\
        services:
          app:
            image: {BASE}
            command: [sleep, infinity]
            resources: {{memory: 64m}}
        steps:
          - name: hog
            service: app
            run: [python3, -c, "blocks = [bytearray(16 * 2**20) for _ in range(64)]"]
            continue_on_error: true
          - {{name: still-works, service: app, run: echo alive}}
        """
    )
    result = run(path)
    hog, after = result.steps
    assert hog.exit_code == 137  # SIGKILL from the kernel's OOM killer
    assert after.exit_code == 0
