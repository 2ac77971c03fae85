"""A suite in parts: `poc run --shard i/n` on three "machines" runs each of seven scenarios
exactly once, and `poc report --merge` reads the parts back as one report and one JUnit file
with every run's verdict."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import BASE, poc

# name -> what its one criterion expects of the step's output (the step prints "hello")
SUITE = {f"part-{i}": "hello" for i in range(6)} | {"part-6": "goodbye"}


def suite(root: Path) -> Path:
    for name, expected in SUITE.items():
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "scenario.yaml").write_text(
            f"apiVersion: poc-runner/v1\nname: {name}\n"
            f"services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}\n"
            "steps: [{name: say, service: app, run: echo hello}]\n"
            f"acceptance: {{criteria: [{{id: said, check: {{type: output, step: say, contains: {expected}}}}}]}}\n"
        )
    return root


def machine(tmp_path: Path, name: str, history: Path | None) -> dict[str, str]:
    """A CI job's environment: its own copy of the history restored from the cache (or none)."""
    own = tmp_path / f"history-{name}.sqlite"
    if history is not None and history.exists():
        shutil.copy(history, own)
    return {**os.environ, "POC_HISTORY": str(own)}


@pytest.mark.parametrize("remembered", [False, True], ids=["no history", "a shared history"])
def test_three_shards_run_each_scenario_once_and_merge_into_one_report(
    tmp_path: Path, remembered: bool
) -> None:
    scenarios = suite(tmp_path / "scenarios")
    cache = None
    if remembered:  # an earlier nightly run, whose history every job restores
        cache = tmp_path / "cache.sqlite"
        earlier = poc("run", str(scenarios), "--out", str(tmp_path / "earlier"),
                      env={**os.environ, "POC_HISTORY": str(cache)})  # fmt: skip
        assert earlier.returncode == 1, earlier.stderr
    outs = [tmp_path / f"shard-{i}" for i in (1, 2, 3)]
    for index, out in enumerate(outs, start=1):
        env = machine(tmp_path, str(index), cache)
        done = poc("run", str(scenarios), "--shard", f"{index}/3", "--out", str(out), env=env)
        assert done.returncode in (0, 1), done.stdout + done.stderr
    ran = [p.parent.parent.name for out in outs for p in out.rglob("result.json")]
    assert sorted(ran) == sorted(SUITE), "each scenario exactly once"
    again = [path.name for path in sorted(scenarios.iterdir(), reverse=True)]
    listed = poc("run", *(str(scenarios / n / "scenario.yaml") for n in again), "--shard", "1/3",
                 "--out", str(tmp_path / "again"), env=machine(tmp_path, "again", cache))  # fmt: skip
    assert sorted(
        p.parent.parent.name for p in (tmp_path / "again").rglob("result.json")
    ) == sorted(p.parent.parent.name for p in outs[0].rglob("result.json")), (
        listed.stdout
    )  # the same shard, however the scenarios were named on the command line

    merged = poc("report", "--merge", *map(str, outs), "--out", str(tmp_path / "suite"))
    assert merged.returncode == 1, merged.stderr  # the worst verdict: one scenario fails
    body = json.loads((tmp_path / "suite" / "suite.json").read_text())
    assert body["totals"] == {"runs": 7, "pass": 6, "fail": 1, "error": 0}
    assert {run["scenario"]: run["verdict"] for run in body["runs"]} == {
        name: "pass" if expected == "hello" else "fail" for name, expected in SUITE.items()
    }
    for run in body["runs"]:
        assert (tmp_path / "suite" / run["report"]).resolve().is_file()
    junit = ET.parse(tmp_path / "suite" / "junit.xml").getroot()
    suites = junit.findall("testsuite")
    assert sorted(s.get("name") for s in suites) == sorted(SUITE)
    assert (junit.get("tests"), junit.get("failures")) == ("7", "1")
    index = (tmp_path / "suite" / "index.html").read_text()
    assert "Content-Security-Policy" in index and index.count("<tr>") == 8  # header + 7


def test_a_shard_out_of_range_is_refused(tmp_path: Path) -> None:
    done = poc("run", str(suite(tmp_path / "scenarios")), "--shard", "4/3")
    assert done.returncode == 2
    assert "1 <= i <= n" in done.stderr
