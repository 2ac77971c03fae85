"""Benchmark: `poc validate` on a vendor-sized Compose stack stays quick (issue 22, "Speed stays").

What is measured, and why:

- One `poc validate FILE` of a scenario that references a 12-service Compose file and its
  200-line `.env` (best of 5, wall clock, process start-up included): what a sales engineer
  waits for before every `poc run`. Target: under 0.5 s.
- The same validation in this process (best of 5), without start-up: what reading Compose
  content itself costs (env file grammar, interpolation, merge, extends, the models).

The stack is shaped like real ones: services share settings through `x-*` anchors and `<<:`
merge keys, two extend a base in another file, every service has an env file, healthchecks,
`depends_on` conditions, named volumes and bound config files, build contexts with args,
ports, a profile; a second file overrides some of it, as `docker compose -f a -f b` would.
The `.env` has 200 lines: quoted and unquoted values, comments, `export`, references to
earlier lines, defaults. Before timing, the scenario is validated once and must come out with
no errors and no warnings but the ones the stack's ignored fields (`restart`) cause.

Standard library only; run with `make bench` (or `.venv/bin/python bench/compose_validate.py`).
Exits 1 when a target is missed or a check fails.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

POC = Path(sys.executable).parent / "poc"
RUNS = 5
TARGET_S = 0.5
SERVICES = 12

SCENARIO = """\
apiVersion: poc-runner/v1
name: vendor-stack
job:
  statement: The vendor's stack validates before every run.
  stakeholders: [{role: Evaluator, wants: A quick answer}]
compose: {files: [deploy/compose.yaml, deploy/compose.poc.yaml], profiles: [demo]}
steps:
  - {name: smoke, service: svc00, run: "true"}
acceptance:
  criteria:
    - {id: up, for: [Evaluator], check: {type: exit_code, step: smoke}}
"""


def env_file() -> str:
    """200 lines: settings for every service, in the spellings real .env files use."""
    lines = ["# the vendor's settings", "export REGISTRY=registry.example.com/acme"]
    lines += [
        "TAG=2.4.1",
        "DB_PASSWORD='s3cret pass'",
        'DB_URL="postgres://app:${DB_PASSWORD}@db/app"',
    ]
    index = 0
    while len(lines) < 200:
        service = index % SERVICES
        kind = index % 4
        if kind == 0:
            lines.append(f"SVC{service:02d}_WORKERS={index % 7 + 1}")
        elif kind == 1:
            lines.append(f'SVC{service:02d}_NOTE_{index}="line one\\nline two" # a comment')
        elif kind == 2:
            lines.append(
                f"SVC{service:02d}_URL_{index}=http://svc{service:02d}:80${{PATH_{index}:-/api}}"
            )
        else:
            lines.append(f"# about SVC{service:02d}")
            lines.append(f"SVC{service:02d}_LEVEL_{index}: info")
        index += 1
    return "\n".join(lines[:200]) + "\n"


def compose_file() -> str:
    parts = [
        "x-common: &common",
        "  restart: unless-stopped",
        "  env_file: [common.env]",
        "  healthcheck: {test: [CMD, 'true'], interval: 1s, retries: 30}",
        "  labels: {com.acme.stack: demo}",
        "x-built: &built",
        "  build: {context: ./app, args: {TAG: '${TAG}', REGISTRY: '${REGISTRY}'}}",
        "services:",
    ]
    for n in range(SERVICES):
        name = f"svc{n:02d}"
        parts += [
            f"  {name}:",
            "    <<: [*common, *built]" if n % 3 else "    <<: *common",
            *([] if n % 3 else ["    image: ${REGISTRY}/" + name + ":${TAG:-latest}"]),
            "    environment:",
            f"      WORKERS: ${{SVC{n:02d}_WORKERS:-2}}",
            "      DATABASE_URL: ${DB_URL}",
            f"      LOG_LEVEL: ${{SVC{n:02d}_LEVEL_{3 + 4 * n if n < 4 else 3}:-info}}",
            "    volumes:",
            f"      - {name}-data:/var/lib/{name}",
            "      - ./conf/app.ini:/etc/acme/app.ini:ro",
            f"    ports: ['{8000 + n}:80']",
        ]
        if n:
            parts += [f"    depends_on: {{svc{n - 1:02d}: {{condition: service_healthy}}}}"]
        if n == SERVICES - 1:
            parts += ["    profiles: [demo]"]
    parts.append("volumes:")
    parts += [f"  svc{n:02d}-data:" for n in range(SERVICES)]
    return "\n".join(parts) + "\n"


OVERRIDE = """\
services:
  svc01:
    environment: [EXTRA=1]
    ports: ['9001:81']
  svc02:
    extends: {file: base.yaml, service: worker}
  svc03:
    extends: {file: base.yaml, service: worker}
"""
BASE = """\
services:
  worker:
    command: [sleep, infinity]
    tmpfs: [/tmp]
    env_file: [worker.env]
"""


def write(folder: Path) -> Path:
    deploy = folder / "deploy"
    (deploy / "app").mkdir(parents=True)
    (deploy / "conf").mkdir()
    (deploy / "app" / "Dockerfile").write_text("FROM poc-runner/base:bookworm\n")
    (deploy / "conf" / "app.ini").write_text("[acme]\n")
    (deploy / ".env").write_text(env_file())
    (deploy / "common.env").write_text("MODE=demo\nURL=http://${MODE}.local\n")
    (deploy / "worker.env").write_text("QUEUE=jobs\n")
    (deploy / "compose.yaml").write_text(compose_file())
    (deploy / "compose.poc.yaml").write_text(OVERRIDE)
    (deploy / "base.yaml").write_text(BASE)
    path = folder / "scenario.yaml"
    path.write_text(SCENARIO)
    return path


def in_process(path: Path) -> float:
    from poc_runner.validation import validate_file

    start = time.perf_counter()
    validate_file(path)
    return time.perf_counter() - start


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poc-compose-bench-") as tmp:
        path = write(Path(tmp))
        lines = len((path.parent / "deploy" / ".env").read_text().splitlines())
        first = subprocess.run([str(POC), "validate", str(path)], capture_output=True, text=True)
        said = [
            line
            for line in first.stdout.splitlines()
            if ": error: " in line or ": warning: " in line
        ]
        unexpected = [line for line in said if "`restart` is ignored" not in line]
        if first.returncode != 0 or unexpected:
            print(f"MISS: the stack does not validate cleanly (exit {first.returncode}):")
            print("\n".join(unexpected or [first.stdout, first.stderr]))
            return 1
        timings = []
        for _ in range(RUNS):
            start = time.perf_counter()
            subprocess.run([str(POC), "validate", str(path)], capture_output=True, check=True)
            timings.append(time.perf_counter() - start)
        inside = min(in_process(path) for _ in range(RUNS))
    best = min(timings)
    print(f"{SERVICES} services, a {lines}-line .env, two files, extends, anchors")
    print(f"poc validate (best of {RUNS}, start-up included): {best:.3f} s  target < {TARGET_S} s")
    print(f"validate_file in process (best of {RUNS}):        {inside:.3f} s")
    if best >= TARGET_S:
        print(f"MISS: {best:.3f} s (target < {TARGET_S} s)")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
