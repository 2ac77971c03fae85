"""The sha256 each data file had, reused while the file is provably unchanged (as git's index).

Hashing a 1 GB extract takes a second or more; looking at its inode takes microseconds. A
recorded digest is reused only while the file's identity (device, inode, size, mtime and ctime,
in nanoseconds) is what it was when the file was read. Any write, even one that puts size and
mtime back, changes ctime, which no call can set back, so it is seen. A file changed less than
`RACY_NS` before it was read is not recorded, since a change right after could carry the same
timestamps (git's "racily clean" entries); nor is one that changed while it was read.

The index is a file in the state folder (`data-index.json`), keyed by absolute path: it speaks of
files on this machine, for this user, so it belongs neither on the engine (which may be remote
and shared) nor in the scenario folder (the prospect's, maybe read-only, and copied into the
sandbox). It is only a hint: missing, unreadable, corrupt (it carries its own checksum) or of
another version, it counts as empty and every file is hashed again; it never decides alone what
a sandbox holds (see datacache.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from poc_runner.atomic import write_atomic
from poc_runner.settings import state_dir

VERSION = 1
RACY_NS = 1_000_000_000  # a change closer than this to the read may share its timestamps
_FORGET_DAYS = 30  # an entry not used for this long is dropped
_DAY_S = 86_400

Entry = list[Any]  # [device, inode, size, mtime_ns, ctime_ns, sha256, day last used]


def identity(info: os.stat_result) -> list[int]:
    """What must stay the same for a recorded digest to hold."""
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def index_path() -> Path:
    return state_dir() / "data-index.json"


class HashIndex:
    """Digests by absolute path, loaded once per fill and saved (merged) at its end."""

    def __init__(self, path: Path, entries: dict[str, Entry]) -> None:
        self.path = path
        self._entries = entries
        self._changed: dict[str, Entry] = {}
        self._today = int(time.time()) // _DAY_S

    @classmethod
    def load(cls, path: Path | None = None) -> HashIndex:
        path = path or index_path()
        return cls(path, _read(path))

    def digest(self, path: str, info: os.stat_result) -> str | None:
        """The recorded sha256 of the file at `path`, if it is the very file that was read."""
        key = os.path.abspath(path)  # noqa: PTH100 - a string: no call to the file system
        entry = self._entries.get(key)
        if entry is None or entry[:5] != identity(info):
            return None
        if entry[6] != self._today:  # used today: kept another _FORGET_DAYS
            self._record(key, [*entry[:6], self._today])
        return str(entry[5])

    def remember(
        self,
        path: str,
        before: os.stat_result,
        after: os.stat_result,
        read_at_ns: int,
        digest: str,
    ) -> None:
        """Record what a read found, unless the file changed while it was read, or so shortly
        before that a later change could look the same."""
        seen = identity(before)
        if seen != identity(after) or max(seen[3], seen[4]) > read_at_ns - RACY_NS:
            return
        self._record(os.path.abspath(path), [*seen, digest, self._today])  # noqa: PTH100

    def _record(self, key: str, entry: Entry) -> None:
        self._entries[key] = entry
        self._changed[key] = entry

    def save(self) -> None:
        """Merge what this fill learnt into the file; a failure only costs hashing next time."""
        if not self._changed:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _locked(self.path):
                merged = {**_read(self.path), **self._changed}
                oldest = self._today - _FORGET_DAYS
                _write(self.path, {k: e for k, e in merged.items() if e[6] >= oldest})
            self._changed = {}


def _read(path: Path) -> dict[str, Entry]:
    try:
        header, _, body = path.read_bytes().partition(b"\n")
        meta = json.loads(header)
        if meta.get("version") != VERSION or meta.get("check") != hashlib.sha256(body).hexdigest():
            return {}
        entries = json.loads(body)
    except (OSError, ValueError, AttributeError):
        return {}
    return entries if isinstance(entries, dict) and all(map(_valid, entries.values())) else {}


def _valid(entry: object) -> bool:
    return (
        isinstance(entry, list)
        and len(entry) == 7
        and all(isinstance(part, int) for part in entry[:5] + entry[6:])
        and isinstance(entry[5], str)
    )


def _write(path: Path, entries: dict[str, Entry]) -> None:
    """A header line (version, checksum of the rest), then the entries: replaced whole."""
    body = json.dumps(entries, separators=(",", ":")).encode()
    header = json.dumps({"version": VERSION, "check": hashlib.sha256(body).hexdigest()})
    write_atomic(path, header.encode() + b"\n" + body)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One writer at a time (runs in parallel each merge what they learnt)."""
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:  # noqa: PTH123
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
