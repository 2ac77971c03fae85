"""The other commands around a run: --parallel, --keep with shell and down, doctor, and the
whole-run time limit."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from poc_runner.result import RunResult
from poc_runner.sandbox import labels as label

from .conftest import BASE, POC, ScenarioFactory, labelled, poc


def passing_and_failing(scenario: ScenarioFactory) -> tuple[Path, Path]:
    body = f"""\
        services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
        steps: [{{name: answer, service: app, run: "echo 42"}}]
        acceptance:
          criteria:
            - {{id: right, check: {{type: output, step: answer, contains: "%s"}}}}
        """
    return scenario(body % "42", name="right"), scenario(body % "41", name="wrong")


def test_parallel_runs_each_scenario_and_exits_with_the_worst_verdict(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    right, wrong = passing_and_failing(scenario)
    done = poc("run", "--parallel", "2", str(right), str(wrong), "--out", str(tmp_path / "runs"))
    assert done.returncode == 1, done.stderr
    assert "right: PASS" in done.stdout and "wrong: FAIL" in done.stdout
    alone = poc("run", str(right), "--out", str(tmp_path / "runs"))
    assert alone.returncode == 0


def test_the_whole_run_stops_at_sandbox_timeout(
    scenario: ScenarioFactory, run: Callable[..., RunResult]
) -> None:
    path = scenario(
        f"""\
        sandbox: {{timeout: 2s}}
        services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
        steps: [{{name: slow, service: app, run: sleep 60, timeout: 1m}}]
        """
    )
    result = run(path)
    (slow,) = result.steps
    assert slow.timed_out and slow.duration_s < 10
    assert slow.error == "stopped: the run reached its sandbox.timeout"


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux `script` for a TTY")
def test_keep_leaves_the_sandbox_for_shell_until_down(
    own_user: str, scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    path = scenario(
        f"""\
        services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
        steps: [{{name: mark, service: app, run: "echo left-by-the-run > /tmp/mark"}}]
        """,
        name="kept",
    )
    done = poc("run", "--keep", str(path), "--out", str(tmp_path / "runs"))
    assert done.returncode == 0, done.stderr
    (kept,) = client.containers.list(
        filters={"label": [f"{label.SCENARIO}=kept", f"{label.SERVICE}=app"]}
    )
    run_id = kept.labels[label.RUN]
    assert poc("run", str(path), "--out", str(tmp_path / "runs")).returncode == 0
    assert labelled(client, run_id), "a later run's sweep leaves kept sandboxes alone"
    command = " ".join([*POC, "shell", str(path), "app"])
    session = subprocess.run(
        ["script", "-qec", command, "/dev/null"],
        input="cat /tmp/mark; exit\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "left-by-the-run" in session.stdout
    once = poc("shell", str(path), "app", "--", "cat", "/tmp/mark")  # no terminal here
    assert (once.returncode, once.stdout) == (0, "left-by-the-run\n"), once.stderr
    assert poc("shell", str(path), "app", "--", "sh", "-c", "exit 7").returncode == 7
    piped = subprocess.run(
        [*POC, "shell", str(path), "app"], input="echo $((6 * 7))\n", capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (piped.returncode, piped.stdout) == (0, "42\n"), piped.stderr
    wrong = poc("shell", str(path), "ap", "--", "true")
    assert wrong.returncode == 2
    assert "has no service 'ap' (did you mean 'app'?); its services: app" in wrong.stderr
    assert poc("down", str(path)).returncode == 0
    assert labelled(client, run_id) == []
    gone = poc("shell", str(path), "app")
    assert gone.returncode == 2
    assert (
        f"kept is not up (none was started, or `poc down` or `poc clean` removed it since): start it with `poc up {path}`"
        in gone.stderr
    )


def test_doctor_reports_the_engine() -> None:
    done = poc("doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok  Docker engine: 20." in done.stdout or "ok  Docker engine:" in done.stdout
    assert "base image" in done.stdout
