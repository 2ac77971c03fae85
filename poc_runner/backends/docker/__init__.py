"""The Docker engine, local or remote, behind the seam (backend.Engine): the only package that
talks to the docker SDK.

Its modules, by what they do:

- reaching the engine: client.py (one connection, as the docker CLI chooses the engine),
  contexts.py, sshlink.py (`ssh://` engines), errors.py (what the SDK's errors mean);
- making a sandbox: sandbox.py (DockerSandbox: up, exec, down), headstart.py and holder.py
  (the network and holders made while the file is validated), network.py, images.py and
  buildkey.py, data.py and datacache.py (the data, copied once), volumes.py (Compose's
  volumes), hardening.py (the plan's confinement as the engine takes it), forwarder.py and
  portclash.py (`poc up`'s ports);
- running commands: execute.py, stopper.py (a timeout that really ends a command),
  streams.py (builds cut short by a teardown), health.py, artifacts.py, netprobe.py;
- watching and removing: servicewatch.py, objects.py (create, list, remove: each once),
  sweep.py (dead runs' leftovers, `poc clean`), reuse.py (a sandbox left up);
- describing and preparing the engine: doctor.py (`poc doctor`), setup/ (`poc setup`).

Importing this package imports nothing heavy: the docker SDK loads when the engine is reached.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from poc_runner.backend import EngineInfo, Reservation, SandboxOptions, Swept
from poc_runner.backends.docker import errors as _errors  # noqa: F401  (registers its words)
from poc_runner.errors import PocError
from poc_runner.events import OnEvent

if TYPE_CHECKING:
    import docker

    from poc_runner.backends.docker.sandbox import DockerSandbox
    from poc_runner.plan import SandboxPlan
    from poc_runner.setup.request import Made, Request


class DockerEngine:
    """A Docker engine, through one docker SDK client, made on first use: the engine the
    docker CLI would use (DOCKER_HOST, a context), or the client given. Until a command needs
    the engine nothing is asked of it, so a file that is not valid is said to be so even when
    no engine answers."""

    def __init__(self, client: docker.DockerClient | None = None) -> None:
        self._client = client
        self._connecting = threading.Lock()

    @property
    def client(self) -> docker.DockerClient:
        """The connection; SandboxError, saying what to do, when no engine answers."""
        with self._connecting:
            if self._client is None:
                from poc_runner.backends.docker.client import connect

                self._client = connect()
            return self._client

    @property
    def address(self) -> str:
        from poc_runner.backends.docker.client import address

        return address()

    def describe(self) -> EngineInfo:
        from poc_runner.backends.docker.client import read_info

        return read_info(self.client)

    def answers(self) -> bool:
        from poc_runner.backends.docker.client import answers

        return answers(self.client)

    def reserve(
        self, paths: Sequence[Path], *, keep: bool
    ) -> AbstractContextManager[dict[Path, Reservation]]:
        """Head starts (headstart.py); none when no engine answers (the run says so once the
        files are validated, as it would have)."""
        from poc_runner.backends.docker.headstart import head_starts

        return head_starts(self._reachable, paths, keep=keep)  # type: ignore[return-value]

    def _reachable(self) -> docker.DockerClient | None:
        try:
            return self.client
        except PocError:
            return None

    def sandbox(
        self,
        plan: SandboxPlan,
        run_id: str,
        *,
        options: SandboxOptions | None = None,
        on_event: OnEvent | None = None,
        reservation: Reservation | None = None,
    ) -> DockerSandbox:
        from poc_runner.backends.docker.headstart import HeadStart
        from poc_runner.backends.docker.sandbox import DockerSandbox

        head = reservation if isinstance(reservation, HeadStart) else None
        return DockerSandbox(
            self.client, plan, run_id, options=options, on_event=on_event, head=head
        )

    def kept(
        self,
        plan: SandboxPlan,
        path: Path,
        *,
        on_event: OnEvent | None = None,
        checked: bool = True,
    ) -> DockerSandbox:
        from poc_runner.backends.docker.sandbox import DockerSandbox

        return DockerSandbox.kept_for(self.client, plan, path, on_event=on_event, checked=checked)

    def left_up(self, scenario: str, *, others_only: bool = False) -> set[str]:
        from poc_runner.backends.docker.reuse import left_up

        return left_up(self.client, scenario, others_only=others_only)

    def sweep(
        self,
        *,
        include_kept: bool,
        scenario: str | None = None,
        only_kept: bool = False,
        everyone: bool = False,
        images: bool = False,
        cache: bool = False,
        by: str = "a sweep of ended runs",
    ) -> Swept:
        from poc_runner.backends.docker.sweep import caches, sweep

        swept = sweep(
            self.client,
            include_kept=include_kept,
            scenario=scenario,
            only_kept=only_kept,
            everyone=everyone,
            by=by,
        )
        swept.merge(caches(self.client, images=images, cache=cache))
        return swept

    def set_up(self, request: Request, on_event: OnEvent | None = None) -> list[Made]:
        from poc_runner.backends.docker.setup.make import set_up

        return set_up(self.client, request, on_event)


__all__ = ["DockerEngine"]
