"""Benchmark: `poc run` against a bare docker-SDK script doing the same work, pair by pair.

Why: poc-runner adds validation, hardening, read-only data volumes, output capture, logs and a
scored result on top of what a hand-written script does. That must not make it slower than the
script an engineer would write instead, or they will keep writing scripts. Target: the median
of the per-pair ratios poc/bare is at most 1.0.

How:

- The workload is `bench/reference` (two services, one healthcheck with a `service_healthy`
  dependency, a read-only data file, three steps, a tmpfs artifact); `bench/bare_sdk.py` does
  the same with the docker SDK by hand (its docstring says exactly what and how).
- One untimed warm-up of each first, so images are built and every timed run is a cache hit.
- Then N pairs (`--pairs`, default 11: on a shared two-core machine one pair's ratio varies by
  about 10 %, and the median of 11 moves by a few per cent from one session to the next).
  Within a pair the two commands run one after the other,
  the order alternating (poc first, then bare first, ...), so drift on the machine (other
  load, the engine warming up) falls on both sides alike.
- Each command is a subprocess timed with `time.perf_counter` around spawn and wait: the wall
  clock of the whole command, Python start-up and imports included, as a user sees it. Output
  is captured (shown only when a command fails). `poc run` writes under a temporary `--out`
  and records its runs in a temporary history ($POC_HISTORY), not in the user's.
- The table also shows the best (lowest) time of each side: with other work on the same
  engine, the minimum is the least disturbed figure. The verdict is on the median ratio.
- Afterwards no container, network or volume of these runs may remain: none labelled
  `io.poc-runner.scenario=bench-reference` (the poc runs) or `io.poc-runner.bench` (the bare
  runs). Anything found is reported, removed, and fails the benchmark. Objects of other
  scenarios (someone else's runs on the same engine) are left alone.

Run with `.venv/bin/python bench/run_vs_bare.py` (needs Docker and the local base image,
`make sandbox`). Exits 1 when the median ratio is over the target, a command fails or something
is left behind.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

BENCH = Path(__file__).resolve().parent
REFERENCE = BENCH / "reference"
SCENARIO = "bench-reference"
POC = Path(sys.executable).parent / "poc"
BARE = BENCH / "bare_sdk.py"
BARE_LABEL = "io.poc-runner.bench"
SCENARIO_LABEL = "io.poc-runner.scenario"
HISTORY_VAR = "POC_HISTORY"
TARGET_RATIO = 1.0
COMMAND_TIMEOUT_S = 300.0
TERM_GRACE_S = 60.0


class CommandFailed(Exception):
    """A timed command exited non-zero or hung; the benchmark result would mean nothing."""


@dataclass
class Pair:
    index: int
    first: str
    poc_s: float
    bare_s: float

    @property
    def ratio(self) -> float:
        return self.poc_s / self.bare_s


def poc_command(out: Path) -> list[str]:
    return [str(POC), "run", "--out", str(out), str(REFERENCE)]


def bare_command(out: Path) -> list[str]:
    return [sys.executable, str(BARE), "--out", str(out)]


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of one command, start-up included; raises CommandFailed unless it exits 0."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        stdout, stderr = process.communicate(timeout=COMMAND_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        stop(process)
        raise CommandFailed(f"{' '.join(argv)} ran over {COMMAND_TIMEOUT_S:.0f} s") from None
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        output = (stdout + stderr).decode(errors="replace")[-3000:]
        raise CommandFailed(f"{' '.join(argv)} exited {process.returncode}:\n{output}")
    return elapsed


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM first: both commands tear their containers down on it. SIGKILL if it hangs."""
    process.terminate()
    try:
        process.communicate(timeout=TERM_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


def measure(pairs: int, scratch: Path) -> list[Pair]:
    commands = {"poc": poc_command(scratch / "poc"), "bare": bare_command(scratch / "bare")}
    # The runs go into a history of their own, not the user's `poc history`.
    envs = {"poc": {**os.environ, HISTORY_VAR: str(scratch / "history.sqlite")}, "bare": None}
    for name, argv in commands.items():
        print(f"warm-up: {name} {timed(argv, envs[name]):.2f} s (untimed, builds the images)")
    results: list[Pair] = []
    for index in range(1, pairs + 1):
        order = ("poc", "bare") if index % 2 else ("bare", "poc")
        seconds = {name: timed(commands[name], envs[name]) for name in order}
        results.append(Pair(index, order[0], seconds["poc"], seconds["bare"]))
        print(f"pair {index}: poc {seconds['poc']:.3f} s, bare {seconds['bare']:.3f} s")
    return results


def table(results: list[Pair]) -> str:
    lines = [
        "| pair | first | poc run (s) | bare SDK (s) | poc/bare |",
        "|---:|---|---:|---:|---:|",
    ]
    lines += [
        f"| {p.index} | {p.first} | {p.poc_s:.3f} | {p.bare_s:.3f} | {p.ratio:.3f} |"
        for p in results
    ]
    poc = statistics.median(p.poc_s for p in results)
    bare = statistics.median(p.bare_s for p in results)
    ratio = statistics.median(p.ratio for p in results)
    lines.append(f"| median | | {poc:.3f} | {bare:.3f} | {ratio:.3f} |")
    best_poc, best_bare = min(p.poc_s for p in results), min(p.bare_s for p in results)
    lines.append(f"| best | | {best_poc:.3f} | {best_bare:.3f} | {best_poc / best_bare:.3f} |")
    return "\n".join(lines)


def leftovers(client: docker.DockerClient) -> list[str]:
    """Remove and name every container, network and volume these runs left behind."""
    found: list[str] = []
    for selector in (f"{SCENARIO_LABEL}={SCENARIO}", BARE_LABEL):
        filters = {"label": selector}
        for kind, things, remove in (
            ("container", client.containers.list(all=True, filters=filters), _remove_container),
            ("network", client.networks.list(filters=filters), _remove_network),
            ("volume", client.volumes.list(filters=filters), _remove_volume),
        ):
            for thing in things:
                found.append(f"{kind} {thing.name}{_attempt(remove, thing)}")
    return found


def _attempt(remove: Callable[[Any], None], thing: Any) -> str:
    try:
        remove(thing)
    except docker.errors.DockerException as exc:
        return f" (could not remove it: {exc})"
    return " (removed)"


def _remove_container(container: Any) -> None:
    container.remove(force=True, v=True)


def _remove_network(network: Any) -> None:
    network.remove()


def _remove_volume(volume: Any) -> None:
    volume.remove(force=True)


def bytecode_note() -> str | None:
    """Whether poc-runner's own modules are compiled from source at every start (an editable
    install with PYTHONDONTWRITEBYTECODE set): a cost an installed wheel does not have."""
    spec = importlib.util.find_spec("poc_runner")
    if spec is None or spec.origin is None:
        return None
    if Path(importlib.util.cache_from_source(spec.origin)).exists():
        return None
    return (
        "note: poc_runner has no bytecode cache here (PYTHONDONTWRITEBYTECODE with an editable"
        " install), so every `poc run` compiles its modules from source; a wheel install has them"
        " compiled"
    )


def report(results: list[Pair]) -> bool:
    """Print the table and verdict; True when the target is met."""
    ratio = statistics.median(p.ratio for p in results)
    print()
    print(table(results))
    met = ratio <= TARGET_RATIO
    verdict = "OK" if met else "MISSED"
    print(f"\nmedian ratio poc/bare: {ratio:.3f} (target <= {TARGET_RATIO:.1f}): {verdict}")
    note = bytecode_note()
    if note:
        print(note)
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=11, help="timed pairs (default 11)")
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    client = docker.from_env()
    ok = True
    try:
        with tempfile.TemporaryDirectory(prefix="bench-run-vs-bare-") as scratch:
            ok = report(measure(args.pairs, Path(scratch)))
    except CommandFailed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        ok = False
    finally:
        left = leftovers(client)
        for thing in left:
            print(f"LEFT BEHIND: {thing}", file=sys.stderr)
    print("nothing left behind" if not left else f"{len(left)} object(s) were left behind")
    return 0 if ok and not left else 1


if __name__ == "__main__":
    sys.exit(main())
