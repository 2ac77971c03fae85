"""A scenario's services up, from Python (`poc_runner.sandbox`): `poc up` ... `poc down`.

    with poc_runner.sandbox("scenarios/acme") as sb:
        sb.exec("db", "psql -c 'select 1'")
        requests.get(sb.url("api", 8080) + "/health")
        result = sb.run()

The sandbox is what `poc up` makes: hardened, on its own network with no route out, its data
copied in, its declared ports published on 127.0.0.1 only (through forwarders: the services
stay isolated). Leaving the block removes everything, also on an exception or Ctrl-C. Without
a `with`, it stays up until `.down()` (or `poc down`), as `poc up` leaves it; `reuse=True`
takes the sandbox `poc up` left up instead, and leaves it up.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from poc_runner._api import PathLike, public, scenario_file
from poc_runner.errors import InvalidInput, PocError, SandboxError

if TYPE_CHECKING:
    from poc_runner._runs import Live
    from poc_runner.events import OnEvent
    from poc_runner.model import Scenario
    from poc_runner.result import RunResult


@dataclass(frozen=True)
class ExecResult:
    """A command's outcome in a service: its exit code (None when it was stopped at its
    timeout: `timed_out`), and what it wrote (secrets masked; over 2 MiB, the first and the
    last MiB with a line saying how much was cut)."""

    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool = False


_ENDPOINT = re.compile(r"(?P<host>[^\s]+):(?P<port>\d+) -> (?P<target>\d+)/(?P<protocol>\w+)")
_OPEN: dict[str, LiveSandbox] = {}  # scenario name -> its sandbox this process has up
_GUARD = threading.Lock()


@public
def sandbox(
    path: PathLike,
    *,
    variables: Mapping[str, str] | None = None,
    reuse: bool = False,
    on_event: OnEvent | None = None,
) -> LiveSandbox:
    """A scenario's services up, as `poc up` starts them (no steps), its declared ports on
    127.0.0.1. Use it as a context manager: leaving the block removes it. `reuse=True`: the
    sandbox `poc up` left up instead, left up afterwards. `on_event`: progress as Events."""
    from poc_runner import _runs
    from poc_runner._api import _names_to_text

    file, values = scenario_file(path), _names_to_text(variables)
    if reuse:
        live = _runs.attach(file, _runs.load(file, values), on_event)
        return LiveSandbox(live, values)
    live = _runs.up(file, values, on_event)
    opened = LiveSandbox(live, values)
    with _GUARD:
        other = _OPEN.setdefault(live.scenario.name, opened)
    if other is not opened:  # this process's own are not refused by the engine's labels
        problems = _runs.down(live)
        raise SandboxError(
            f"{live.scenario.name} is up already in this process (run {other.run_id}): use that"
            " sandbox, or leave its block (or call .down()) first"
            + (f"; could not remove the second: {'; '.join(problems)}" if problems else "")
        )
    return opened


class LiveSandbox:
    """A sandbox that is up: run commands in its services, reach their published ports, run
    the scenario's steps and criteria on it, remove it."""

    def __init__(self, live: Live, variables: Mapping[str, str]) -> None:
        self._live = live
        self._variables = dict(variables)
        self._endpoints = live.endpoints
        self._removed = False

    @property
    def scenario(self) -> Scenario:
        return self._live.scenario

    @property
    def run_id(self) -> str:
        """The run that brought it up (`poc history`, `docker ps --filter label=...`)."""
        return self._live.run_id

    @property
    def services(self) -> list[str]:
        """The services' names, in the scenario's order."""
        return list(self._live.scenario.services)

    @property
    def endpoints(self) -> dict[str, list[str]]:
        """Each service's published ports: `127.0.0.1:49153 -> 8080/tcp` (as `poc up` says)."""
        return {service: list(found) for service, found in self._endpoints.items()}

    @public
    def exec(self, service: str, cmd: str | list[str], timeout: float = 60) -> ExecResult:
        """Run a command in a service: text through `sh -c`, a list as the argv itself. Its
        exit code is the result's, not an error; a service that stopped is a SandboxError."""
        from poc_runner import _runs

        self._check(service)
        argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else [str(part) for part in cmd]
        if not argv:
            raise InvalidInput("exec needs a command: text for `sh -c`, or a non-empty list")
        outcome = _runs.execute(self._live, service, argv, timeout)
        return ExecResult(
            outcome.exit_code, outcome.stdout.text(), outcome.stderr.text(), outcome.timed_out
        )

    def url(self, service: str, port: int) -> str:
        """`http://127.0.0.1:49153`: where this machine reaches a service's declared port."""
        self._check(service)
        declared = self._live.scenario.services[service].ports
        for endpoint in self._endpoints.get(service, []):
            found = _ENDPOINT.match(endpoint)
            if found and int(found["target"]) == port and found["protocol"] == "tcp":
                if "on the engine's machine" in endpoint:
                    raise SandboxError(
                        f"port {port} of {service} is published on the engine's machine"
                        f" ({endpoint}), not this one: forward it here (`ssh -L"
                        f" {found['port']}:127.0.0.1:{found['port']} HOST`)"
                    )
                return f"http://{found['host']}:{found['port']}"
        raise InvalidInput(
            f'service {service!r} publishes no TCP port {port}: add `ports: ["{port}"]` to it'
            f" in the scenario (its ports: {', '.join(declared) or 'none'})"
        )

    @public
    def run(
        self,
        out: PathLike | None = None,
        *,
        history: bool = False,
        pdf: bool = False,
        on_event: OnEvent | None = None,
    ) -> RunResult:
        """The scenario's steps and criteria on this sandbox, as `poc run --reuse`: only
        changed data is copied again, and the sandbox stays up."""
        from poc_runner._api import run

        self._check()
        return run(
            self._live.path,
            variables=self._variables,
            out=out,
            reuse=True,
            history=history,
            pdf=pdf,
            on_event=on_event,
        )

    @public
    def down(self) -> None:
        """Remove everything (again: nothing); a SandboxError names what could not go."""
        from poc_runner import _runs

        if self._removed:
            return
        self._removed = True
        with _GUARD:
            if _OPEN.get(self.scenario.name) is self:
                del _OPEN[self.scenario.name]
        problems = _runs.down(self._live)
        if problems:
            raise SandboxError("could not remove: " + "; ".join(problems) + " (run `poc clean`)")

    def __enter__(self) -> LiveSandbox:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Remove the sandbox this block brought up (one found left up stays up). A failure
        to remove it is raised, or, when the block itself failed, noted on that error."""
        if not self._live.started_here:
            return
        try:
            self.down()
        except PocError as problem:
            if exc is None:
                raise
            exc.add_note(f"and the sandbox: {problem}")

    def __repr__(self) -> str:
        state = "removed" if self._removed else "up"
        return f"<LiveSandbox {self.scenario.name} run {self.run_id} {state}>"

    def _check(self, service: str | None = None) -> None:
        if self._removed:
            raise SandboxError(f"the sandbox of {self.scenario.name} was removed (.down())")
        if service is not None and service not in self._live.scenario.services:
            from poc_runner.validation.findings import did_you_mean

            raise InvalidInput(
                f"{self.scenario.name} has no service {service!r}"
                f"{did_you_mean(service, self.services)}; its services: {', '.join(self.services)}"
            )
