"""Engines reached as the docker CLI reaches them: TLS only with the engine's certificate
checked unless POC_ENGINE_INSECURE=1 says otherwise; an `ssh://` address passed on as it was
given (no port 22 filled in), ~/.ssh/config filling in the rest. No engine is needed: every
refusal here comes before a connection is tried (the addresses lead nowhere)."""

from __future__ import annotations

from pathlib import Path

import pytest

from poc_runner.backends.docker import client as engine
from poc_runner.backends.docker import sshlink
from poc_runner.backends.docker.sshlink import Target, paramiko_params
from poc_runner.errors import SandboxError
from tests.unit.test_contexts import write_context

NOWHERE = "tcp://127.0.0.1:9"  # the discard port: nothing answers


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv(engine.INSECURE, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    engine._warn_unchecked.cache_clear()


def certificates(tmp_path: Path) -> Path:
    folder = tmp_path / "certs"
    folder.mkdir()
    for part in ("ca", "cert", "key"):
        (folder / f"{part}.pem").write_text(part)
    return folder


def test_a_cert_path_without_tls_verify_is_refused_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    monkeypatch.setenv("DOCKER_CERT_PATH", str(certificates(tmp_path)))
    with pytest.raises(SandboxError) as refused:
        engine.connect(timeout=2)
    message = str(refused.value)
    assert f"the Docker engine at {NOWHERE} would be reached over TLS without checking" in message
    assert "Set DOCKER_TLS_VERIFY=1" in message
    assert "POC_ENGINE_INSECURE=1" in message


def test_insecure_on_request_warns_once_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    monkeypatch.setenv("DOCKER_CERT_PATH", str(certificates(tmp_path)))
    monkeypatch.setenv(engine.INSECURE, "1")
    for _ in range(2):
        with pytest.raises(SandboxError, match="no Docker engine answers"):  # it went on
            engine.connect(timeout=2)
    warned = capsys.readouterr().err
    assert warned.count("warning: the Docker engine at tcp://127.0.0.1:9 is reached over TLS") == 1
    assert engine.link() == (
        False,
        f"TLS to {NOWHERE} WITHOUT checking the engine's certificate (POC_ENGINE_INSECURE=1)",
    )


def test_a_context_that_skips_verification_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "docker-config"
    write_context(config, "lax", NOWHERE, tls=True, skip=True)
    (config / "config.json").write_text('{"currentContext": "lax"}')
    with pytest.raises(SandboxError, match="The Docker context 'lax' says skip-tls-verify"):
        engine.connect(timeout=2)


def test_tls_verify_is_checked_and_said_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    monkeypatch.setenv("DOCKER_CERT_PATH", str(certificates(tmp_path)))
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    assert engine.link() == (True, f"TLS to {NOWHERE}, the engine's certificate checked")


def test_plain_tcp_is_said_to_be_plain_tcp(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DOCKER_CERT_PATH, no DOCKER_TLS_VERIFY: no TLS at all (doctor once said "TLS
    WITHOUT checking", a warning, for an engine that no TLS was asked of)."""
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    assert engine.link() == (True, f"plain TCP to {NOWHERE}, no TLS")


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("ssh://alias", []),
        ("ssh://ops@alias", ["-l", "ops"]),
        ("ssh://ops@10.0.0.5:2222", ["-l", "ops", "-p", "2222"]),
    ],
)
def test_an_ssh_address_is_passed_on_as_given(url: str, options: list[str]) -> None:
    """No port 22 filled in: `ssh` reads the Port of ~/.ssh/config for what is not given."""
    assert Target.of(url).options() == options


SSH_CONFIG = (
    "Host alias\n  HostName 127.0.0.1\n  Port 22022\n  User root\n"
    "  IdentityFile ~/.ssh/poc_key\n\nHost *\n  User nobody\n"
)


def test_paramiko_reads_the_alias_as_ssh_would(tmp_path: Path) -> None:
    (tmp_path / "home" / ".ssh").mkdir(parents=True)
    (tmp_path / "home" / ".ssh" / "config").write_text(SSH_CONFIG)
    found = paramiko_params(Target.of("ssh://alias"))
    assert (found["hostname"], found["port"], found["username"]) == ("127.0.0.1", 22022, "root")
    assert found["key_filename"] == [str(tmp_path / "home" / ".ssh" / "poc_key")]
    given = paramiko_params(Target.of("ssh://ops@alias:2200"))  # the address wins
    assert (given["port"], given["username"]) == (2200, "ops")
    other = paramiko_params(Target.of("ssh://elsewhere"))
    assert (other["hostname"], other["port"], other["username"]) == ("elsewhere", 22, "nobody")


class _Arriving:
    """A link as `_Received` reads it: the engine's bytes in the chunks they arrive in."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)

    def receive(self, _size: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


def test_what_http_reads_and_what_a_stream_reads_share_one_buffer() -> None:
    """The headers arrive with the stream's first bytes; HTTP reads the headers, the SDK
    reads the stream after them (recv): not a byte is lost, nothing waits for what is there."""
    received = sshlink._Received(
        _Arriving(b"HTTP/1.1 101 UPGRADED\r\nConn", b"ection: Upgrade\r\n\r\n\x01abc", b"def")
    )  # type: ignore[arg-type]
    assert received.readline(65537) == b"HTTP/1.1 101 UPGRADED\r\n"
    assert received.readline(65537) == b"Connection: Upgrade\r\n"
    assert received.readline(65537) == b"\r\n"
    assert received.buffered  # the stream's first bytes, read with the headers
    assert received.read1(0) == b""  # an empty body asks for nothing
    assert received.read1(100) == b"\x01abc"
    assert received.read(3) == b"def"
    assert received.read(10) == b""  # the end


def test_read_waits_for_all_it_asks_and_readline_keeps_to_its_limit() -> None:
    received = sshlink._Received(_Arriving(b"ab", b"cd", b"ef\n", b"gh"))  # type: ignore[arg-type]
    assert received.read(5) == b"abcde"
    assert received.readline(2) == b"f\n"
    assert received.read() == b"gh"
