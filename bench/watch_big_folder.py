"""Benchmark: `poc watch` waiting for a change in a scenario folder of 200,000 files costs a
little of one core, never most of it.

It polled every file of the folder twice a second: 200,000 files took 85 % of a core. A look
now stops at MAX_WATCHED files (the scenario's own folder first) and looks space out to ten
times as long as the last took (poc_runner/loop.py). This script fills a temporary folder with
a scenario file and 200,000 small files in 200 folders, runs the watch's wait for a change
(`loop._next_change`) in a child process for DURATION seconds with nothing changing, and
measures the child's CPU time (user + system, from os.wait4) against the wall time.

Target: under 15 % of one core. Standard library and poc_runner only; run with `make bench`
(or `.venv/bin/python bench/watch_big_folder.py`). Exits 1 when the target is missed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES, FOLDERS = 200_000, 200
DURATION = 15.0  # seconds of waiting measured
TARGET = 0.15  # share of one core

WAIT = """
import sys
from pathlib import Path
from poc_runner.loop import _next_change, look
folder = Path(sys.argv[1])
print("watching", flush=True)
_next_change(folder, folder / "runs", look(folder, folder / "runs"), lambda: None)
"""


def fill(folder: Path) -> None:
    (folder / "scenario.yaml").write_text("apiVersion: poc-runner/v1\nname: big\n")
    for index in range(FOLDERS):
        part = folder / "export" / f"part-{index:03}"
        part.mkdir(parents=True)
        for number in range(FILES // FOLDERS):
            (part / f"{number:04}.csv").write_bytes(b"id\n1\n")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poc-watch-bench-") as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        fill(folder)
        print(
            f"{FILES:,} files in {FOLDERS} folders written in {time.perf_counter() - started:.1f} s"
        )
        child = subprocess.Popen(
            [sys.executable, "-c", WAIT, str(folder)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        child.stdout.readline()  # up and looking
        began = time.perf_counter()
        time.sleep(DURATION)
        child.send_signal(signal.SIGKILL)
        _, _, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - began
    share = (usage.ru_utime + usage.ru_stime) / wall
    print(f"poc watch waiting on {FILES:,} files: {share:.1%} of one core over {wall:.1f} s")
    if share > TARGET:
        print(f"MISSED: target under {TARGET:.0%}")
        return 1
    print(f"ok: under {TARGET:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
