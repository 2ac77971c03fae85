"""The pytest plugin on the real engine, each session a `pytest --poc` of its own (a subprocess,
as a user starts it): the examples as pytest items (under xdist, each scenario file run once),
a must-have not met and a service that will not start, and Ctrl-C while sandboxes are up.
tests/unit/test_pytest_plugin.py covers collection, ids, locations and options with a fake run.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import docker
import pytest

from poc_runner.sandbox import labels
from poc_runner.sandbox.owner import this_user
from tests.unit.test_pytest_plugin import reports

from .conftest import BASE, ROOT, labelled

pytest_plugins = ["pytester"]

EXAMPLE = ROOT / "examples" / "pytest"
OUTCOME = re.compile(r"(PASSED|FAILED|ERROR) +(\S+::\S+)|(\S+::\S+) +(PASSED|FAILED|ERROR)")


def inner(pytester: pytest.Pytester, *args: str) -> list[str]:
    """A `pytest` command line in the pytester's folder, its temporary files there too."""
    basetemp = pytester.path / "basetemp"
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        f"--basetemp={basetemp}",
        *args,
    ]


def outcomes(stdout: str) -> dict[str, str]:
    """Each item's outcome from `-v` lines, plain (`id PASSED`) or xdist's (`PASSED id`). An
    item that failed and then errored in teardown keeps its first outcome."""
    found: dict[str, str] = {}
    for match in OUTCOME.finditer(stdout):
        word, item = (match[1], match[2]) if match[1] else (match[4], match[3])
        found.setdefault(item, word)
    return found


def runs_under(out: Path) -> dict[str, list[Path]]:
    """The run folders under a --poc-out, by scenario."""
    return {
        scenario.name: sorted(result.parent for result in scenario.glob("*/result.json"))
        for scenario in sorted(out.iterdir())
    }


def objects_of_user(client: docker.DockerClient) -> list[str]:
    """The names of every run's objects (containers, networks, volumes) made as this session's
    user (conftest's `a_user_of_its_own`): the `pytest --poc` it starts runs as that user."""
    return [thing.name for thing in labelled(client, user=this_user())]


def test_the_examples_pass_as_pytest_items_each_scenario_run_once_under_xdist(
    pytester: pytest.Pytester, tmp_path: Path, client: docker.DockerClient
) -> None:
    """examples/pytest as a user has it, with scenarios/invoice-dedupe beside its scenario:
    `pytest --poc -n 2 --dist loadfile` runs each scenario file once, on one worker; every
    criterion passes, and the Python tests call the pricing API through poc_sandbox. Its
    pyproject.toml makes every warning an error, as strict projects do: a socket the run left
    open (each command's, once) failed whichever test was running when it was collected."""
    shutil.copytree(EXAMPLE, pytester.path, dirs_exist_ok=True)
    shutil.copytree(
        ROOT / "scenarios" / "invoice-dedupe", pytester.path / "scenarios" / "invoice-dedupe"
    )
    out, junit = tmp_path / "runs", tmp_path / "poc.xml"
    done = pytester.run(
        *inner(pytester, "--poc", "-v", "-p", "xdist", "--dist", "loadfile", "-n", "2",
               "--poc-out", str(out), f"--junitxml={junit}"),
        timeout=600,
    )  # fmt: skip
    text = done.stdout.str()
    assert done.ret == 0, text + done.stderr.str()

    runs = runs_under(out)
    assert {name: len(folders) for name, folders in runs.items()} == {
        "invoice-dedupe": 1,
        "price-lookup": 1,
    }
    expected = {"tests/test_price_api.py::" + name for name in python_tests()}
    for scenario, (folder,) in runs.items():
        result = json.loads((folder / "result.json").read_text())
        assert result["verdict"] == "pass" and all(c["passed"] for c in result["criteria"])
        ids = [c["id"] for c in result["criteria"]] + ["[verdict]"]
        expected |= {f"scenarios/{scenario}/scenario.yaml::{id}" for id in ids}
        assert labelled(client, result["run_id"]) == []
    seen = outcomes(text)
    assert seen == dict.fromkeys(expected, "PASSED")

    workers: dict[str, set[str]] = {}
    for worker, item in re.findall(r"^\[(gw\d)\] .*?(?:PASSED|FAILED|ERROR) +(\S+)::", text, re.M):
        workers.setdefault(item, set()).add(worker)
    assert all(len(found) == 1 for found in workers.values()), workers  # --dist loadfile
    assert len(workers) == 3

    # what JUnit holds is what the run measured, not a figure of the plugin's own
    dedupe = json.loads((runs["invoice-dedupe"][0] / "result.json").read_text())
    recall = next(c for c in dedupe["criteria"] if c["id"] == "recall")
    case = next(
        case
        for case in ET.parse(junit).iter("testcase")
        if case.get("name") == "recall" and "invoice-dedupe" in (case.get("classname") or "")
    )
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["measured"] == json.dumps(recall["measured"])
    assert properties["must"] == "true" and properties["stakeholders"] == "Controller"
    assert properties["run_folder"] == str(runs["invoice-dedupe"][0])
    assert objects_of_user(client) == []  # poc_sandbox's sandbox went at the session's end


