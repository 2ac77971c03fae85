"""Exploring a scenario's stack by hand: `poc up`, `poc shell`, `poc down`, and the same for a
Python caller (a live sandbox: its services, a command in one, where its ports answer).

`up` starts the services (no steps) and leaves them running, labelled as kept, with their
declared `ports` published on 127.0.0.1 only, through forwarders (backends/docker/forwarder.py):
the services stay on the run's isolated network. `shell` opens a shell in one of them (through
the docker CLI: an interactive terminal is its job), `exec` runs a command there and returns
how it ended, and `down` removes the sandbox. Nothing here prints: each returns a record.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from poc_runner.backend import Endpoint, Engine, Outcome, Reservation, SandboxOptions, Swept
from poc_runner.backends import default_engine
from poc_runner.errors import InvalidInput
from poc_runner.events import OnEvent
from poc_runner.interrupts import signals_ignored
from poc_runner.pipeline import claim, plan_of, refuse_if_up

if TYPE_CHECKING:
    from poc_runner.backend import Sandbox
    from poc_runner.model import Scenario


@dataclass(frozen=True)
class Live:
    """A sandbox left up: its scenario and run, its services, and where their published ports
    answer (service -> endpoints, none for a service without ports)."""

    scenario: str
    run_id: str
    services: tuple[str, ...]
    endpoints: Mapping[str, tuple[Endpoint, ...]]


def up(
    path: Path,
    variables: Mapping[str, str] | None = None,
    *,
    on_event: OnEvent | None = None,
    engine: Engine | None = None,
) -> Live:
    """Start the scenario's services and leave them up (`poc up`): one sandbox per scenario,
    refused while another is up or coming up. A start-up that fails, or is interrupted,
    removes what it made."""
    return describe(start(path, variables, on_event=on_event, engine=engine))


def start(
    path: Path,
    variables: Mapping[str, str] | None = None,
    *,
    on_event: OnEvent | None = None,
    engine: Engine | None = None,
) -> Sandbox:
    """`up`, returning the sandbox itself, for a caller that goes on using it (the Python
    API's `sandbox()`: commands in it, then its removal object by object)."""
    from poc_runner.sandbox.labels import new_run_id
    from poc_runner.sandbox.uplock import bringing_up

    engine = engine or default_engine()
    reservation: Reservation | None = None
    sandbox: Sandbox | None = None
    try:
        with engine.reserve([path], keep=True) as reserved:  # while the file is validated
            plan = plan_of(path, variables or {})
            reservation = claim(reserved, path, plan)
        with bringing_up(plan.name, "`poc up`", str(path), engine.address):  # one at a time
            refuse_if_up(engine, plan.name, path)
            sandbox = engine.sandbox(
                plan,
                reservation.run_id if reservation else new_run_id(),
                options=SandboxOptions(keep=True, publish=True, timed=False, watch=False),
                on_event=on_event,
                reservation=reservation,
            )
            sandbox.up()
    except BaseException:
        with signals_ignored():
            if sandbox is not None:
                sandbox.down()  # what its head start made too
            elif reservation is not None:
                reservation.discard()
        raise
    return sandbox


def attach(
    scenario: Scenario,
    path: Path,
    *,
    on_event: OnEvent | None = None,
    engine: Engine | None = None,
) -> Sandbox:
    """The sandbox left up for a scenario already loaded (with its secrets), refused
    (InvalidInput, naming what changed) when its services are no longer the scenario's."""
    from poc_runner.plan import plan_sandbox

    plan = plan_sandbox(scenario, path.parent)
    return (engine or default_engine()).kept(plan, path, on_event=on_event)


def describe(sandbox: Sandbox) -> Live:
    """A live sandbox as a record: its services and where their published ports answer."""
    found = sandbox.endpoints()
    return Live(
        sandbox.scenario.name,
        sandbox.run_id,
        tuple(sandbox.scenario.services),
        {name: tuple(endpoints) for name, endpoints in found.items()},
    )


def kept(path: Path, service: str | None = None, *, engine: Engine | None = None) -> Sandbox:
    """The sandbox left up for the scenario (its secrets are not needed to find it), as it
    was started: a scenario changed since is not refused here (`poc shell` still opens it).
    With `service`, InvalidInput first when the scenario has no such service."""
    plan = plan_of(path, {}, secrets=False)
    if service is not None and service not in plan.services:
        from poc_runner.validation.findings import did_you_mean

        raise InvalidInput(
            f"{path} has no service {service!r}{did_you_mean(service, plan.services)};"
            f" its services: {', '.join(plan.services)}"
        )
    return (engine or default_engine()).kept(plan, path, checked=False)


def find(path: Path, *, engine: Engine | None = None) -> Live:
    """The sandbox left up for the scenario, as `up` returned it: where its ports answer."""
    return describe(kept(path, engine=engine))


def exec(
    path: Path,
    service: str,
    argv: list[str],
    timeout: float = 60.0,
    *,
    engine: Engine | None = None,
) -> Outcome:
    """Run `argv` in a service of the sandbox left up; how it ended, and what it printed."""
    return kept(path, service, engine=engine).exec(service, argv, timeout)


def shell(path: Path, service: str, command: list[str]) -> NoReturn:
    """Become the command that opens a shell in the service (or runs `command` there, its exit
    code then this one's). A terminal is asked for only when there is one, so a command runs
    from a script or CI too; the input is passed on either way."""
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    argv = kept(path, service).shell(service, command, terminal=terminal)
    os.execv(argv[0], argv)


def down(path: Path, *, engine: Engine | None = None) -> Swept:
    """Remove the sandbox `poc up` (or `poc run --keep`) left up for the scenario."""
    engine = engine or default_engine()
    scenario = plan_of(path, {}, secrets=False).name
    return engine.sweep(include_kept=True, only_kept=True, scenario=scenario, by="`poc down`")


__all__ = ["Live", "attach", "describe", "down", "exec", "find", "kept", "shell", "start", "up"]
