"""The labels every Docker object of a run carries (spec, "Command line and exit codes").

`io.poc-runner.run` and `io.poc-runner.scenario` are the contract: anyone can find a run's
objects with `docker ps -a --filter label=io.poc-runner.run`. The others are poc-runner's own
bookkeeping: the process that owns the run (so any later command can tell whether it still
lives, see backends/docker/sweep.py), the host and user it ran for, which service a container
plays, and whether the sandbox was left up on purpose.
"""

from __future__ import annotations

import secrets
import socket
from datetime import UTC, datetime

from poc_runner.sandbox.owner import this_process, this_user

RUN = "io.poc-runner.run"
SCENARIO = "io.poc-runner.scenario"
SERVICE = "io.poc-runner.service"
HOST = "io.poc-runner.host"
OWNER = "io.poc-runner.owner"  # boot id / PID namespace / pid / start time of the owning process
USER = "io.poc-runner.user"  # user@host: whose kept sandbox it is
KEPT = "io.poc-runner.kept"  # left up by `poc up` or `poc run --keep`; only `poc clean` removes it
FOLDER = "io.poc-runner.folder"  # a ports forwarder's: the scenario folder (`poc down FOLDER`)
# The data cache (datacache.py): volumes that outlive runs, so they carry no RUN label.
DATA_CACHE = "io.poc-runner.data-cache"  # the cache entry's id, on its data volume and its stamps
DATA_KEY = "io.poc-runner.data-key"  # a stamp's: what its entry holds (datacache.content_key)
DATA_BYTES = "io.poc-runner.data-bytes"  # a stamp's: the bytes of files its entry holds
DATA_USED = "io.poc-runner.data-used"  # a stamp's: when a run last took its entry (ns since 1970)


def new_run_id() -> str:
    """A run's id: when it started (UTC, so ids sort by time) and a random part."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def name_prefix(run_id: str) -> str:
    """What the names of a run's objects start with: `<prefix>-<service>` for services,
    `<prefix>-net` for its network, `<prefix>_...` for poc-runner's own helpers ('_' after the
    prefix, so no service name can collide with one)."""
    return f"poc-{run_id}"


def run_labels(run_id: str, scenario: str, *, kept: bool = False) -> dict[str, str]:
    labels = {RUN: run_id, SCENARIO: scenario, **owner_labels()}
    if kept:
        labels[KEPT] = "true"
    return labels


def owner_labels() -> dict[str, str]:
    """Who made an object: this process (when the kernel names it), its host and user."""
    owner = this_process()
    labels = {HOST: socket.gethostname(), USER: this_user()}
    if owner is not None:
        labels[OWNER] = owner.label()
    return labels
