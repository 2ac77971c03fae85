"""The compliance test: every engine behind the seam (backend.Engine, backend.Sandbox) does
what the pipeline relies on, the fake in memory as Docker's on a real engine (marked `docker`),
as testcontainers holds each of its containers to one contract.

The fake runs nothing: its script replies to the few commands this test sends as a shell
would, so the same assertions hold for both. What is held: a sandbox is made by `up()` and
not before; a command's exit code, output (into the captures given), and timeout; a file a
command wrote comes out with `copy_out` (a file or a folder), an absent one does not; logs;
published ports; a sandbox left up is found (`left_up`, `kept`), reused without being
removed by its user's `down()`, and removed by a sweep; `down()` twice is harmless."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from poc_runner.backend import (
    Endpoint,
    Engine,
    EngineInfo,
    Outcome,
    Provisioned,
    Reservation,
    Sandbox,
    SandboxOptions,
)
from poc_runner.backends import engine as engine_named
from poc_runner.backends.fake import Call, FakeEngine, Reply, Script
from poc_runner.errors import InvalidInput
from poc_runner.pipeline import plan_of
from poc_runner.plan import SandboxPlan
from poc_runner.sandbox.capture import Capture
from poc_runner.sandbox.labels import new_run_id

SCENARIO = """\
apiVersion: poc-runner/v1
name: {name}
data:
  - {{name: numbers, path: data/numbers.txt, mount: /data/numbers.txt}}
services:
  app:
    image: poc-runner/base:bookworm
    command: ["sleep", "infinity"]
    ports: ["8080"]
steps:
  - {{name: work, service: app, run: "true", artifacts: [/out]}}
acceptance:
  criteria:
    - {{id: ran, check: {{type: exit_code, step: work}}}}
