"""The reference workload done by hand: a plain docker-SDK script, no poc-runner.

`bench/run_vs_bare.py` times `poc run bench/reference` against this script, so it must do the
same work, the way a competent engineer would write it without poc-runner, and nothing less:

1. build the two images from the same folders (`bench/reference/api`, `.../client`; cache hits
   once built);
2. create an internal network; create both containers on it, each reachable by its service
   name (`api`, `client`); the client has a tmpfs on /out;
3. copy the data file into the client with `put_archive` (mode 0444), before it starts;
4. start the api, wait until its healthcheck passes, then start the client (the
   `service_healthy` dependency). The healthcheck is polled by running the scenario's own
   test command through exec every 0.1 s: the engine's own health status would come no sooner
   than a full `interval` (1 s) after start on engine 20.10, and a script that wants to be fast
   does not wait for that;
5. run the three steps with `exec_run`, checking each exit code and what the scenario's
   criteria check in their output;
6. copy the artifact out. /out is a tmpfs, which Docker's archive API (`get_archive`, i.e.
   `docker cp`) cannot see (it answers 404), so the file is read with `cat` through exec;
7. remove the containers and the network, whatever happened before (try/finally; Ctrl-C and
   SIGTERM included, a second signal ignored while removing). They are found by this run's
   label (two list calls), so even a container whose `create` a signal cut short goes too.

Teardown: `remove(force=True)` by default (`--teardown force`). The Docker docs' `stop()` then
`remove()` (`--teardown stop`) waits out the 10 s stop grace here, because neither `sleep` nor
Python's http.server handles SIGTERM as PID 1: that would cost about 20 s a run and make the
comparison meaningless, and any engineer who times their script once switches to force-removal
for throwaway containers. poc-runner force-removes too.

What this script does *not* do, and poc-runner does: validate a scenario file, harden the
containers (capabilities, limits, init), make the data a read-only volume, sweep leftovers of
killed runs, capture step output to files, save service logs, and write result.json. That is
the overhead the benchmark measures.

Every container and network carries the label `io.poc-runner.bench=bare`. Exits 0 when every
step passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import io
import signal
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import docker
from docker.models.containers import Container

REFERENCE = Path(__file__).resolve().parent / "reference"
LABEL = "io.poc-runner.bench"
DATA_FILE = REFERENCE / "data" / "numbers.txt"
DATA_MOUNT = "/data/numbers.txt"
HEALTHCHECK = [
    "python3",
    "-c",
    "import urllib.request; urllib.request.urlopen('http://localhost:8080/')",
]
HEALTH_POLL_S = 0.1
HEALTH_PATIENCE_S = 60.0
ARTIFACT = "/out/report.json"
# (name, argv, text its stdout must contain): the scenario's steps and output criteria.
STEPS: list[tuple[str, list[str], str]] = [
    ("fetch", ["python3", "/app/job.py", "fetch"], "api status: ok"),
    ("compute", ["python3", "/app/job.py", "compute", DATA_MOUNT], "total: 5050"),
    ("report", ["python3", "/app/job.py", "report", DATA_MOUNT, ARTIFACT], "wrote"),
]


class StepFailed(Exception):
    """A step exited non-zero or did not print what it should have."""


@dataclass
class Stack:
    """This run: its id (in a label on everything it creates) and its network's name."""

    run: str
    network: str = ""

    @property
    def labels(self) -> dict[str, str]:
        return {LABEL: "bare", f"{LABEL}.run": self.run}


def build(client: docker.DockerClient, service: str) -> str:
    image, _log = client.images.build(
        path=str(REFERENCE / service), tag=f"poc-bench-bare/{service}:latest", rm=True
    )
    return str(image.id)


def create(
    client: docker.DockerClient,
    stack: Stack,
    service: str,
    image: str,
    command: list[str],
    **options: object,
) -> Container:
    network = stack.network
    return client.containers.create(
        image,
        command=command,
        name=f"bench-bare-{stack.run}-{service}",
        hostname=service,
        labels=stack.labels,
        network=network,
        networking_config={network: client.api.create_endpoint_config(aliases=[service])},
        **options,
    )


def data_archive() -> bytes:
    """DATA_FILE as a tar of `data/numbers.txt`, owned by root, read-only."""
    buffer = io.BytesIO()
    payload = DATA_FILE.read_bytes()
    folder, name = DATA_MOUNT.lstrip("/").split("/")
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        directory = tarfile.TarInfo(folder)
        directory.type, directory.mode = tarfile.DIRTYPE, 0o555
        tar.addfile(directory)
        member = tarfile.TarInfo(f"{folder}/{name}")
        member.size, member.mode = len(payload), 0o444
        tar.addfile(member, io.BytesIO(payload))
    return buffer.getvalue()


