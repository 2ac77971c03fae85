"""`poc watch`: the sales engineer's loop, on a sandbox left up. Every time the scenario file,
its data or its check scripts change, the steps and criteria run again (`poc run --reuse`) and
one screen says how it went; Ctrl-C ends the loop and leaves the sandbox up.

Changes are found by polling the scenario folder's files (size and modification time): nothing
to install, and the same on every system. A look is bounded: at most MAX_WATCHED files, the
scenario's own folder first, then the folders nearest it (a folder holding more is said once),
and looks space out so that they take at most a tenth of the time between them, so a big folder
costs a little latency, never a core. A round starts once the files have stayed the same for a
moment, so an editor saving several files starts one round, not several. A round that cannot
run (the file is invalid, the services changed since `poc up`) says why, and the loop waits
for the next change. A sandbox that is gone (`poc down`, or taken away during a round) ends
the loop, saying so: there is nothing left to run on.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from poc_runner.backend import Engine
from poc_runner.backends import default_engine
from poc_runner.errors import Interrupted, PocError, SandboxError
from poc_runner.pipeline import Finished, Options, run_all
from poc_runner.progress import for_terminal

POLL = 0.5  # seconds between two looks at the files, at least
SETTLE = 0.3  # how long the files must stay the same before a round starts, at least
PATIENCE = 10  # looks space out to ten times as long as the last one took
MAX_WATCHED = 10_000  # files looked at; more are left unwatched, and that is said once
UP_EVERY = 2.0  # seconds between two questions to the engine: is the sandbox still up?
SKIPPED = frozenset({"runs", "node_modules", "__pycache__"})  # besides hidden folders

Files = dict[Path, tuple[int, int]]  # path -> (modification time in ns, size)
Show = Callable[[str], None]


@dataclass(frozen=True)
class Look:
    """The files a round depends on, as one look found them."""

    files: Files
    cut: bool  # the folder holds more than MAX_WATCHED files: the rest were not looked at
    took: float  # seconds the look took


def look(folder: Path, out: Path, limit: int = MAX_WATCHED) -> Look:
    """Every file a round depends on, up to `limit`: the scenario folder's, but results, hidden
    ones and caches; the folder's own files first, then each level of folders below it."""
    began = time.monotonic()
    found: Files = {}
    results = out.resolve()
    folders = deque([folder])
    while folders:
        here = folders.popleft()
        try:
            with os.scandir(here) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:  # gone between two looks: the next look tells
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=False):
                    if _watched_folder(entry.name, path, results):
                        folders.append(path)
                    continue
                info = entry.stat()
            except OSError:
                continue
            if len(found) >= limit:
                return Look(found, True, time.monotonic() - began)
            found[path] = (info.st_mtime_ns, info.st_size)
    return Look(found, False, time.monotonic() - began)


def _watched_folder(name: str, path: Path, results: Path) -> bool:
    return not name.startswith(".") and name not in SKIPPED and path.resolve() != results


def changed(before: Files, after: Files) -> list[Path]:
    return sorted(
        path for path in before.keys() | after.keys() if before.get(path) != after.get(path)
    )


def watch(
    path: Path,
    options: Options,
    show: Show,
    summarize: Callable[[Finished], str],
    still_up: Callable[[], None],
    *,
    rounds: int | None = None,
    engine: Engine | None = None,
) -> None:
    """Run now, then again on every change; `rounds` bounds it (tests), else Ctrl-C ends it,
    raising Interrupted with the sandbox left up. `still_up` raises SandboxError, saying so,
    once the sandbox is gone: asked after each round and every UP_EVERY seconds between."""
    folder = path.parent
    seen = look(folder, options.out)
    if seen.cut:
        show(
            f"{folder} holds more than {MAX_WATCHED:,} files: only the first {MAX_WATCHED:,}"
            " are watched (the scenario's own folder first); move what the scenario does not"
            " use out of it"
        )
    done = 0
    while rounds is None or done < rounds:
        _round(path, replace(options, reuse=True), show, summarize, engine)
        still_up()
        done += 1
        if rounds is not None and done >= rounds:
            return
        show(f"watching {folder} for changes (Ctrl-C to stop; the sandbox stays up)")
        seen, what = _next_change(folder, options.out, seen, still_up)
        show(f"{time.strftime('%H:%M:%S')} changed: {', '.join(_shown(p, folder) for p in what)}")


def _round(
    path: Path,
    options: Options,
    show: Show,
    summarize: Callable[[Finished], str],
    engine: Engine | None,
) -> None:
    progress = for_terminal()
    try:
        (result,) = run_all([path], options, on_event=progress, engine=engine)
    except Interrupted:
        raise
    except PocError as exc:  # cannot run now; the next change may mend it
        show(f"error: {exc}")
        return
    finally:
        progress.close()
    show(summarize(result))


def _next_change(
    folder: Path, out: Path, seen: Look, still_up: Callable[[], None]
) -> tuple[Look, list[Path]]:
    """Wait for the files to change, then to settle; the files as they are then, and what
    changed. Meanwhile the sandbox is asked after every UP_EVERY seconds."""
    asked = time.monotonic()
    while True:
        time.sleep(max(POLL, PATIENCE * seen.took))
        if time.monotonic() - asked >= UP_EVERY:
            still_up()
            asked = time.monotonic()
        now = look(folder, out)
        if now.files == seen.files:
            seen = now
            continue
        while True:  # settle: an editor may still be writing
            time.sleep(max(SETTLE, PATIENCE * now.took))
            later = look(folder, out)
            if later.files == now.files:
                return later, changed(seen.files, later.files)
            now = later


def _shown(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)


def gone_check(path: Path, engine: Engine | None = None) -> Callable[[], None]:
    """What `watch` asks to know the sandbox is still up: this user's sandbox of the scenario
    (named as its file says, even while the file is invalid) left up; once none is,
    SandboxError saying so, and what removed it when that was noted (backends/docker/sweep.py)."""
    from poc_runner.loader import LoadError, parse, read_text
    from poc_runner.sandbox.notes import removed_by

    try:
        data = parse(read_text(path)).data
    except LoadError:
        data = None
    scenario = data.get("name") if isinstance(data, dict) else None
    if not isinstance(scenario, str):
        return lambda: None  # no name to find it by: the rounds say what is wrong
    left = engine or default_engine()
    runs = left.left_up(scenario)

    def still_up() -> None:
        if left.left_up(scenario):
            return
        notes = [note for run in runs if run and (note := removed_by(run))]
        by = f" (removed by {notes[0]})" if notes else ""
        raise SandboxError(
            f"the sandbox of {scenario} is gone{by}: stopped watching. Bring it up again with"
            f" `poc up {path}`, then `poc watch {path}`"
        )

    return still_up
