"""Data goes in as a copy, read-only even to root inside the container, with its sha256."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from poc_runner.result import RunResult

from .conftest import BASE, ScenarioFactory, run_folder

TAMPER = """\
import json, os
attempts = {
    "append": lambda: open("/data/invoices.csv", "a").write("x"),
    "truncate": lambda: open("/data/invoices.csv", "w"),
    "remove": lambda: os.remove("/data/invoices.csv"),
    "chmod": lambda: os.chmod("/data/invoices.csv", 0o666),
    "new file beside": lambda: open("/data/new.csv", "w"),
    "write in folder": lambda: open("/ref/tables/rates.csv", "a").write("x"),
    "new file in folder": lambda: open("/ref/tables/extra.csv", "w"),
}
outcome = {}
for name, attempt in attempts.items():
    try:
        attempt()
        outcome[name] = "allowed"
    except OSError as exc:
        outcome[name] = exc.strerror
outcome["uid"] = os.getuid()
outcome["content"] = open("/data/invoices.csv").read()
outcome["folder"] = sorted(os.listdir("/ref/tables"))
print(json.dumps(outcome))
"""


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
            "tamper.py": TAMPER,
            "data/invoices.csv": "invoice,amount\nA-1,100\n",
            "data/tables/rates.csv": "currency,rate\nEUR,1.1\n",
            "data/tables/codes.csv": "code\nX\n",
        },
    )
    result = run(path)
    assert result.error is None, result.error
    outcome = json.loads((run_folder(tmp_path, result) / "steps" / "tamper.out").read_text())
    assert outcome.pop("uid") == 0
    assert outcome.pop("content") == "invoice,amount\nA-1,100\n"
    assert outcome.pop("folder") == ["codes.csv", "rates.csv"]
    assert set(outcome.values()) == {"Read-only file system"}, outcome
    host_file = path.parent / "data" / "invoices.csv"
    digests = result.environment["data"]
    assert digests["invoices"] == hashlib.sha256(host_file.read_bytes()).hexdigest()
    assert len(digests["tables"]) == 64
    assert host_file.read_text() == "invoice,amount\nA-1,100\n"  # the original is untouched
