"""Run one command inside a running container, with a time limit that really ends it.

`exec` has no timeout of its own, and giving up on the client side leaves the process running
(docker-py 2651). So each command carries a marker in its environment, and at the deadline
every process holding it, or descending from one that does, is frozen and killed through the
engine (see stopper.py), also those that left the command's process tree.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from poc_runner.backend import Outcome
from poc_runner.backends.docker.stopper import new_marker, stop_marked
from poc_runner.sandbox.capture import Capture

if TYPE_CHECKING:
    from docker.models.containers import Container

_DRAIN_SECONDS = 5.0  # after the kill, how long the output stream may take to end


def execute(
    container: Container,
    argv: list[str],
    *,
    timeout: float,
    environment: Mapping[str, str] | None = None,
    workdir: str | None = None,
    stdout: Capture | None = None,
    stderr: Capture | None = None,
) -> Outcome:
    """Run `argv`; output goes to the given captures (in-memory, bounded, when none given)."""
    api = container.client.api
    marker, token = new_marker()
    exec_id = api.exec_create(
        container.id, argv, environment={**(environment or {}), marker: token}, workdir=workdir
    )["Id"]
    out, err = stdout or Capture(), stderr or Capture()
    finished = threading.Event()
    failure: list[BaseException] = []

    def pump() -> None:
        stream = None
        try:
            stream = api.exec_start(exec_id, stream=True, demux=True)
            for chunk_out, chunk_err in stream:
                if chunk_out:
                    out.write(chunk_out)
                if chunk_err:
                    err.write(chunk_err)
        except BaseException as exc:  # reported by the caller's thread
            failure.append(exc)
        finally:
            _close(stream)
            finished.set()

    started = time.monotonic()
    reader = threading.Thread(target=pump, name=f"exec-{exec_id[:12]}", daemon=True)
    reader.start()
    timed_out = not finished.wait(timeout)
    if timed_out:
        stop_marked(container, token)
        finished.wait(_DRAIN_SECONDS)
    duration = time.monotonic() - started
    out.close()
    err.close()
    if failure and not timed_out:
        raise failure[0]
    exit_code = api.exec_inspect(exec_id).get("ExitCode")
    return Outcome(None if timed_out else exit_code, timed_out, duration, out, err)


def _close(stream: Any) -> None:
    """Close the command's connection. The engine hands it over to the command's output (a
    hijacked HTTP connection), so it never goes back to the client's pool, and the SDK's
    stream leaves its closing to the caller: its own close() shuts the socket down but leaves
    the file reading it open, so either way each command's socket stayed open until collected,
    then a ResourceWarning, which is an error under pytest's `filterwarnings = error`. Closing
    the response closes that file and the socket with it (the SDK's stream keeps the response
    as `_response`, since docker-py 3.5)."""
    response = getattr(stream, "_response", None)
    if response is not None:
        with contextlib.suppress(Exception):
            response.close()
