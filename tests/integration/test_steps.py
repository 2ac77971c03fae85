"""Steps: order, failure rules, timeouts that really end the step, bounded output, artifacts."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from poc_runner.result import RunResult

from .conftest import BASE, POC, ScenarioFactory, poc, run_folder

SERVICE = f"services: {{app: {{image: {BASE}, command: [sleep, infinity], tmpfs: [/out]}}}}\n"


def with_app(body: str) -> str:
    """`body` (indented YAML) after one service, `app`, with a tmpfs at /out."""
    return SERVICE + textwrap.dedent(body)


LEFTOVERS = """\
import json, os
found = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        found.append(open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode())
    except OSError:
        pass
print(json.dumps([cmd for cmd in found if "sleep 100" in cmd]))
"""


def test_a_hanging_step_is_killed_at_its_timeout_with_every_process_it_started(
    scenario: ScenarioFactory, run: Callable[..., RunResult], tmp_path: Path
) -> None:
    """Also those that left its process tree: `(cmd &)`, `setsid -f`, a double fork, whose
    parent becomes the container's init; and one that cleared its environment but stayed a
    child. None of them lives on into the next step."""
    path = scenario(
        with_app(
            """\
        data: [{name: leftovers, path: leftovers.py, mount: /probe/leftovers.py}]
        steps:
          - name: hang
            service: app
            run: >-
              setsid sleep 1001 & sleep 1000 & (sleep 1003 &) ; setsid -f sleep 1004 ;
              env -i /bin/sleep 1005 & python3 -c "import os; os.fork() or os.setsid() or os.fork() or os.execvp('sleep', ['sleep', '1006'])" ;
              sleep 1002
            timeout: 2s
            continue_on_error: true
          - {name: after, service: app, run: [python3, /probe/leftovers.py]}
        """
        ),
        files={"leftovers.py": LEFTOVERS},
    )
    result = run(path)
    hang, after = result.steps
    assert hang.timed_out and hang.exit_code is None
    assert 2 <= hang.duration_s < 8
    assert after.exit_code == 0
    survivors = json.loads((run_folder(tmp_path, result) / "steps" / "after.out").read_text())
    assert survivors == []


def test_a_failing_step_stops_later_steps_unless_it_continues_on_error(
    scenario: ScenarioFactory, run: Callable[..., RunResult]
) -> None:
    path = scenario(
        with_app(
            """\
        steps:
          - {name: soft, service: app, run: exit 3, continue_on_error: true}
          - {name: hard, service: app, run: exit 4}
          - {name: never, service: app, run: "true"}
        acceptance:
          criteria:
            - {id: soft-code, check: {type: exit_code, step: soft, value: 3}}
            - {id: never-ran, check: {type: exit_code, step: never}}
        """
        )
    )
    result = run(path)
    codes = [(s.name, s.ran, s.exit_code) for s in result.steps]
    assert codes == [("soft", True, 3), ("hard", True, 4), ("never", False, None)]
    by_id = {c.id: c for c in result.criteria}
    assert by_id["soft-code"].passed
    assert not by_id["never-ran"].passed
    assert "never ran" in by_id["never-ran"].evidence
    assert result.verdict == "fail" and result.score == 50


def test_step_env_workdir_and_artifacts_from_tmpfs(
    scenario: ScenarioFactory, run: Callable[..., RunResult], tmp_path: Path
) -> None:
    path = scenario(
        with_app(
            """\
        steps:
          - name: make
            service: app
            run: 'mkdir -p /out/report && echo "$MODE $(pwd)" > /out/report/a.txt && echo b > /out/b.txt'
            env: {MODE: strict}
            workdir: /tmp
            artifacts: [/out/report, /out/b.txt, /out/missing.txt]
        """
        )
    )
    result = run(path)
    folder = run_folder(tmp_path, result)
    assert (folder / "artifacts/out/report/a.txt").read_text() == "strict /tmp\n"
    assert (folder / "artifacts/out/b.txt").read_text() == "b\n"
    assert result.steps[0].artifacts == {
        "/out/report": True,
        "/out/b.txt": True,
        "/out/missing.txt": False,
    }


def test_artifacts_the_product_spoils_fail_their_criteria_not_the_sandbox(
    scenario: ScenarioFactory, run: Callable[..., RunResult], tmp_path: Path
) -> None:
    """A product whose `tar` answers garbage, and a folder of more files than the cap: neither
    is copied (nothing of them lands in the run folder), the criteria on them fail saying why,
    and the verdict is the product's: fail, not a sandbox error."""
    path = scenario(
        with_app(
            """\
        steps:
          - name: many
            service: app
            run: [python3, -c, "import os; os.makedirs('/out/many'); [open(f'/out/many/{i}', 'w').close() for i in range(10_001)]"]
            artifacts: [/out/many]
          - name: garbage
            service: app
            run: "mkdir -p /usr/local/bin && printf '#!/bin/sh\\nhead -c 3000 /dev/urandom\\n' > /usr/local/bin/tar && chmod +x /usr/local/bin/tar && echo '{}' > /out/r.json"
            artifacts: [/out/r.json]
        acceptance:
          criteria:
            - {id: many, check: {type: file, artifact: /out/many}}
            - {id: report, check: {type: json, artifact: /out/r.json, path: $.ok, op: ==, value: 1}}
        """
        )
    )
    result = run(path)
    assert result.verdict == "fail", result.error
    assert result.error is None
    many, garbage = result.steps
    assert many.artifact_errors["/out/many"] == (
        "artifact /out/many was not copied: it holds more than the cap of 10,000 files"
    )
    assert "malformed" in garbage.artifact_errors["/out/r.json"]
    assert [c.evidence for c in result.criteria] == [
        many.artifact_errors["/out/many"],
        garbage.artifact_errors["/out/r.json"],
    ]
    assert not (run_folder(tmp_path, result) / "artifacts" / "out" / "many").exists()


