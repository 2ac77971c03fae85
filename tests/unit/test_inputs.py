"""A run's inputs on record: every variable as used, and the files that decide the run."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from poc_runner.inputs import compose_files, decisive_files, digests, variables_used
from poc_runner.model import Scenario
from poc_runner.validation import validate_file

SCENARIO = """\
apiVersion: poc-runner/v1
name: inputs
vars: {threshold: "0.95", safety_days: "7"}
secrets: [VENDOR_TOKEN]
data:
  - {name: invoices, path: data/invoices.csv, mount: /data/invoices.csv}
  - {name: scoring, path: scoring, mount: /poc/scoring}
services:
  app: {image: base, command: [sleep, infinity]}
steps:
  - name: score
    service: app
    run: >-
      python3 /poc/scoring/score.py /data/invoices.csv --config=/poc/scoring/conf.yaml
      --days ${safety_days} http://api:8080/poc/scoring/remote.py /poc/scoring/../../etc/passwd
      /poc/scoring/missing.py /app/built-in.py
acceptance:
  criteria:
    - id: audit
      check: {type: csv, artifact: /out/a.csv, expected: data/expected.csv}
    - id: balances
      check: {type: command, service: app, run: [sh, /poc/scoring/check.sh, /poc/scoring]}
    - id: exits
      check: {type: exit_code, step: score}
"""
FILES = {
    "data/invoices.csv": "id\n1\n",
    "data/expected.csv": "id\n1\n",
    "scoring/score.py": "print('score')\n",
    "scoring/conf.yaml": "days: 7\n",
    "scoring/check.sh": "exit 0\n",
    "scoring/remote.py": "print('named only inside a URL')\n",
    "scoring/unused.py": "print('never named')\n",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for relative, text in FILES.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    (tmp_path / "scenario.yaml").write_text(SCENARIO)
    return tmp_path


@pytest.fixture
def scenario(folder: Path) -> Scenario:
    validated = validate_file(folder / "scenario.yaml")  # as `poc validate`: no secret values
    assert validated.scenario is not None, [d.format_text() for d in validated.diagnostics]
    return validated.scenario


def test_every_variable_as_used_with_overrides_and_secrets_masked(scenario: Scenario) -> None:
    assert variables_used(scenario, {"safety_days": "14", "extra": "x"}) == {
        "threshold": "0.95",
        "safety_days": "14",
        "extra": "x",
        "VENDOR_TOKEN": "***",
    }


def test_check_scripts_are_files_of_the_folder_a_run_names_through_a_data_mount(
    scenario: Scenario, folder: Path
) -> None:
    found = [path.relative_to(folder).as_posix() for path in decisive_files(scenario, folder)]
    assert found == [
        "data/expected.csv",
        "scoring/score.py",
        "scoring/conf.yaml",
        "scoring/check.sh",
    ]


def test_a_path_that_leads_out_of_the_folder_is_never_read(
    scenario: Scenario, folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.py"
    outside.write_text("not the scenario's")
    (folder / "scoring" / "score.py").unlink()
    (folder / "scoring" / "score.py").symlink_to(outside)
    found = decisive_files(scenario, folder)
    assert folder / "scoring" / "score.py" not in found and outside not in found


def test_digests_are_sha256_by_path_in_the_scenario_folder(folder: Path) -> None:
    files = [folder / "scenario.yaml", folder / "scoring" / "score.py", folder / "gone.py"]
    assert digests(folder, files) == {
        "scenario.yaml": hashlib.sha256(SCENARIO.encode()).hexdigest(),
        "scoring/score.py": hashlib.sha256(FILES["scoring/score.py"].encode()).hexdigest(),
    }


def test_compose_files_are_on_record_in_the_order_they_merge(tmp_path: Path) -> None:
    files = {
        "deploy/compose.yaml": "services:\n  app: {image: base, command: [sleep, infinity]}\n",
        "deploy/compose.poc.yaml": "services:\n  app: {read_only: true}\n",
        "deploy/.env": "PASSWORD=not-on-record\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    (tmp_path / "scenario.yaml").write_text(
        "apiVersion: poc-runner/v1\nname: composed\n"
        "compose: [deploy/compose.yaml, deploy/compose.poc.yaml]\n"
    )
    validated = validate_file(tmp_path / "scenario.yaml")
    assert validated.scenario is not None, [d.format_text() for d in validated.diagnostics]
    found = compose_files(validated.scenario, tmp_path)
    assert [path.relative_to(tmp_path).as_posix() for path in found] == [
        "deploy/compose.yaml",
        "deploy/compose.poc.yaml",
    ]  # not the env file: it may hold passwords


def test_a_scenario_without_compose_has_no_compose_files(scenario: Scenario, folder: Path) -> None:
    assert compose_files(scenario, folder) == []