def wait_healthy(container: Container) -> float:
    """Seconds until the healthcheck command first exits 0."""
    started = time.perf_counter()
    while True:
        if container.exec_run(HEALTHCHECK).exit_code == 0:
            return time.perf_counter() - started
        if time.perf_counter() - started > HEALTH_PATIENCE_S:
            raise StepFailed(f"api never became healthy: {container.logs(tail=20)!r}")
        time.sleep(HEALTH_POLL_S)


def run_step(container: Container, name: str, argv: list[str], expect: str) -> float:
    started = time.perf_counter()
    exit_code, (stdout, stderr) = container.exec_run(argv, demux=True)
    took = time.perf_counter() - started
    out = (stdout or b"").decode(errors="replace")
    if exit_code != 0:
        raise StepFailed(f"step {name} exited {exit_code}: {(stderr or b'').decode()[-300:]}")
    if expect not in out:
        raise StepFailed(f"step {name} printed {out!r}, not {expect!r}")
    print(f"step {name}: ok in {took:.2f} s")
    return took


def copy_artifact(container: Container, out: Path) -> Path:
    """ARTIFACT from the client's tmpfs (invisible to get_archive) into `out`."""
    exit_code, content = container.exec_run(["cat", ARTIFACT])
    if exit_code != 0:
        raise StepFailed(f"artifact {ARTIFACT} missing: {content.decode(errors='replace')}")
    target = out / ARTIFACT.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return target


def bring_up(client: docker.DockerClient, stack: Stack) -> Container:
    """Images, network, containers, data; the api healthy, then the client started."""
    api_image, client_image = build(client, "api"), build(client, "client")
    network = client.networks.create(
        f"bench-bare-{stack.run}-net", driver="bridge", internal=True, labels=stack.labels
    )
    stack.network = network.name
    api = create(client, stack, "api", api_image, ["python3", "/app/server.py"])
    worker = create(
        client, stack, "client", client_image, ["sleep", "infinity"], tmpfs={"/out": ""}
    )
    if not worker.put_archive("/", data_archive()):
        raise StepFailed("could not copy the data file into the client")
    api.start()
    print(f"api healthy after {wait_healthy(api):.2f} s")
    worker.start()
    return worker


def tear_down(client: docker.DockerClient, stack: Stack, teardown: str) -> list[str]:
    """Remove what the run created; returns what could not be removed. Found by the run's
    label, so a container whose `create` was cut short by a signal goes too."""
    problems: list[str] = []
    mine = {"label": f"{LABEL}.run={stack.run}"}
    for container in client.containers.list(all=True, filters=mine):
        try:
            if teardown == "stop":
                container.stop()
                container.remove()
            else:
                container.remove(force=True)
        except docker.errors.DockerException as exc:
            problems.append(f"{container.name}: {exc}")
    for network in client.networks.list(filters=mine):
        try:
            network.remove()
        except docker.errors.DockerException as exc:
            problems.append(f"{network.name}: {exc}")
    return problems


@contextmanager
def signals(handler: signal.Handlers | Callable[[int, FrameType | None], Any]) -> Iterator[None]:
    """SIGTERM and SIGINT handled by `handler` inside the block."""
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run(out: Path, teardown: str) -> int:
    """The whole job; SIGTERM unwinds like Ctrl-C, and a second signal cannot cut the
    teardown short."""
    client = docker.from_env()
    stack = Stack(uuid.uuid4().hex[:8])
    try:
        with signals(signal.default_int_handler):
            worker = bring_up(client, stack)
            for name, argv, expect in STEPS:
                run_step(worker, name, argv, expect)
            print(f"artifact: {copy_artifact(worker, out)}")
    except StepFailed as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        with signals(signal.SIG_IGN):
            problems = tear_down(client, stack, teardown)
        for problem in problems:
            print(f"could not remove {problem}", file=sys.stderr)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="where the artifact goes (default: a temp dir)")
    parser.add_argument(
        "--teardown",
        choices=["force", "stop"],
        default="force",
        help="force: remove(force=True); stop: stop() then remove(), as the Docker docs show",
    )
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-bare-"))
    return run(out, args.teardown)


if __name__ == "__main__":
    sys.exit(main())
