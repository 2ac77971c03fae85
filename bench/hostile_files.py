"""Benchmark: `poc validate` on hostile scenario files is quick, small, and says exactly one thing.

Scenario files come from anyone (a prospect, a colleague, a pull request), so validating one
must never run code, blow up in time or memory, or crash. For each hostile case below this
script writes the file into a temporary folder and runs `poc validate FILE` in its own
subprocess (best of 3), measuring:

- wall time (time.perf_counter around spawn and wait). Target: under 1.0 s.
- peak RSS of that one child (os.wait4 returns the child's own rusage). Target: under 150 MiB.

and checking that it exits with code 2, prints exactly one `FILE:LINE:COL: error: ...` line on
stdout (warnings would be lines too), and never prints "Traceback".

Cases: a Python object tag, a billion-laughs alias bomb, a 2 MiB file, tab indentation, an
unclosed flow mapping, a data path that is a symlink out of the scenario folder, 10,000 levels
of nested `[`, a duplicate key; and in a Compose file the scenario references: the 1 KB `.env`
whose 40 lines each double the one before (a terabyte if filled), 3,000 nested defaults
`${a:-${a:-...}}`, and a 2,000-deep `extends` chain. Where the loader reports a problem and
carries on (the symlink, the duplicate key), the rest of the file is a minimal valid scenario,
so the one expected error is the only thing there is to say; it may be in any file of the
scenario's folder (the `.env`, the Compose file).

Standard library only; run with `make bench` (or `.venv/bin/python bench/hostile_files.py`).
Exits 1 when a target is missed or a check fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

POC = Path(sys.executable).parent / "poc"
RUNS = 3
TIME_TARGET_S = 1.0
RSS_TARGET_MIB = 150.0

# A minimal valid scenario: no warnings (it has a criterion, and no stakeholders or vars).
VALID = """\
apiVersion: poc-runner/v1
name: hostile
services:
  app: {image: "python:3.12-slim"}
acceptance:
  criteria:
    - id: up
      check: {type: command, service: app, run: "true"}
