"""A suite in parts: `poc run --shard i/n` three times, one after another on one machine with
one history (each shard's runs land in it before the next splits), runs each of seven
scenarios exactly once; `poc report --merge` reads the parts back as one report and one JUnit
file, and refuses parts that do not cover the suite exactly once, naming the scenarios."""

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


def ran_in(out: Path) -> list[str]:
    return sorted(p.parent.parent.name for p in out.rglob("result.json"))


@pytest.fixture
def parts(tmp_path: Path) -> list[Path]:
    """Three shards of the suite run one after another on this machine, sharing one history
    that already holds the suite's runs (the split once read it, and changed between shards)."""
    scenarios = suite(tmp_path / "scenarios")
    history = {**os.environ, "POC_HISTORY": str(tmp_path / "history.sqlite")}
    earlier = poc("run", str(scenarios), "--out", str(tmp_path / "earlier"), env=history)
    assert earlier.returncode == 1, earlier.stdout + earlier.stderr  # part-6 fails
    outs = [tmp_path / f"shard-{i}" for i in (1, 2, 3)]
    for index, out in enumerate(outs, start=1):
        done = poc("run", str(scenarios), "--shard", f"{index}/3", "--out", str(out), env=history)
        assert done.returncode in (0, 1), done.stdout + done.stderr
    return outs


def test_three_shards_in_a_row_with_one_history_cover_the_suite_once_and_merge(
    parts: list[Path], tmp_path: Path
) -> None:
    assert sorted(name for out in parts for name in ran_in(out)) == sorted(SUITE)
    scenarios = tmp_path / "scenarios"
    again = [path.name for path in sorted(scenarios.iterdir(), reverse=True)]
    listed = poc("run", *(str(scenarios / n / "scenario.yaml") for n in again), "--shard", "1/3",
                 "--out", str(tmp_path / "again"))  # fmt: skip
    assert ran_in(tmp_path / "again") == ran_in(parts[0]), listed.stdout  # however given

    durations = tmp_path / "durations.json"
    merged = poc("report", "--merge", *map(str, parts), "--out", str(tmp_path / "suite"),
                 "--write-durations", str(durations))  # fmt: skip
    assert merged.returncode == 1, merged.stderr  # the worst verdict: one scenario fails
    assert "Incomplete" not in merged.stdout
    body = json.loads((tmp_path / "suite" / "suite.json").read_text())
    assert body["totals"] == {"runs": 7, "pass": 6, "fail": 1, "error": 0}
    assert (body["incomplete"], body["suite"]) == (None, sorted(SUITE))
    assert {run["scenario"]: run["verdict"] for run in body["runs"]} == {
        name: "pass" if expected == "hello" else "fail" for name, expected in SUITE.items()
    }
    for run in body["runs"]:
        assert (tmp_path / "suite" / run["report"]).resolve().is_file()
    junit = ET.parse(tmp_path / "suite" / "junit.xml").getroot()
    assert sorted(s.get("name") for s in junit.findall("testsuite")) == sorted(SUITE)
    assert (junit.get("tests"), junit.get("failures")) == ("7", "1")
    index = (tmp_path / "suite" / "index.html").read_text()
    assert "Content-Security-Policy" in index and index.count("<tr>") == 8  # header + 7

    assert set(json.loads(durations.read_text())) == set(SUITE)  # then the split by them
    timed = [tmp_path / f"timed-{i}" for i in (1, 2, 3)]
    for index, out in enumerate(timed, start=1):
        done = poc("run", str(scenarios), "--shard", f"{index}/3", "--shard-durations",
                   str(durations), "--out", str(out))  # fmt: skip
        assert done.returncode in (0, 1), done.stdout + done.stderr
    assert sorted(name for out in timed for name in ran_in(out)) == sorted(SUITE)


def test_merge_refuses_parts_with_a_scenario_missing_or_doubled(
    parts: list[Path], tmp_path: Path
) -> None:
    one, two, three = parts
    (missing_one, *_) = ran_in(three)
    out = str(tmp_path / "suite")
    short = poc("report", "--merge", str(one), str(two), "--out", out)
    assert short.returncode == 2, short.stdout + short.stderr
    assert (
        f"do not cover their suite exactly once: missing {', '.join(ran_in(three))}" in short.stderr
    )
    assert "part(s) 3/3 not given" in short.stderr
    assert not (tmp_path / "suite").exists(), "nothing written"

    copy = tmp_path / "shard-2-again"
    shutil.copytree(two, copy)  # the same part given twice, as a re-run would
    for result in copy.rglob("result.json"):  # its own run ids, as a real second run has
        data = json.loads(result.read_text())
        data["run_id"] += "-again"
        result.write_text(json.dumps(data))
    doubled = poc("report", "--merge", str(one), str(two), str(three), str(copy), "--out", out)
    assert doubled.returncode == 2
    twice = ", ".join(f"{name} (2 runs)" for name in ran_in(two))
    assert f"run more than once: {twice}" in doubled.stderr

    allowed = poc("report", "--merge", str(one), str(two), "--out", out, "--allow-incomplete")
    assert allowed.returncode == 3, allowed.stderr  # a suite with scenarios missing: error
    assert allowed.stdout.startswith(f"Incomplete suite: missing {', '.join(ran_in(three))}")
    index = (tmp_path / "suite" / "index.html").read_text()
    first = index.split("<main>\n", 1)[1]
    assert first.startswith(
        f'<p class="incomplete"><strong>Incomplete suite: missing {missing_one}'
    )
    body = json.loads((tmp_path / "suite" / "suite.json").read_text())
    assert body["verdict"] == "error" and body["missing"] == ran_in(three)


def test_a_shard_out_of_range_or_beyond_the_suite_is_refused_at_once(tmp_path: Path) -> None:
    scenarios = suite(tmp_path / "scenarios")
    assert "1 <= i <= n" in poc("run", str(scenarios), "--shard", "4/3").stderr
    huge = poc("run", str(scenarios), "--shard", "1/1000000000")  # once a 1.8 GB MemoryError
    assert huge.returncode == 2, huge.stderr
    assert "the suite found has 7 scenario(s), so it splits into at most 7 part(s)" in huge.stderr
    alone = poc("run", str(scenarios), "--shard-durations", str(tmp_path / "d.json"))
    assert alone.returncode == 2 and "give both" in alone.stderr
