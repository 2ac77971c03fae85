"""What happens to the services after they are up is on record and decides honestly: a service
that exits fails what needs it (the product stopped); one killed for running out of memory,
or stopped for writing more than its disk limit, makes the verdict `error` (the sandbox's
limits decided, not the product) with a message naming the service and the limit."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import docker

from poc_runner.result import IncidentKind, RunResult

from .conftest import BASE, ScenarioFactory, labelled, run_folder

CLIENT = f"client: {{image: {BASE}, command: [sleep, infinity]}}"


def test_a_service_killed_for_memory_during_the_steps_is_a_sandbox_error(
    scenario: ScenarioFactory, run: Callable[..., RunResult], tmp_path: Path
) -> None:
    path = scenario(
        f"""\
        services:
          api:
            image: {BASE}
            command: [python3, -c, "import time; time.sleep(1); print('loading everything', flush=True); b = [bytearray(16 * 2**20) for _ in range(16)]; time.sleep(600)"]
            resources: {{memory: 64m}}
          {CLIENT}
        steps: [{{name: work, service: client, run: sleep 4}}]
        acceptance: {{criteria: [{{id: worked, check: {{type: exit_code, step: work}}}}]}}
        """
    )
    result = run(path)
    assert result.verdict == "error"
    assert result.error is not None
    assert "service 'api' was killed" in result.error
    assert "ran out of memory (its limit is 64 MiB, resources.memory)" in result.error
    (incident,) = result.incidents
    assert incident.service == "api" and incident.kind is IncidentKind.OUT_OF_MEMORY
    assert incident.exit_code == 137
    assert "loading everything" in incident.logs
    assert 0.5 < incident.at_s < 10
    stored = json.loads((run_folder(tmp_path, result) / "result.json").read_text())
    assert stored["incidents"][0]["kind"] == "out_of_memory"
    assert [s["name"] for s in stored["steps"]] == ["work"]
    assert any(
        entry.kind == "service" and entry.name == "api" and "out of memory" in entry.status
        for entry in result.timeline
    )
    assert "out of memory" in (run_folder(tmp_path, result) / "report.html").read_text()


def test_a_service_that_exits_fails_the_steps_that_need_it(
    scenario: ScenarioFactory, run: Callable[..., RunResult]
) -> None:
    path = scenario(
        f"""\
        services:
          api:
            image: {BASE}
            command: [sh, -c, "sleep 1; echo lost my config; exit 3"]
          {CLIENT}
        steps:
          - {{name: wait, service: client, run: sleep 3}}
          - {{name: ask, service: api, run: echo hello}}
        acceptance:
          criteria:
            - {{id: waited, check: {{type: exit_code, step: wait}}}}
            - {{id: answered, check: {{type: output, step: ask, contains: hello}}}}
        """
    )
    result = run(path)
    assert result.verdict == "fail", result.error  # the product stopped: not a sandbox error
    assert result.error is None
    (incident,) = result.incidents
    assert incident.kind is IncidentKind.EXITED and incident.exit_code == 3
    assert "lost my config" in incident.logs
    wait, ask = result.steps
    assert wait.exit_code == 0
    assert not ask.ran
    assert ask.error is not None and "service 'api' stopped at" in ask.error
    assert "(exit code 3)" in ask.error
    assert [c.passed for c in result.criteria] == [True, False]


def test_a_service_over_its_disk_limit_is_stopped_and_its_space_given_back(
    scenario: ScenarioFactory, run: Callable[..., RunResult], client: docker.DockerClient
) -> None:
    path = scenario(
        f"""\
        services:
          app:
            image: {BASE}
            command: [sleep, infinity]
            resources: {{disk: 50m}}
        steps:
          - name: fill
            service: app
            run: "head -c 300000000 /dev/zero > /big.bin; sleep 30; echo finished"
            timeout: 2m
        acceptance: {{criteria: [{{id: filled, check: {{type: output, step: fill, contains: finished}}}}]}}
        """
    )
    result = run(path)
    assert result.verdict == "error"
    assert result.error is not None
    assert "service 'app' wrote" in result.error
    assert "over its limit of 50 MiB (resources.disk)" in result.error
    (incident,) = result.incidents
    assert incident.kind is IncidentKind.DISK_LIMIT
    (fill,) = result.steps
    assert fill.exit_code != 0 and fill.duration_s < 30  # stopped, not left to finish
    assert labelled(client, result.run_id) == []  # removed: the space is given back
