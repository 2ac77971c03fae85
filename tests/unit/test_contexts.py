"""Docker contexts, read as the docker CLI reads them: which one names the engine, where it
is, and its TLS files; DOCKER_HOST wins over every context."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from poc_runner.backends.docker.contexts import Context, chosen_context
from poc_runner.errors import SandboxError


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    for variable in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def write_context(
    config: Path, name: str, host: str, *, tls: bool = False, skip: bool = False
) -> None:
    key = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / key
    meta.mkdir(parents=True)
    docker = {"Host": host, "SkipTLSVerify": skip}
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": docker}}))
    if tls:
        files = config / "contexts" / "tls" / key / "docker"
        files.mkdir(parents=True)
        for part in ("ca", "cert", "key"):
            (files / f"{part}.pem").write_text(part)


def test_no_context_means_the_default_engine(config: Path) -> None:
    assert chosen_context() is None


def test_docker_context_names_one(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONTEXT", "staging")
    assert chosen_context() == "staging"


def test_the_current_context_of_the_config_file(config: Path) -> None:
    (config / "config.json").write_text(json.dumps({"currentContext": "demo-host"}))
    assert chosen_context() == "demo-host"


def test_docker_host_wins_over_every_context(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (config / "config.json").write_text(json.dumps({"currentContext": "demo-host"}))
    monkeypatch.setenv("DOCKER_CONTEXT", "staging")
    monkeypatch.setenv("DOCKER_HOST", "ssh://ops@demo.example.com")
    assert chosen_context() is None


def test_a_context_says_where_and_with_which_tls_files(config: Path) -> None:
    write_context(config, "staging", "tcp://engine.example.com:2376", tls=True)
    found = Context.load("staging")
    assert (found.host, found.verify) == ("tcp://engine.example.com:2376", True)
    assert found.tls is not None and (found.tls / "ca.pem").read_text() == "ca"


def test_an_ssh_context_has_no_tls_files(config: Path) -> None:
    write_context(config, "box", "ssh://ops@box.example.com", skip=True)
    assert Context.load("box") == Context("box", "ssh://ops@box.example.com", None, False)


def test_a_missing_context_is_named_with_where_it_was_looked_for(config: Path) -> None:
    with pytest.raises(SandboxError, match=f"no Docker context 'nope' in {config / 'contexts'}"):
        Context.load("nope")