"""


def billion_laughs() -> str:
    """9 levels of 9-way aliases: 9**9 (about 387 million) strings if expanded."""
    lines = ["a: &a [" + ", ".join(['"lol"'] * 9) + "]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return VALID + "\n".join(lines) + "\n"


def two_mib() -> str:
    """A valid scenario followed by a long list, to 2 MiB."""
    item = "  - SECRET_NUMBER_0000000\n"
    return VALID + "secrets:\n" + item * (2 * 1024 * 1024 // len(item) + 1)


def symlink_out(folder: Path) -> str:
    (folder / "data").mkdir()
    (folder / "data" / "link.csv").symlink_to("/etc/hostname")
    return VALID + "data:\n  - {name: x, path: data/link.csv, mount: /data/x.csv}\n"


COMPOSE = VALID.replace(
    'services:\n  app: {image: "python:3.12-slim"}\n', "compose: compose.yaml\n"
).replace("service: app", "service: s0")


def env_bomb(folder: Path) -> str:
    """A0 is 1,000 characters; each of the next 39 lines doubles the one before."""
    lines = ["A0=" + "x" * 1000] + [f"A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, 40)]
    (folder / ".env").write_text("\n".join(lines) + "\n")
    (folder / "compose.yaml").write_text("services:\n  s0: {image: busybox, command: '$A3'}\n")
    return COMPOSE


def nested_defaults(folder: Path) -> str:
    image = "${a:-" * 3000 + "busybox" + "}" * 3000
    (folder / "compose.yaml").write_text(f"services:\n  s0: {{image: '{image}'}}\n")
    return COMPOSE


def deep_extends(folder: Path) -> str:
    chain = "".join(f"  s{i}: {{extends: s{i + 1}}}\n" for i in range(1999))
    (folder / "compose.yaml").write_text(f"services:\n{chain}  s1999: {{image: busybox}}\n")
    return COMPOSE


CASES: dict[str, Callable[[Path], str]] = {
    "python object tag": lambda _: VALID.replace(
        "name: hostile\n", 'name: hostile\ntitle: !!python/object/apply:os.system ["echo hi"]\n'
    ),
    "billion laughs": lambda _: billion_laughs(),
    "2 MiB file": lambda _: two_mib(),
    "tab indentation": lambda _: VALID.replace("  ", "\t"),
    "unclosed flow bracket": lambda _: VALID.replace(
        'app: {image: "python:3.12-slim"}', "app: {image: x"
    ),
    "symlink out of folder": symlink_out,
    "nested 10,000 deep": lambda _: VALID + "vars: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "duplicate key": lambda _: VALID.replace("name: hostile\n", "name: hostile\nname: again\n"),
    ".env doubling bomb": env_bomb,
    "3,000 nested defaults": nested_defaults,
    "extends 2,000 deep": deep_extends,
}


@dataclass
class Outcome:
    seconds: float
    rss_mib: float
    exit_code: int
    stdout: str
    stderr: str


def run_once(file: Path, out: Path) -> Outcome:
    """One `poc validate FILE` in its own process; output goes to files so no pipe can fill."""
    stdout, stderr = out / "stdout", out / "stderr"
    with stdout.open("w") as so, stderr.open("w") as se:
        start = time.perf_counter()
        proc = subprocess.Popen([str(POC), "validate", str(file)], stdout=so, stderr=se)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; tell Popen
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes or KiB
    return Outcome(
        seconds, usage.ru_maxrss / scale, proc.returncode, stdout.read_text(), stderr.read_text()
    )


def problems(outcome: Outcome, file: Path) -> list[str]:
    """What is wrong with the output, beyond the time and memory targets."""
    found = []
    if outcome.exit_code != 2:
        found.append(f"exit code {outcome.exit_code}, expected 2")
    lines = outcome.stdout.splitlines()
    error_line = re.compile(rf"{re.escape(str(file.parent))}/[^:]+:\d+:\d+: error: .+")
    if len(lines) != 1 or not error_line.fullmatch(lines[0]):
        found.append(f"{len(lines)} stdout lines, expected one FILE:LINE:COL: error line")
    if "Traceback" in outcome.stdout + outcome.stderr:
        found.append("printed a Traceback")
    return found


def main() -> int:
    print(f"{'case':<24} {'best s':>7} {'peak MiB':>9} {'exit':>5} {'lines':>6}")
    report: list[str] = []
    with tempfile.TemporaryDirectory(prefix="poc-hostile-") as tmp:
        for index, (case, write) in enumerate(CASES.items()):
            folder = Path(tmp, f"case{index}")
            folder.mkdir()
            file = folder / "scenario.yaml"
            file.write_text(write(folder))
            outcomes = [run_once(file, Path(tmp)) for _ in range(RUNS)]
            best = min(o.seconds for o in outcomes)
            peak = max(o.rss_mib for o in outcomes)
            last = outcomes[-1]
            lines = len(last.stdout.splitlines())
            print(f"{case:<24} {best:>7.3f} {peak:>9.1f} {last.exit_code:>5} {lines:>6}")
            wrong = [p for o in outcomes for p in problems(o, file)]
            if best >= TIME_TARGET_S:
                wrong.append(f"took {best:.3f} s (target < {TIME_TARGET_S} s)")
            if peak >= RSS_TARGET_MIB:
                wrong.append(f"peak RSS {peak:.1f} MiB (target < {RSS_TARGET_MIB:.0f} MiB)")
            if wrong:
                detail = "; ".join(dict.fromkeys(wrong))  # each problem once, in order
                report.append(f"MISS: {case}: {detail}\n      stdout: {last.stdout.strip()!r}")
            else:
                report.append(f"PASS: {case}: {last.stdout.strip().split(': error: ', 1)[1]}")
    print()
    print("\n".join(report))
    return 1 if any(line.startswith("MISS") for line in report) else 0


if __name__ == "__main__":
    sys.exit(main())
