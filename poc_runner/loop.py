"""`poc watch`: the sales engineer's loop, on a sandbox left up. Every time the scenario file,
its data or its check scripts change, the steps and criteria run again (`poc run --reuse`) and
one screen says how it went; Ctrl-C ends the loop and leaves the sandbox up.

Changes are found by polling the scenario folder's files (size and modification time, twice
a second): nothing to install, and the same on every system. A round starts once the files
have stayed the same for a moment, so an editor saving several files starts one round, not
several. A round that cannot run (the file is invalid, the services changed since `poc up`)
says why, and the loop waits for the next change.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from poc_runner.errors import Interrupted, PocError
from poc_runner.progress import for_terminal
from poc_runner.result import RunResult
from poc_runner.run import Runner, RunOptions

POLL = 0.5  # seconds between two looks at the files
SETTLE = 0.3  # how long the files must stay the same before a round starts
SKIPPED = frozenset({"runs", "node_modules", "__pycache__"})  # besides hidden folders

Files = dict[Path, tuple[int, int]]  # path -> (modification time in ns, size)
Show = Callable[[str], None]


def files_of(folder: Path, out: Path) -> Files:
    """Every file a round depends on: the scenario folder's, but results and hidden ones."""
    found: Files = {}
    results = out.resolve()
    for root, folders, names in os.walk(folder):
        here = Path(root)
        folders[:] = [
            name
            for name in folders
            if not name.startswith(".")
            and name not in SKIPPED
            and (here / name).resolve() != results
        ]
        for name in names:
            try:
                info = (here / name).stat()
            except OSError:  # gone between listing and looking: the next look tells
                continue
            found[here / name] = (info.st_mtime_ns, info.st_size)
    return found


def changed(before: Files, after: Files) -> list[Path]:
    return sorted(
        path for path in before.keys() | after.keys() if before.get(path) != after.get(path)
    )


def watch(
    path: Path,
    options: RunOptions,
    show: Show,
    summarize: Callable[[RunResult], str],
    *,
    rounds: int | None = None,
) -> None:
    """Run now, then again on every change; `rounds` bounds it (tests), else Ctrl-C ends it,
    raising Interrupted with the sandbox left up."""
    folder = path.parent
    seen = files_of(folder, options.out)
    done = 0
    while rounds is None or done < rounds:
        _round(path, replace(options, reuse=True), show, summarize)
        done += 1
        if rounds is not None and done >= rounds:
            return
        show(f"watching {folder} for changes (Ctrl-C to stop; the sandbox stays up)")
        seen, what = _next_change(folder, options.out, seen)
        show(f"{time.strftime('%H:%M:%S')} changed: {', '.join(_shown(p, folder) for p in what)}")


def _round(
    path: Path, options: RunOptions, show: Show, summarize: Callable[[RunResult], str]
) -> None:
    progress = for_terminal()
    try:
        (result,) = Runner(options, progress).run_all([path])
    except Interrupted:
        raise
    except PocError as exc:  # cannot run now; the next change may mend it
        show(f"error: {exc}")
        return
    finally:
        progress.close()
    show(summarize(result))


def _next_change(folder: Path, out: Path, seen: Files) -> tuple[Files, list[Path]]:
    """Wait for the files to change, then to settle; the files as they are then, and what
    changed."""
    while True:
        time.sleep(POLL)
        now = files_of(folder, out)
        if now == seen:
            continue
        while True:  # settle: an editor may still be writing
            time.sleep(SETTLE)
            later = files_of(folder, out)
            if later == now:
                return now, changed(seen, now)
            now = later


def _shown(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)
