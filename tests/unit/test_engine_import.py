"""The docker SDK's SSH transport (and paramiko, 0.2 s to import) is loaded only for an engine
reached over SSH. Each case is a fresh interpreter: the SDK is imported once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_contexts import write_context

PROBE = """\
import json, sys
from poc_runner.backends.docker import client as engine
engine._ssh_transport_only_for_ssh(engine._chosen())
import docker
print(json.dumps({"paramiko": "paramiko" in sys.modules, "api": hasattr(docker, "APIClient")}))
"""


def probe(environment: dict[str, str]) -> dict[str, bool]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    found: dict[str, bool] = json.loads(done.stdout)
    return found


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    plain = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    return {**plain, "DOCKER_CONFIG": str(tmp_path)}


@pytest.mark.parametrize("host", ["unix:///var/run/docker.sock", "tcp://127.0.0.1:2376"])
def test_a_local_or_tcp_engine_leaves_paramiko_unloaded(
    environment: dict[str, str], host: str
) -> None:
    assert probe({**environment, "DOCKER_HOST": host}) == {"paramiko": False, "api": True}


def test_an_ssh_engine_loads_it(environment: dict[str, str]) -> None:
    found = probe({**environment, "DOCKER_HOST": "ssh://poc@127.0.0.1"})
    assert found == {"paramiko": True, "api": True}


def test_a_context_over_ssh_loads_it(environment: dict[str, str]) -> None:
    write_context(Path(environment["DOCKER_CONFIG"]), "far", "ssh://poc@127.0.0.1")
    found = probe({**environment, "DOCKER_CONTEXT": "far"})
    assert found == {"paramiko": True, "api": True}