def test_a_failing_steps_reason_is_on_screen_and_in_the_report(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    """Not only in steps/load.err: the last lines it wrote are in the summary and the reports."""
    path = scenario(
        with_app(
            """\
        steps:
          - name: load
            service: app
            run: [python3, -c, "print('loading orders'); open('/data/orders.csv')"]
        """
        ),
        name="reason",
    )
    done = poc("run", str(path), "--out", str(tmp_path / "runs"))
    assert "step load failed (exit 1):" in done.stdout
    assert (
        "| FileNotFoundError: [Errno 2] No such file or directory: '/data/orders.csv'"
        in done.stdout
    )
    (folder,) = (tmp_path / "runs" / "reason").iterdir()
    for report in ("report.html", "report.md"):
        assert "No such file or directory: &#x27;/data/orders.csv&#x27;" in (
            folder / report
        ).read_text() or (
            "No such file or directory: '/data/orders.csv'" in (folder / report).read_text()
        ), report


def test_huge_output_keeps_runner_memory_and_files_bounded(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    path = scenario(
        with_app(
            """\
        steps:
          - {name: flood, service: app, run: "head -c 500000000 /dev/zero | tr '\\\\0' x; echo; echo END"}
        """
        )
    )
    measure = (
        "import resource, subprocess, sys;"
        f"done = subprocess.run({[*POC, 'run', str(path), '--out', str(tmp_path / 'runs')]!r});"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    code, peak_kib = poc_free_output(measure)
    assert code == 0  # no criteria to fail (validation warns about that)
    assert peak_kib < 150 * 1024, f"runner peaked at {peak_kib // 1024} MiB"
    out = next((tmp_path / "runs").glob("probe/*/steps/flood.out"))
    assert out.stat().st_size < 3 * 1024 * 1024
    text = out.read_text()
    assert text.startswith("xxxx") and text.rstrip().endswith("END")
    assert "bytes cut here" in text


def poc_free_output(code: str) -> tuple[int, int]:
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    returncode, peak = done.stdout.split()[-2:]
    return int(returncode), int(peak)


def test_run_command_reports_and_exits_by_verdict(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    path = scenario(
        with_app(
            """\
        steps: [{name: hello, service: app, run: echo hello}]
        acceptance:
          criteria:
            - {id: says-hello, check: {type: output, step: hello, contains: hello}}
        """
        )
    )
    done = poc("run", str(path), "--out", str(tmp_path / "runs"))
    assert done.returncode == 0, done.stderr
    assert "probe: PASS  score 100" in done.stdout
    assert "step hello: running" in done.stderr
