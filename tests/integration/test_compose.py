"""The Compose example runs for real (spec, "compose"): the vendor's file unchanged, with a
`--var` over its `${VAR:-default}`; data in a named volume survives from the migration job to
the API; the host's bind-mounted folder is unchanged afterwards; the profile's service never
starts; and a mistyped `--var` is refused with the name meant."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from poc_runner.result import RunResult

from .conftest import poc, run_folder

EXAMPLE = Path(__file__).parents[2] / "scenarios" / "stock-alerts"


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_vendors_compose_file_runs_unchanged_with_a_var_over_its_default(
    run: Callable[..., RunResult], tmp_path: Path
) -> None:
    seed = EXAMPLE / "deploy" / "seed"
    before = tree_digest(seed)
    result = run(EXAMPLE / "scenario.yaml", variables={"LOW_STOCK": "3"})
    assert result.error is None, result.error
    report = json.loads(
        (run_folder(tmp_path, result) / "artifacts" / "tmp" / "report.json").read_text()
    )
    assert report["threshold"] == 3  # `--var LOW_STOCK=3` over `${LOW_STOCK:-5}`
    assert report["low"] == ["A-101", "B-200"]
    assert report["migrated"] == 6  # written by the job into a named volume, read by the API
    assert report["title"] == "Low stock report"  # from the service's env_file
    assert report["alert_channel"] == "email"  # the config file, bound read-only
    assert set(result.environment["images"]) == {"db", "migrate", "api"}  # not `pgweb`
    assert {c.id for c in result.criteria if not c.passed} == {"flags-low-stock"}
    assert tree_digest(seed) == before  # the job appended to its copy, never to the host's


def test_a_mistyped_var_is_refused_with_the_name_meant() -> None:
    result = poc("run", "--var", "LOW_STOK=3", str(EXAMPLE))
    assert result.returncode == 2
    assert "did you mean 'LOW_STOCK'?" in result.stderr
