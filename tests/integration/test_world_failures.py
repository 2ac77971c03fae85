"""When the world outside fails (a closed pipe, a read-only or full results folder, a corrupt
history, the Docker engine dying), poc-runner says so in one paragraph, never "internal error",
and leaves nothing running."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from .conftest import BASE, POC, ScenarioFactory, labelled, poc

QUICK = f"""\
services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
steps: [{{name: hello, service: app, run: echo hello}}]
acceptance: {{criteria: [{{id: said-hello, check: {{type: output, step: hello, contains: hello}}}}]}}
"""

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


def results(out: Path) -> list[dict[str, object]]:
    return [json.loads(path.read_text()) for path in out.rglob("result.json")]


def test_a_reader_that_leaves_early_does_not_spoil_the_run(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    """`poc run 2>&1 | head -2`: the progress lines meet a closed pipe; the run goes on, is
    recorded as the product earned, not as an engine error, and exits with its verdict's
    code (0), not SIGPIPE's 141."""
    out = tmp_path / "runs"
    reader, writer = os.pipe()
    process = subprocess.Popen(
        [*POC, "run", str(scenario(QUICK)), "--out", str(out)], stdout=writer, stderr=writer
    )
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        pipe.readline()  # one line, then the reader leaves
    code = process.wait(timeout=120)
    (result,) = results(out)
    assert result["verdict"] == "pass", result["error"]
    assert code == 0


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a small tmpfs with the given options; unmounted after the test."""
    mounts: list[Path] = []

    def mount(options: str) -> Path:
        target = tmp_path / f"mount{len(mounts)}"
        target.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], check=True)
        mounts.append(target)
        return target

    yield mount
    for target in mounts:
        subprocess.run(["umount", str(target)], check=False)


@as_root
def test_a_read_only_out_folder_is_refused_before_anything_starts(
    scenario: ScenarioFactory, mounted: Callable[[str], Path], client: docker.DockerClient
) -> None:
    out = mounted("ro,size=1m")
    done = poc("run", str(scenario(QUICK, name="read-only-out")), "--out", str(out))
    assert done.returncode == 2, done.stderr
    assert "results cannot be written to --out" in done.stderr
    assert "Read-only file system" in done.stderr
    assert "internal error" not in done.stderr
    assert (
        client.containers.list(all=True, filters={"label": "io.poc-runner.scenario=read-only-out"})
        == []
    )


@as_root
def test_a_results_folder_that_fills_up_is_said_plainly_and_nothing_is_left(
    scenario: ScenarioFactory, mounted: Callable[[str], Path], client: docker.DockerClient
) -> None:
    out = mounted("size=64k")
    path = scenario(
        f"""\
        services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
        steps: [{{name: chatty, service: app, run: "head -c 2000000 /dev/zero | tr '\\\\0' x"}}]
        """,
        name="disk-full",
    )
    done = poc("run", str(path), "--out", str(out))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "No space left on device" in done.stderr
    assert "internal error" not in done.stdout + done.stderr
    assert (
        client.containers.list(all=True, filters={"label": "io.poc-runner.scenario=disk-full"})
        == []
    )


def test_a_corrupt_history_is_named_and_runs_still_finish(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    history = tmp_path / "history.sqlite"
    history.write_text("this is not a database\n" * 200)
    env = {**os.environ, "POC_HISTORY": str(history)}
    listed = poc("history", env=env)
    assert listed.returncode == 2
    assert f"the run history {history} cannot be read" in listed.stderr
    assert "internal error" not in listed.stderr
    ran = poc(
        "run",
        str(scenario(QUICK, name="corrupt-history")),
        "--out",
        str(tmp_path / "runs"),
        env=env,
    )
    assert ran.returncode == 0, ran.stderr
    assert "not recorded" in ran.stderr


class EngineLink:
    """A stand-in for the engine's socket that forwards to the real one and can be cut, as the
    engine dying would cut it: every connection drops, and nothing answers until `restore`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        self._server = socket.socket(socket.AF_UNIX)
        self._server.bind(str(self.path))
        self._server.listen(64)
        threading.Thread(target=self._accept, args=(self._server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            engine = socket.socket(socket.AF_UNIX)
            engine.connect("/var/run/docker.sock")
            with self._lock:
                self._connections += [client, engine]
            for source, target in ((client, engine), (engine, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        self.path.unlink()
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._connections.clear()


def test_the_engine_dying_mid_run_is_an_honest_error_swept_once_it_is_back(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    link = EngineLink(tmp_path / "engine.sock")
    path = scenario(
        f"""\
        services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
        steps: [{{name: wait, service: app, run: sleep 600, timeout: 10m}}]
        acceptance: {{criteria: [{{id: waited, check: {{type: exit_code, step: wait}}}}]}}
        """,
        name="engine-dies",
    )
    out = tmp_path / "runs"
    process = subprocess.Popen(
        [*POC, "run", str(path), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DOCKER_HOST": f"unix://{link.path}"},
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "step wait: running" in line:
            break
    link.cut()
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 3, stdout + stderr
    assert "internal error" not in stdout + stderr
    (result,) = results(out)
    assert result["verdict"] == "error"
    assert "the Docker engine stopped during the run" in str(result["error"])
    assert "once it answers again" in str(result["error"])
    (run_folder,) = (p.parent for p in out.rglob("result.json"))
    assert (run_folder / "report.html").exists() and (run_folder / "junit.xml").exists()
    assert labelled(client, str(result["run_id"])), "the engine was unreachable, so they remain"
    cleaned = poc("clean")  # the engine is back (this one never left)
    assert cleaned.returncode == 0, cleaned.stderr
    assert labelled(client, str(result["run_id"])) == []
