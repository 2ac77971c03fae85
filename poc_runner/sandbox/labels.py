"""The labels every Docker object of a run carries (spec, "Command line and exit codes").

`io.poc-runner.run` and `io.poc-runner.scenario` are the contract: anyone can find a run's
objects with `docker ps -a --filter label=io.poc-runner.run`. The others are poc-runner's own
bookkeeping: which host started the run (only that host can tell whether it is still alive),
which service a container plays, and whether the sandbox was left up on purpose.
"""

from __future__ import annotations

import socket

RUN = "io.poc-runner.run"
SCENARIO = "io.poc-runner.scenario"
SERVICE = "io.poc-runner.service"
HOST = "io.poc-runner.host"
KEPT = "io.poc-runner.kept"  # left up by `poc up` or `poc run --keep`; only `poc clean` removes it


def run_labels(run_id: str, scenario: str, *, kept: bool = False) -> dict[str, str]:
    labels = {RUN: run_id, SCENARIO: scenario, HOST: socket.gethostname()}
    if kept:
        labels[KEPT] = "true"
    return labels
