"""A secret's value never appears in anything a run writes: step output, service logs,
artifacts, result.json, the terminal. And a run without it does not start."""

from __future__ import annotations

import os
from pathlib import Path

from .conftest import BASE, ScenarioFactory, poc

VALUE = "tok-9f8e7d6c5b4a"


def test_secret_values_are_masked_in_every_output(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    path = scenario(
        f"""\
        secrets: [POC_TEST_TOKEN]
        services:
          app:
            image: {BASE}
            command: [sh, -c, "echo service sees $TOKEN; sleep infinity"]
            environment: {{TOKEN: "${{POC_TEST_TOKEN}}"}}
            tmpfs: [/out]
        steps:
          - name: leak
            service: app
            run: 'echo "stdout $TOKEN"; echo "stderr $TOKEN" >&2; echo "{{\\"t\\": \\"$TOKEN\\"}}" > /out/t.json'
            artifacts: [/out/t.json]
        acceptance:
          criteria:
            - {{id: shows-token, check: {{type: output, step: leak, contains: "stdout"}}}}
            - {{id: wrong, check: {{type: output, step: leak, contains: "${{POC_TEST_TOKEN}}"}}}}
        """
    )
    out = tmp_path / "runs"
    done = poc("run", str(path), "--out", str(out), env={**os.environ, "POC_TEST_TOKEN": VALUE})
    assert done.returncode == 1, done.stderr  # `wrong` fails: the output holds only the mask
    assert VALUE not in done.stdout + done.stderr
    written = [file for file in out.rglob("*") if file.is_file()]
    assert {f.name for f in written} >= {"result.json", "leak.out", "leak.err", "app.log", "t.json"}
    for file in written:
        assert VALUE.encode() not in file.read_bytes(), file
    (leak_out,) = (f for f in written if f.name == "leak.out")
    assert leak_out.read_text() == "stdout ***\n"
    (log,) = (f for f in written if f.name == "app.log")
    assert "service sees ***" in log.read_text()


def test_a_missing_secret_stops_the_run_before_anything_starts(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    path = scenario(
        f"""\
        secrets: [POC_TEST_ABSENT]
        services: {{app: {{image: {BASE}, environment: {{T: "${{POC_TEST_ABSENT}}"}}}}}}
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "POC_TEST_ABSENT"}
    done = poc("run", str(path), "--out", str(tmp_path / "runs"), env=env)
    assert done.returncode == 2
    assert "secret 'POC_TEST_ABSENT' is not set" in done.stderr
    assert not (tmp_path / "runs").exists()