"""
SAYS = "echo said; echo complained >&2; exit 3"
WRITES = "mkdir -p /out/dir && echo 42 > /out/dir/n.txt && echo 7 > /out/one.txt"
READS = "cat /data/numbers.txt"
SLOW = ["sleep", "30"]


def as_a_shell(call: Call) -> Reply:
    """The fake's replies to this test's commands, as /bin/sh in the service gives them."""
    if call.line == SAYS:
        return Reply(3, "said\n", "complained\n")
    if call.line == WRITES:
        return Reply(writes={"/out/dir/n.txt": "42\n", "/out/one.txt": "7\n"})
    if call.line == READS:
        return Reply(stdout="1\n2\n3\n")
    if list(call.argv) == SLOW:
        return Reply(duration_s=30.0)
    return Reply(127, stderr=f"sh: {call.line}: not found\n")


@pytest.fixture(params=["fake", pytest.param("docker", marks=pytest.mark.docker)])
def engine(request: pytest.FixtureRequest) -> Engine:
    if request.param == "fake":
        return FakeEngine(Script(as_a_shell))
    return engine_named("docker")


@pytest.fixture
def plan(tmp_path: Path) -> SandboxPlan:
    folder = tmp_path / "compliance"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "numbers.txt").write_text("1\n2\n3\n")
    name = f"compliance-{uuid.uuid4().hex[:8]}"
    (folder / "scenario.yaml").write_text(SCENARIO.format(name=name))
    return plan_of(folder / "scenario.yaml", {})


@pytest.fixture
def sandboxes() -> Iterator[list[Sandbox]]:
    """Every sandbox a test makes is removed after it, whatever it asserted."""
    made: list[Sandbox] = []
    yield made
    for sandbox in made:
        sandbox.down()


def test_an_engine_describes_itself(engine: Engine) -> None:
    assert isinstance(engine, Engine)
    info = engine.describe()
    assert isinstance(info, EngineInfo) and info.version and info.kind
    assert engine.answers()
    assert isinstance(engine.address, str) and engine.address


def test_a_head_start_is_discarded_unless_taken(engine: Engine, plan: SandboxPlan) -> None:
    path = plan.folder / "scenario.yaml"
    with engine.reserve([path], keep=False) as reserved:
        for reservation in reserved.values():
            assert isinstance(reservation, Reservation) and reservation.run_id
    assert engine.left_up(plan.name) == set()


def test_a_sandbox_runs_commands_and_gives_back_what_they_wrote(
    engine: Engine, plan: SandboxPlan, sandboxes: list[Sandbox], tmp_path: Path
) -> None:
    run_id = new_run_id()
    sandbox = engine.sandbox(plan, run_id)
    sandboxes.append(sandbox)
    assert isinstance(sandbox, Sandbox)
    assert (sandbox.run_id, sandbox.reused, sandbox.scenario.name) == (run_id, False, plan.name)

    provisioned = sandbox.up()
    assert isinstance(provisioned, Provisioned)
    assert set(provisioned.images) == {"app"} and set(provisioned.data_sha256) == {"numbers"}
    assert sandbox.made() == provisioned
    assert 0 < sandbox.remaining() <= plan.timeout

    out, err = Capture(), Capture()
    said = sandbox.exec("app", ["/bin/sh", "-c", SAYS], 30, stdout=out, stderr=err)
    assert isinstance(said, Outcome)
    assert (said.exit_code, said.timed_out) == (3, False)
    assert (out.text(), err.text()) == ("said\n", "complained\n")
    assert said.stdout.text() == "said\n"
    assert sandbox.exec("app", ["/bin/sh", "-c", READS], 30).stdout.text() == "1\n2\n3\n"

    slow = sandbox.exec("app", SLOW, 0.5)
    assert (slow.exit_code, slow.timed_out) == (None, True)
    assert slow.duration_s < 10

    assert sandbox.exec("app", ["/bin/sh", "-c", WRITES], 30).exit_code == 0
    into = tmp_path / "artifacts"
    assert sandbox.copy_out("app", "/out/one.txt", into)
    assert (into / "out" / "one.txt").read_text() == "7\n"
    assert sandbox.copy_out("app", "/out/dir", into)
    assert (into / "out" / "dir" / "n.txt").read_text() == "42\n"
    assert not sandbox.copy_out("app", "/out/never.txt", into)
    assert sandbox.uncleared() == {}

    assert sandbox.incidents() == [] and sandbox.fault(read=True) is None
    sandbox.save_logs(tmp_path / "logs")
    assert (tmp_path / "logs" / "app.log").is_file()
    assert sandbox.endpoints() == {"app": []}  # published only when asked
    assert isinstance(sandbox.shell("app", ["ls"], terminal=False), list)

    assert sandbox.down() == []
    assert sandbox.down() == []  # twice is harmless
    assert engine.left_up(plan.name) == set()


def left_up(engine: Engine, plan: SandboxPlan, sandboxes: list[Sandbox]) -> Sandbox:
    """A sandbox brought up and kept, as `poc up` leaves one (removed by the fixture)."""
    options = SandboxOptions(keep=True, publish=True, timed=False, watch=False)
    kept = engine.sandbox(plan, new_run_id(), options=options)
    sandboxes.append(kept)
    kept.up()
    return kept


def test_a_sandbox_left_up_is_found_reused_and_swept(
    engine: Engine, plan: SandboxPlan, sandboxes: list[Sandbox]
) -> None:
    path = plan.folder / "scenario.yaml"
    kept = left_up(engine, plan, sandboxes)
    assert engine.left_up(plan.name) == {kept.run_id}
    (published,) = kept.endpoints()["app"]
    assert isinstance(published, Endpoint) and published.service_port == 8080

    again = engine.kept(plan, path)
    assert (again.run_id, again.reused) == (kept.run_id, True)
    again.up()  # a reused sandbox: its data brought up to date, its artifact paths cleared
    assert again.exec("app", ["/bin/sh", "-c", READS], 30).exit_code == 0
    assert again.down() == []  # a reused sandbox stays up
    assert engine.left_up(plan.name) == {kept.run_id}

    swept = engine.sweep(include_kept=True, only_kept=True, scenario=plan.name, by="the test")
    assert swept.removed and not swept.problems
    assert engine.left_up(plan.name) == set()
    with pytest.raises(InvalidInput, match="is not up"):
        engine.kept(plan, path)


def test_a_sandbox_left_up_refuses_a_scenario_whose_services_changed(
    engine: Engine, plan: SandboxPlan, sandboxes: list[Sandbox]
) -> None:
    path = plan.folder / "scenario.yaml"
    left_up(engine, plan, sandboxes)
    changed = path.read_text().replace('"infinity"]', '"infinity"]\n    working_dir: /srv')
    path.write_text(changed)
    with pytest.raises(InvalidInput, match="changed since the sandbox was brought up"):
        engine.kept(plan_of(path, {}), path)
