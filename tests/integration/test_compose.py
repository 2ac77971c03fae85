"""The Compose example runs for real (spec, "compose"): the vendor's file unchanged, with a
`--var` over its `${VAR:-default}`; data in a named volume survives from the migration job to
the API; the host's bind-mounted folder is unchanged afterwards; the profile's service never
starts; and a mistyped `--var` is refused with the name meant. Services sharing a `build:`
through a YAML merge key build and run; the doubling env file is refused under a memory limit."""

from __future__ import annotations

import hashlib
import json
import resource
from collections.abc import Callable
from pathlib import Path

import docker

from poc_runner.result import RunResult

from .conftest import poc, run_folder

EXAMPLE = Path(__file__).parents[2] / "scenarios" / "stock-alerts"


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_vendors_compose_file_runs_unchanged_with_a_var_over_its_default(
    run: Callable[..., RunResult], tmp_path: Path
) -> None:
    seed = EXAMPLE / "deploy" / "seed"
    before = tree_digest(seed)
    result = run(EXAMPLE / "scenario.yaml", variables={"LOW_STOCK": "3"})
    assert result.error is None, result.error
    report = json.loads(
        (run_folder(tmp_path, result) / "artifacts" / "tmp" / "report.json").read_text()
    )
    assert report["threshold"] == 3  # `--var LOW_STOCK=3` over `${LOW_STOCK:-5}`
    assert report["low"] == ["A-101", "B-200"]
    assert report["migrated"] == 6  # written by the job into a named volume, read by the API
    assert report["title"] == "Low stock report"  # from the service's env_file
    assert report["alert_channel"] == "email"  # the config file, bound read-only
    assert set(result.environment["images"]) == {"db", "migrate", "api"}  # not `pgweb`
    assert {c.id for c in result.criteria if not c.passed} == {"flags-low-stock"}
    assert tree_digest(seed) == before  # the job appended to its copy, never to the host's


def test_a_mistyped_var_is_refused_with_the_name_meant() -> None:
    result = poc("run", "--var", "LOW_STOK=3", str(EXAMPLE))
    assert result.returncode == 2
    assert "did you mean 'LOW_STOCK'?" in result.stderr


PROBE_NAMES = """\
import json, socket
print(json.dumps({n: socket.gethostbyname(n) for n in ["app", "acme-app", "backend", "legacy-app"]}))
"""
INSIDE_APP = """\
import json, os, resource, socket
def attempt(action):
    try:
        action()
        return "allowed"
    except OSError as exc:
        return exc.strerror
def append(path):
    with open(path, "a") as handle:
        handle.write("changed\\n")
mounts = open("/proc/mounts").read()
print(json.dumps({
    "ini": open("/etc/acme/app.ini").read(),
    "ini_write": attempt(lambda: append("/etc/acme/app.ini")),
    "image_file_kept": os.path.exists("/etc/acme/default.ini"),
    "config": open("/etc/acme/extra.conf").read(),
    "secret": open("/run/secrets/db_password").read(),
    "secret_write": attempt(lambda: append("/run/secrets/db_password")),
    "notes_write": attempt(lambda: append("/notes/todo.txt")),
    "scratch_write": attempt(lambda: append("/scratch/x")),
    "cache_tmpfs": " /cache tmpfs " in mounts,
    "nofile": resource.getrlimit(resource.RLIMIT_NOFILE),
    "memlock": resource.getrlimit(resource.RLIMIT_MEMLOCK),
    "nproc": resource.getrlimit(resource.RLIMIT_NPROC),
    "hostname": socket.gethostname(),
}))
"""
COMPOSE = """\
services:
  app:
    build: ./app
    container_name: acme-app
    hostname: app-host
    labels: {com.vendor.tier: backend}
    command: [sleep, infinity]
    healthcheck: {interval: 1s}
    ulimits: {nofile: 12345, nproc: -1, memlock: -1}
    mem_limit: 300m
    volumes:
      - /scratch
      - ./notes:/notes
      - ./app.ini:/etc/acme/app.ini:ro
      - {type: tmpfs, target: /cache}
    configs:
      - {source: extra, target: /etc/acme/extra.conf}
    secrets: [db_password]
    networks:
      default: {aliases: [backend]}
  probe:
    image: poc-runner/base:bookworm
    command: [sleep, infinity]
    links: ["app:legacy-app"]
    depends_on: {app: {condition: service_healthy}}
configs:
  extra: {content: "mode=${MODE:-demo}"}
secrets:
  db_password: {file: ./db_password.txt}
"""


