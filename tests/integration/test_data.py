"""Data goes in as a copy, read-only even to root inside the container, with its sha256."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import docker

from poc_runner.result import RunResult

from .conftest import BASE, ScenarioFactory, poc, run_folder, tamper_script


def test_data_is_copied_read_only_even_for_root(
    scenario: ScenarioFactory, run: Callable[..., RunResult], tmp_path: Path
) -> None:
    path = scenario(
        f"""\
        data:
          - {{name: invoices, path: data/invoices.csv, mount: /data/invoices.csv}}
          - {{name: tables, path: data/tables, mount: /ref/tables}}
          - {{name: tamper, path: tamper.py, mount: /probe/tamper.py}}
        services:
          app: {{image: {BASE}, command: [sleep, infinity]}}
        steps:
          - {{name: tamper, service: app, run: [python3, /probe/tamper.py]}}
        """,
        files={
            "tamper.py": tamper_script("/data/invoices.csv", "/ref/tables"),
            "data/invoices.csv": "invoice,amount\nA-1,100\n",
            "data/tables/rates.csv": "currency,rate\nEUR,1.1\n",
            "data/tables/codes.csv": "code\nX\n",
        },
    )
    result = run(path)
    assert result.error is None, result.error
    outcome = json.loads((run_folder(tmp_path, result) / "steps" / "tamper.out").read_text())
    assert outcome["uid"] == 0
    assert outcome["content"] == "invoice,amount\nA-1,100\n"
    assert outcome["listing"] == ["codes.csv", "rates.csv"]
    assert set(outcome["outcome"].values()) == {"Read-only file system"}, outcome
    assert outcome["options"] == {"/data": "ro", "/ref/tables": "ro"}
    host_file = path.parent / "data" / "invoices.csv"
    digests = result.environment["data"]
    assert digests["invoices"] == hashlib.sha256(host_file.read_bytes()).hexdigest()
    assert len(digests["tables"]) == 64
    assert host_file.read_text() == "invoice,amount\nA-1,100\n"  # the original is untouched


def test_a_link_inside_a_data_folder_is_refused_before_anything_starts(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    """A link inside a data folder that points inside it once validated, then failed the
    sandbox at the copy (which takes regular files only): it is refused at validation now,
    naming the link and what to do, and nothing starts."""
    path = scenario(
        f"""\
        data: [{{name: tables, path: data/tables, mount: /ref/tables}}]
        services:
          app: {{image: {BASE}, command: [sleep, infinity]}}
        steps: [{{name: list, service: app, run: ls /ref/tables}}]
        """,
        name="data-link",
        files={"data/tables/rates.csv": "currency,rate\nEUR,1.1\n"},
    )
    (path.parent / "data" / "tables" / "latest.csv").symlink_to("rates.csv")
    done = poc("run", str(path), "--out", str(tmp_path / "runs"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "'data/tables/latest.csv', a link (to 'data/tables/rates.csv')" in done.stderr
    assert not list((tmp_path / "runs").rglob("result.json"))  # no sandbox was started
    assert not client.containers.list(
        all=True, filters={"label": "io.poc-runner.scenario=data-link"}
    )
