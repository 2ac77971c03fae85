"""Evidence belongs to the run, on the engine: a step that crashed proves nothing by its speed,
and a reused sandbox cannot pass a criterion on a file an earlier run left there."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from poc_runner.result import RunResult

from .conftest import BASE, ScenarioFactory, poc, results_of, run_folder

CRASHING = f"""\
job:
  statement: When we close the month, we want the bank lines reconciled.
  stakeholders: [{{role: Controller, wants: Reconciled before the close}}]
services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
steps:
  - {{name: reconcile, service: app, run: "echo starting; exit 1"}}
acceptance:
  criteria:
    - id: under-two-minutes
      for: [Controller]
      must: true
      baseline: {{value: 24h}}
      check: {{type: duration, step: reconcile, op: "<", value: 2m}}
    - id: started
      title: It starts on the extract
      for: [Controller]
      headline: true
      check: {{type: output, step: reconcile, contains: starting}}
"""


def test_a_crashed_step_does_not_meet_its_duration_criterion_and_the_report_leads_with_it(
    scenario: ScenarioFactory, run: Callable[..., RunResult], tmp_path: Path
) -> None:
    """It once read `PASS under-two-minutes (must): 0.123 s, expected < 2 min, 24 h -> 0.123 s`,
    and a failing report's executive summary began with what was met."""
    result = run(scenario(CRASHING, name="crashed"))
    (step,) = result.steps
    assert (step.exit_code, step.timed_out) == (1, False)
    quick, started = result.criteria
    assert not quick.passed and started.passed  # what the failed step printed is judged
    assert (quick.measured, quick.improvement) == (None, None)
    assert quick.evidence == "step 'reconcile' failed (exit 1): its duration proves nothing"
    assert result.verdict == "fail"
    html = (run_folder(tmp_path, result) / "report.html").read_text()
    summary = html.split('<section class="executive" aria-label="Executive summary">', 1)[1]
    paragraph = summary.split("<p>", 1)[1].split("</p>", 1)[0]
    assert paragraph.startswith(
        "Not met: under-two-minutes (must-have): not measured (step &#x27;reconcile&#x27;"
        " failed (exit 1): its duration proves nothing), where &lt; 2 min was needed."
    ), paragraph
    assert paragraph.index("Not met:") < paragraph.index("1 of 2 criteria met")
    assert paragraph.index("1 of 2 criteria met") < paragraph.index("Met: It starts on")


# The step writes its summary (and a file in a tmpfs folder) only when `mode` is ok.
REUSED = f"""\
vars: {{mode: ok}}
services:
  app: {{image: {BASE}, command: [sleep, infinity], tmpfs: [/out]}}
steps:
  - name: reconcile
    service: app
    run: >-
      test "${{mode}}" = ok || {{ echo "HTTPError 404" >&2; exit 1; }};
      mkdir -p /tmp/poc && echo '{{"match_rate": 0.997}}' > /tmp/poc/summary.json &&
      echo done > /out/marker.txt
    artifacts: [/tmp/poc/summary.json, /out]
acceptance:
  criteria:
    - {{id: match-rate, check: {{type: json, artifact: /tmp/poc/summary.json, path: $.match_rate, op: ">=", value: 0.99}}}}
    - {{id: marker, check: {{type: file, artifact: /out/marker.txt}}}}
"""


@pytest.fixture
def kept(own_user: str, scenario: ScenarioFactory) -> Iterator[Path]:
    path = scenario(REUSED, name="stale-evidence")
    started = poc("up", str(path))
    assert started.returncode == 0, started.stdout + started.stderr
    yield path
    poc("down", str(path))


def test_a_reused_run_whose_step_fails_cannot_pass_on_the_earlier_runs_artifact(
    kept: Path, tmp_path: Path
) -> None:
    out = str(tmp_path / "runs")
    first = poc("run", "--reuse", str(kept), "--out", out)
    assert first.returncode == 0, first.stdout + first.stderr  # it wrote both files
    broken = poc("run", "--reuse", str(kept), "--out", out, "--var", "mode=broken")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    result = results_of(broken.stdout)
    criteria = {criterion["id"]: criterion for criterion in result["criteria"]}
    assert not criteria["match-rate"]["passed"] and not criteria["marker"]["passed"]
    assert criteria["match-rate"]["measured"] is None
    assert criteria["match-rate"]["evidence"] == (
        "artifact /tmp/poc/summary.json was not produced: step 'reconcile' ran but did not write"
        " it (step 'reconcile' failed (exit 1))"
    )
    assert criteria["marker"]["evidence"].startswith("artifact /out/marker.txt was not produced")
    again = poc("run", "--reuse", str(kept), "--out", out)  # the tmpfs folder was emptied, not gone
    assert again.returncode == 0, again.stdout + again.stderr