def test_compose_fields_are_honoured_the_sandbox_way(
    scenario: Callable[..., Path], tmp_path: Path, client: docker.DockerClient
) -> None:
    path = scenario(
        """\
        compose: compose.yaml
        data:
          - {name: probes, path: probes, mount: /probes}
        steps:
          - {name: names, service: probe, run: [python3, /probes/names.py]}
          - {name: inside, service: app, run: [python3, /probes/inside.py]}
        """,
        files={
            "compose.yaml": COMPOSE,
            "probes/names.py": PROBE_NAMES,
            "probes/inside.py": INSIDE_APP,
            "app.ini": "[acme]\n",
            "db_password.txt": "s3cret",
            "notes/todo.txt": "first\n",
            "app/Dockerfile": (
                "FROM poc-runner/base:bookworm\n"
                "RUN mkdir -p /etc/acme && echo default > /etc/acme/default.ini\n"
                'HEALTHCHECK CMD ["python3", "-c", "print()"]\n'
            ),
        },
    )
    # kept by a `poc run` of its own, so `poc down` can take it once that process is gone
    done = poc("run", "--keep", "--out", str(tmp_path / "runs"), str(path))
    try:
        (folder,) = (tmp_path / "runs" / "probe").iterdir()
        result = json.loads((folder / "result.json").read_text())
        assert result["error"] is None, result["error"]
        assert done.returncode == 0, done.stderr
        names = json.loads((folder / "steps" / "names.out").read_text())
        assert len(set(names.values())) == 1, names  # one container, four DNS names
        inside = json.loads((folder / "steps" / "inside.out").read_text())
        assert inside.pop("nofile") == [12345, 12345]
        inside.pop("memlock")  # left at the engine's default
        assert inside.pop("nproc") == [65536, 65536]  # -1 is the sandbox's cap
        assert inside == {
            "ini": "[acme]\n",
            "ini_write": "Read-only file system",
            "image_file_kept": True,  # the file's folder keeps what the image has there
            "config": "mode=demo",
            "secret": "s3cret",
            "secret_write": "Read-only file system",
            "notes_write": "allowed",
            "scratch_write": "allowed",
            "cache_tmpfs": True,
            "hostname": "app-host",
        }
        selector = [f"io.poc-runner.run={result['run_id']}", "io.poc-runner.service=app"]
        (app,) = client.containers.list(filters={"label": selector})
        assert app.labels["com.vendor.tier"] == "backend"
        assert app.attrs["HostConfig"]["Memory"] == 300 * 1024**2
        assert all(m["Type"] == "volume" for m in app.attrs["Mounts"])  # nothing from the host
    finally:
        assert poc("down", str(path)).returncode == 0
    assert (path.parent / "notes" / "todo.txt").read_text() == "first\n"


def test_a_job_that_fails_is_a_sandbox_error_and_what_waits_never_starts(
    scenario: Callable[..., Path], run: Callable[..., RunResult]
) -> None:
    path = scenario(
        """\
        services:
          migrate:
            image: poc-runner/base:bookworm
            command: [python3, -c, "print('no database'); raise SystemExit(3)"]
          api:
            image: poc-runner/base:bookworm
            command: [sleep, infinity]
            depends_on: {migrate: {condition: service_completed_successfully}}
        """
    )
    result = run(path)
    assert result.verdict == "error"
    assert result.error is not None
    assert "'migrate' exited with code 3" in result.error
    assert "no database" in result.error  # its last log lines
    assert "were never started" in result.error


SHARED_BUILD = """\
x-app: &app
  build:
    context: ./api
    args: {EDITION: vendor}
  environment: {ROLE: api}
services:
  api:
    <<: *app
    command: [sleep, infinity]
  worker:
    <<: *app
    environment: {ROLE: worker}
    command: [sleep, infinity]
"""


def test_services_sharing_a_build_block_through_a_merge_key_build_and_run(
    scenario: Callable[..., Path], run: Callable[..., RunResult], tmp_path: Path
) -> None:
    """A vendor's stack whose services share `build:` through `<<: *app` (the block is one
    mapping in the YAML) runs as `docker compose` runs it: one context, `stack/api`."""
    path = scenario(
        """\
        compose: stack/compose.yaml
        data:
          - {name: probes, path: probes, mount: /probes}
        steps:
          - {name: api, service: api, run: [python3, /probes/show.py]}
          - {name: worker, service: worker, run: [python3, /probes/show.py]}
        """,
        files={
            "stack/compose.yaml": SHARED_BUILD,
            "probes/show.py": 'import os; print(open("/edition").read().strip(), os.environ["ROLE"])',
            "stack/api/Dockerfile": (
                "FROM poc-runner/base:bookworm\nARG EDITION\nRUN echo $EDITION > /edition\n"
            ),
        },
    )
    result = run(path)
    assert result.error is None, result.error
    steps = run_folder(tmp_path, result) / "steps"
    assert (steps / "api.out").read_text() == "vendor api\n"
    assert (steps / "worker.out").read_text() == "vendor worker\n"


def _half_a_gigabyte() -> None:
    """The child's address space is capped: an unbounded reading would end in MemoryError."""
    limit = 512 * 1024**2
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_the_doubling_env_file_is_refused_clearly_under_a_memory_limit(
    scenario: Callable[..., Path],
) -> None:
    """The 1 KB `.env` bomb (A0 is 1,000 characters, each next line doubles the one before: 40
    lines would be a terabyte) is refused at the line that passes the bound, with the file,
    the line and the name, by a `poc validate` allowed 512 MiB in all."""
    lines = ["A0=" + "x" * 1000] + [f"A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, 40)]
    path = scenario(
        "compose: compose.yaml\n",
        name="bomb",
        files={
            ".env": "\n".join(lines) + "\n",
            "compose.yaml": "services:\n  app: {image: busybox, environment: {X: '${A39}'}}\n",
        },
    )
    done = poc("validate", str(path), preexec_fn=_half_a_gigabyte)
    assert done.returncode == 2, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert f"{path.parent / '.env'}:9:1: error: A8: filling in `A7` makes this value longer" in said
    assert "the rest of the file is not read" in said
    assert "MemoryError" not in said and "a bug" not in said and "Traceback" not in said