def python_tests() -> list[str]:
    source = (EXAMPLE / "tests" / "test_price_api.py").read_text()
    return re.findall(r"^def (test_\w+)\(", source, re.M)


NOT_MET = f"""\
apiVersion: poc-runner/v1
name: short-recall
job:
  statement: When we pay suppliers, we want duplicates caught first.
  stakeholders: [{{role: Controller, wants: No duplicate paid}}]
services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
steps:
  - {{name: detect, service: app, run: "echo '{{\\"recall\\": 0.5}}'"}}
acceptance:
  pass_score: 50
  criteria:
    - id: finishes
      check: {{type: exit_code, step: detect}}
    - id: recall
      title: Catches at least 95% of the duplicates
      for: [Controller]
      must: true
      unit: ratio
      check: {{type: json, step: detect, path: $.recall, op: ">=", value: 0.95}}
"""

WONT_START = f"""\
apiVersion: poc-runner/v1
name: wont-start
services:
  app:
    image: {BASE}
    command: [sh, -c, "echo config missing; sleep 0.3; exit 2"]
    healthcheck: {{test: [CMD, "false"], interval: 1s, retries: 30}}
steps: [{{name: never, service: app, run: "true"}}]
acceptance:
  criteria:
    - {{id: answers, check: {{type: exit_code, step: never}}}}
    - {{id: quick, check: {{type: duration, step: never, op: "<", value: 60}}}}
"""


def test_a_must_have_not_met_fails_at_its_line_and_a_sandbox_error_is_an_error_of_each_item(
    pytester: pytest.Pytester, tmp_path: Path, client: docker.DockerClient
) -> None:
    """One session, two scenario files: one whose must-have is not met (its item fails with
    what was measured, at its line of the YAML file, and so does [verdict]; the other
    criterion passes), one whose service exits as it is brought up (every item an error, with
    the sandbox's message: nothing was judged, so nothing failed)."""
    pytester.path.joinpath("recall.poc.yaml").write_text(NOT_MET)
    pytester.path.joinpath("broken.poc.yaml").write_text(WONT_START)
    out = tmp_path / "runs"
    done = pytester.run(
        *inner(pytester, "--poc", "-v", "recall.poc.yaml", "broken.poc.yaml", "--poc-out", str(out)),
        timeout=300,
    )  # fmt: skip
    text = done.stdout.str()
    assert done.ret == 1, text + done.stderr.str()
    assert outcomes(text) == {
        "recall.poc.yaml::finishes": "PASSED",
        "recall.poc.yaml::recall": "FAILED",
        "recall.poc.yaml::[verdict]": "FAILED",
        "broken.poc.yaml::answers": "ERROR",
        "broken.poc.yaml::quick": "ERROR",
        "broken.poc.yaml::[verdict]": "ERROR",
    }
    assert done.parseoutcomes() == {"passed": 1, "failed": 2, "errors": 3}

    (recall_run,) = runs_under(out)["short-recall"]
    line = NOT_MET.splitlines().index("    - id: recall") + 1
    done.stdout.fnmatch_lines(
        [
            "*_ recall _*",
            f"recall.poc.yaml:{line}: recall not met, a must-have",
            "  Catches at least 95% of the duplicates",
            "  for: Controller",
            "  measured: 50%",
            "  expected: ≥ 95%",
            "  evidence:",
            "    *",
            f"  results: {recall_run}",
            "*_ [[]verdict[]] _*",
            f"recall.poc.yaml:{NOT_MET.splitlines().index('acceptance:') + 1}: verdict FAIL",
            "short-recall: FAIL  score 50 (needs 50)",  # the score is enough; the must-have not
        ]
    )
    for item in ("answers", "quick", r"\[verdict\]"):
        assert re.search(rf"ERROR at setup of {item} _", text), item
    said = re.findall(
        r"broken\.poc\.yaml:\d+: the sandbox failed, nothing was judged", reports(text)
    )
    assert len(said) == 3
    assert "service 'app' stopped (exit code 2)" in text and "config missing" in text

    (broken_run,) = runs_under(out)["wont-start"]  # run once, for its three items
    for folder in (recall_run, broken_run):
        run_id = json.loads((folder / "result.json").read_text())["run_id"]
        assert labelled(client, run_id) == []


