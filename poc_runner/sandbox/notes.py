"""Notes of what removed a sandbox left up, so a run using it can say what took it away.

A sandbox left up (`poc up`, `--keep`) may be in use by a run on it (`--reuse`, `poc watch`)
when `poc down` or `poc clean` removes it, in another terminal or by another user. The command
that removes it notes who it was (state_dir()/removed/<run id>); the run, finding its services
gone, names it ("removed by `poc down` (pid 4242, ann@laptop, at 10:02:17)"). Only a hint: a
note that cannot be written costs the run that name, nothing else. Any backend's sweep writes
them; any backend's service watch reads them.
"""

from __future__ import annotations

import contextlib
import json
import os
import time

from poc_runner import settings
from poc_runner.sandbox.owner import this_process, this_user

_NOTE_DAYS = 2  # a removal note older than this is of no run any more


def note_removal(run_id: str, by: str) -> None:
    """Say, for a run that may be using the sandbox, what removed it: `by`, this process and
    user, and when."""
    folder = settings.state_dir() / "removed"
    me = this_process()
    note = {
        "by": by,
        "pid": me.pid if me is not None else os.getpid(),
        "user": this_user(),
        "at": time.strftime("%H:%M:%S"),
    }
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / run_id).write_text(json.dumps(note))
        oldest = time.time() - _NOTE_DAYS * 86_400
        for old in folder.iterdir():
            if old.stat().st_mtime < oldest:
                old.unlink(missing_ok=True)


def removed_by(run_id: str) -> str | None:
    """What removed the run's sandbox, in words, if a command of this user noted it."""
    try:
        note = json.loads((settings.state_dir() / "removed" / run_id).read_text())
        return f"{note['by']} (pid {note['pid']}, {note['user']}, at {note['at']})"
    except (OSError, ValueError, KeyError, TypeError):
        return None
