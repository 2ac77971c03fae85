"""A real `poc run` writes its reports (with --pdf, report.pdf too) next to result.json and
records itself in the history, also with --parallel, with the inputs it was given; `poc report` re-renders the same reports
from result.json alone."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import xmlschema

from .conftest import BASE, ScenarioFactory, poc

XSD = Path(__file__).resolve().parents[1] / "data" / "junit.xsd"
SCENARIO = f"""\
vars: {{greeting: hello}}
job:
  statement: We want the nightly load checked before anyone reads the dashboard.
  stakeholders: [{{role: Analyst, wants: Trust the numbers}}]
services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
steps: [{{name: load, service: app, run: "echo loaded ${{greeting}}"}}]
acceptance:
  criteria:
    - {{id: loads, title: The load finishes, for: [Analyst], check: {{type: exit_code, step: load}}}}
    - {{id: says-so, for: [Analyst], check: {{type: output, step: load, contains: NOPE}}}}
"""


def test_a_run_writes_reports_and_history(scenario: ScenarioFactory, tmp_path: Path) -> None:
    first = scenario(SCENARIO, name="reports-one").parent
    second = scenario(SCENARIO, name="reports-two").parent
    env = {**os.environ, "POC_HISTORY": str(tmp_path / "history.sqlite")}
    out = tmp_path / "runs"
    ran = poc(
        "run", str(first), str(second), "--parallel", "2", "--out", str(out),
        "--var", "greeting=bonjour", "--pdf", env=env,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stderr  # one criterion fails in each
    assert "warning" not in ran.stderr.lower(), ran.stderr  # nothing failed to be written

    folders = sorted(out.glob("*/*"))
    assert len(folders) == 2
    for folder in folders:
        names = {path.name for path in folder.iterdir()}
        assert {"result.json", "report.html", "report.md", "junit.xml", "report.pdf"} <= names
        assert (folder / "report.pdf").read_bytes().startswith(b"%PDF")
        xmlschema.validate(str(folder / "junit.xml"), str(XSD))
        html = (folder / "report.html").read_text()
        assert "FAIL" in html and "Executive summary" in html
        inputs = json.loads((folder / "result.json").read_text())["inputs"]
        scenario_file = tmp_path / folder.parent.name / "scenario.yaml"
        assert inputs == {
            "vars": {"greeting": "bonjour"},
            "files": {"scenario.yaml": hashlib.sha256(scenario_file.read_bytes()).hexdigest()},
        }
        assert "bonjour" in html
        again = poc("report", str(folder), "--format", "md", env=env)
        assert again.returncode == 0
        assert again.stdout == (folder / "report.md").read_text()

    listed = poc("history", env=env)
    assert listed.returncode == 0
    rows = listed.stdout.splitlines()[1:]
    assert sorted(row.split()[1] for row in rows) == ["reports-one", "reports-two"]
    assert all(row.split()[2] == "FAIL" for row in rows)
    ids = [row.split()[0] for row in rows]
    compared = poc("history", "--compare", *ids, env=env)
    assert compared.returncode == 0
    assert "(different scenarios)" in compared.stdout
    assert "  inputs    1 of 2 changed" in compared.stdout  # same var; each its own file
    assert "    = var greeting" in compared.stdout
