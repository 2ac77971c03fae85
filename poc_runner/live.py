"""Exploring a scenario's stack by hand: `poc up`, `poc shell`, `poc down`.

`poc up` starts the services (no steps) and leaves them running, labelled as kept, with their
declared `ports` published on 127.0.0.1 only, through forwarders (sandbox/forwarder.py): the
services stay on the run's isolated network. `poc shell` opens a shell in one of them through
the docker CLI (an interactive terminal is its job), and `poc down` removes the sandbox.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from poc_runner.engine import connect
from poc_runner.errors import InvalidInput, SandboxError
from poc_runner.model import Scenario
from poc_runner.progress import Progress, services_of
from poc_runner.run import load
from poc_runner.sandbox import labels
from poc_runner.sandbox.lifecycle import Sandbox
from poc_runner.sandbox.reaper import Swept, sweep
from poc_runner.sandbox.reuse import find_kept, refuse_if_up
from poc_runner.sandbox.uplock import bringing_up
from poc_runner.validation.findings import did_you_mean


@dataclass
class Started:
    scenario: Scenario
    run_id: str
    endpoints: dict[str, list[str]]  # service -> "127.0.0.1:49153 -> 8080/tcp"
    sandbox: Sandbox  # what is up: to run commands in it, or remove it (the Python API)


def up(path: Path, variables: Mapping[str, str], progress: Progress) -> Started:
    scenario = load(path, variables)
    client = connect()
    with bringing_up(scenario.name, "`poc up`", str(path)):  # one at a time (uplock.py)
        refuse_if_up(client, scenario.name, str(path))
        run_id = labels.new_run_id()
        sandbox = Sandbox(
            client,
            scenario,
            path.parent,
            run_id,
            kept=True,
            publish=True,
            report=services_of(progress, scenario.name),
        )
        try:
            sandbox.up()
        except BaseException:
            sandbox.down()
            raise
    endpoints = {name: sandbox.endpoints(name) for name in sandbox.containers}
    return Started(scenario, run_id, endpoints, sandbox)


def shell(path: Path, service: str, command: list[str]) -> NoReturn:
    """Replace this process with `docker exec`: an interactive shell, or `command`, whose exit
    code becomes this one's. A terminal is asked for only when there is one (`-t`), so a
    command runs from a script or CI too; the input is passed on either way (`-i`)."""
    scenario = scenario_of(path)
    if service not in scenario.services:
        raise InvalidInput(
            f"{path} has no service {service!r}{did_you_mean(service, scenario.services)};"
            f" its services: {', '.join(scenario.services)}"
        )
    kept = find_kept(connect(), scenario, str(path))
    container = kept.containers[service]
    if container.status != "running":
        raise SandboxError(
            f"service {service!r} of the sandbox left up by run {kept.run_id} is"
            f" {container.status}, so there is nothing to open: run `poc down {path}`, then"
            f" `poc up {path}`"
        )
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        raise SandboxError("`poc shell` needs the docker command-line client on PATH")
    pick = "command -v bash >/dev/null && exec bash || exec sh"
    terminal = ["-t"] if sys.stdin.isatty() and sys.stdout.isatty() else []
    argv = command or ["/bin/sh", "-c", pick]
    os.execv(docker_cli, ["docker", "exec", "-i", *terminal, str(container.id), *argv])


def down(path: Path) -> Swept:
    scenario = scenario_of(path)
    return sweep(
        connect(), include_kept=True, only_kept=True, scenario=scenario.name, by="`poc down`"
    )


def scenario_of(path: Path) -> Scenario:
    """The scenario a live command refers to; its secrets are not needed for that."""
    return load(path, {}, secrets=False)
