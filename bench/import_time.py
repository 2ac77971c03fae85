"""Benchmark: `python -c "import poc_runner"`, and what that import loads.

What is measured, and why:

- The wall clock of `python -c "import poc_runner"` in a fresh interpreter each time (median
  of 41, after 3 to warm the file cache), interpreter start included, since that is what a
  user's script, a pytest session loading the plugin, or a CI step pays. The package loads its
  public names on first use (PEP 562), so the import itself must stay near the interpreter's
  own start. Target: under 60 ms. `python -c "pass"` is timed alike, in turn with it, and
  shown beside it, so a slow or loaded machine reads as such rather than as a slow package.
- Which modules that import loaded: none of the docker SDK, pydantic (and pydantic_core) or
  click may be among them (python-api.md: "`import poc_runner` is cheap"). A test keeps this
  too (tests/unit/test_api.py); here it is checked on the interpreter the timing used.

Each interpreter starts in a temporary folder, so the package is found where it is installed,
not in the working directory. Standard library only; run with `make bench` (or
`.venv/bin/python bench/import_time.py`). Exits 1 when the target is missed or a heavy module
is loaded.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 41
WARM_UP = 3
TARGET_MS = 60.0
HEAVY = ("docker", "pydantic", "pydantic_core", "click")

LOADED = "import json, sys, poc_runner; print(json.dumps(sorted(sys.modules)))"


def once_ms(code: str, folder: str) -> float:
    """The wall clock of `python -c code` in a fresh interpreter, in milliseconds."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"python -c {code!r} failed:\n{done.stderr.decode()}")
    return elapsed * 1000


def medians_ms(codes: tuple[str, ...], folder: str) -> list[float]:
    """The median of each code's timings, taken in turn (one of each, then again), so that
    the machine's load at any moment weighs on all of them alike."""
    timings: list[list[float]] = [[] for _ in codes]
    for attempt in range(WARM_UP + RUNS):
        for code, taken in zip(codes, timings, strict=True):
            elapsed = once_ms(code, folder)
            if attempt >= WARM_UP:
                taken.append(elapsed)
    return [statistics.median(taken) for taken in timings]


def heavy_modules(folder: str) -> list[str]:
    """The modules of HEAVY (or inside them) that `import poc_runner` loaded."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED], cwd=folder, capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout)
    return [name for name in loaded if name.split(".")[0] in HEAVY]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poc-bench-import-") as folder:
        bare_ms, import_ms = medians_ms(("pass", "import poc_runner"), folder)
        heavy = heavy_modules(folder)

    label = f'python -c "import poc_runner" (median of {RUNS})'
    print(f"{'measure (ms)':<52} {'value':>8} {'target':>8}")
    print(f"{f'python -c pass (median of {RUNS})':<52} {bare_ms:>8.1f} {'-':>8}")
    print(f"{label:<52} {import_ms:>8.1f} {f'< {TARGET_MS:g}':>8}")
    print(f"{'  of which the import itself':<52} {import_ms - bare_ms:>8.1f} {'-':>8}")
    print()
    ok = import_ms < TARGET_MS
    print(f"{'PASS' if ok else 'MISS'}: {label}: {import_ms:.1f} ms (target < {TARGET_MS:g} ms)")
    if heavy:
        print(f"MISS: import poc_runner loaded {', '.join(heavy)}")
    else:
        print(f"PASS: import poc_runner loaded none of {', '.join(HEAVY)}")
    return 0 if ok and not heavy else 1


if __name__ == "__main__":
    sys.exit(main())