HANGING = f"""\
apiVersion: poc-runner/v1
name: hanging
services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
steps: [{{name: wait, service: app, run: "touch /tmp/waiting; sleep 600", timeout: 15m}}]
acceptance:
  criteria: [{{id: done, check: {{type: exit_code, step: wait}}}}]
"""

EXPLORED = f"""\
apiVersion: poc-runner/v1
name: explored
services: {{web: {{image: {BASE}, command: [python3, -m, http.server, "8080"], ports: ["8080"]}}}}
"""


def test_ctrl_c_while_sandboxes_are_up_leaves_nothing(
    pytester: pytest.Pytester, client: docker.DockerClient
) -> None:
    """A Python test brings a sandbox up with poc_sandbox (session scope: it stays up), then a
    scenario's step is running in a sandbox of its own when Ctrl-C comes: pytest ends as
    interrupted, and neither sandbox leaves anything behind."""
    pytester.path.joinpath("hanging").mkdir()
    pytester.path.joinpath("hanging", "scenario.yaml").write_text(HANGING)
    pytester.path.joinpath("explored").mkdir()
    pytester.path.joinpath("explored", "scenario.yaml").write_text(EXPLORED)
    pytester.makepyfile(
        test_explore="""
        def test_the_sandbox_is_up(poc_sandbox):
            assert poc_sandbox("explored").services == ["web"]
        """
    )
    assert objects_of_user(client) == []
    process = subprocess.Popen(
        inner(pytester, "--poc", "-v", "test_explore.py", "hanging"),
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        step = waiting_step(client, process)
        explored = sandbox_of(client, "explored")
        assert explored and step.status == "running"
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == pytest.ExitCode.INTERRUPTED, stdout
    assert "KeyboardInterrupt" in stdout and "Traceback" not in stdout
    assert "test_explore.py::test_the_sandbox_is_up PASSED" in stdout
    assert objects_of_user(client) == []


def sandbox_of(client: docker.DockerClient, scenario: str) -> list[str]:
    """The containers this session's user has up for a scenario."""
    selector = [f"{labels.SCENARIO}={scenario}", f"{labels.USER}={this_user()}"]
    return [c.name for c in client.containers.list(filters={"label": selector})]


def waiting_step(
    client: docker.DockerClient, process: subprocess.Popen[str]
) -> docker.models.containers.Container:
    """The hanging scenario's container, once its step is running in it."""
    selector = [f"{labels.SCENARIO}=hanging", f"{labels.USER}={this_user()}"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = process.communicate()[0]
            pytest.fail(f"pytest ended first (exit {process.returncode}):\n{said}")
        for container in client.containers.list(filters={"label": selector}):
            if container.exec_run(["test", "-e", "/tmp/waiting"]).exit_code == 0:
                return container
        time.sleep(0.2)
    pytest.fail("the step did not start within 180 s")
