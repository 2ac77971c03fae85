"""The link to an `ssh://` engine, made as `ssh` itself would make it.

The docker SDK fills in port 22 for `ssh://host` before anything reads `~/.ssh/config`
(`utils.parse_host`), so a `Port` there was never used (docker/compose 8265), whichever of its
two SSH transports ran. So the link is made here, from the address as it was given:

- With the system `ssh` client, where one is installed (as the docker CLI does): each
  connection is an `ssh [-l USER] [-p PORT] HOST` running `docker system dial-stdio` on the
  engine's machine, with only what the address says on the command line, so `ssh` reads the
  whole of its configuration (Port, User, IdentityFile, ProxyJump, ProxyCommand, known hosts,
  agent). It runs in batch mode: nothing prompts (poc-runner makes connections in parallel);
  keys come from the agent or files without a passphrase, and a host key must be known already.
  A connection counts once the far side answers (`HANDSHAKE`), so at most `HANDSHAKES` are being
  made at once (sshd drops connections beyond its MaxStartups, 10) and ssh's own words say why
  one failed; one dropped in the handshake is tried again.
- Otherwise with paramiko, reading `~/.ssh/config` for the host as `ssh` would (HostName,
  Port, User, IdentityFile, UserKnownHostsFile, ProxyCommand, ProxyJump), known hosts only.
  Each call is then a channel of one SSH connection, and sshd refuses channels past its
  MaxSessions (10 by default): a run's parallel calls went past it and failed with "open
  failed: Connect failed". So every call shares one pool, which keeps at most IDLE channels
  open between calls, and a channel refused is asked for again shortly, as the calls in
  flight end and free theirs.

`poc doctor` says which client was used and the address it reached (`describe`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko  # type: ignore[import-untyped]
from docker.transport.sshconn import SSHConnection, SSHConnectionPool, SSHHTTPAdapter

IDLE = 4  # connections (channels) kept open between calls, of sshd's 10 sessions
RETRIES = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)  # seconds between asks for a refused channel
HANDSHAKES = 4  # system ssh connections being made at once, of sshd's MaxStartups of 10
HANDSHAKE = b"poc-runner: dial-stdio\n"  # what the far side says before the engine's bytes
REMOTE = f"printf '{HANDSHAKE.decode().strip()}\\n' && exec docker system dial-stdio"
CONNECT_WITHIN = 30.0  # seconds for ssh to reach the far side and start dial-stdio
_KEY = "http+docker://ssh"  # the one pool's key, whatever the URL
_DROPPED = ("kex_exchange_identification", "Connection closed by", "Connection reset by")
LINK_ERRORS = (OSError, paramiko.SSHException)  # what making a link may raise


@dataclass(frozen=True)
class Target:
    """An `ssh://` address as given: only what it says, nothing filled in."""

    host: str
    user: str | None = None
    port: int | None = None

    @classmethod
    def of(cls, url: str) -> Target:
        parsed = urllib.parse.urlparse(url)
        return cls(parsed.hostname or "", parsed.username, parsed.port)

    def options(self) -> list[str]:
        """What `ssh` is told on its command line: the user and port only when given."""
        return [
            *(["-l", self.user] if self.user else []),
            *(["-p", str(self.port)] if self.port else []),
        ]


def system_ssh() -> str | None:
    """The system `ssh` client, where one is installed."""
    return shutil.which("ssh")


def describe(url: str) -> str:
    """Which client reaches the engine, and where it leads: `ssh /usr/bin/ssh to
    root@127.0.0.1 port 22022` (as `ssh -G` resolves the address), or paramiko's."""
    target = Target.of(url)
    program = system_ssh()
    if program is not None:
        resolved = _ssh_config(program, target)
        where = f"{resolved.get('user', '?')}@{resolved.get('hostname', target.host)}"
        return f"the system ssh client ({program}), to {where} port {resolved.get('port', '?')}"
    params = paramiko_params(target)
    where = f"{params.get('username') or '(your user)'}@{params['hostname']}"
    via = " through a jump host" if "proxyjump" in _lookup(target.host) else ""
    return f"paramiko (no ssh client installed), to {where} port {params['port']}{via}"


def _ssh_config(program: str, target: Target) -> dict[str, str]:
    """What `ssh -G` says it would use for the address: user, hostname, port, ..."""
    done = subprocess.run(
        [program, "-G", *target.options(), "--", target.host],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    found: dict[str, str] = {}
    for line in done.stdout.splitlines():
        key, _, value = line.partition(" ")
        found.setdefault(key, value)
    return found


def adapter(url: str, timeout: float) -> SSHHTTPAdapter:
    """The link to the engine at `url`: the system ssh client's, else paramiko's."""
    target = Target.of(url)
    program = system_ssh()
    if program is not None:
        return SystemAdapter(program, target, timeout)
    return ParamikoAdapter(target, timeout)


# The system ssh client.


@functools.cache
def _always_readable() -> int:
    """A descriptor that is always readable (a pipe holding a byte nobody reads)."""
    readable, writable = os.pipe()
    os.write(writable, b".")
    return readable


class SystemSocket(socket.socket):
    """A connection to the engine through an `ssh` process: its stdin and stdout carry the
    engine's bytes (`docker system dial-stdio`), with the socket's timeout kept on reads."""

    _handshakes = threading.Semaphore(HANDSHAKES)

    def __init__(self, program: str, target: Target) -> None:
        super().__init__(socket.AF_INET, socket.SOCK_STREAM)  # only for its timeout
        self.program, self.target = program, target
        self.process: subprocess.Popen[bytes] | None = None
        self.received = _Received(self)

    def connect(self, *_args: Any) -> None:
        """Start `ssh` and wait until the far side answers; a handshake sshd dropped (too many
        at once) is tried again, anything else is an error in ssh's own words."""
        for pause in (*RETRIES, None):
            with self._handshakes:
                problem = self._start()
            if problem is None:
                return
            if pause is None or not any(word in problem for word in _DROPPED):
                raise ConnectionError(f"ssh to {self.target.host}: {problem}")
            time.sleep(pause)

    def _start(self) -> str | None:
        argv = [self.program, "-o", "BatchMode=yes", *self.target.options()]
        self.process = subprocess.Popen(
            [*argv, "--", self.target.host, REMOTE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C in the terminal is poc-runner's to handle
        )
        answer = b""
        deadline = time.monotonic() + CONNECT_WITHIN
        while len(answer) < len(HANDSHAKE):
            left = deadline - time.monotonic()
            if left <= 0 or not self._readable(left):
                self._end()
                return f"no answer within {CONNECT_WITHIN:.0f} s"
            more = os.read(self._stdout(), len(HANDSHAKE) - len(answer))
            if not more:
                return self._failure()
            answer += more
        if answer != HANDSHAKE:
            self._end()
            return "the far side did not start `docker system dial-stdio`"
        return None

    def _stdout(self) -> int:
        if self.process is None or self.process.stdout is None:
            raise ConnectionError(f"the ssh connection to {self.target.host} is closed")
        return self.process.stdout.fileno()

    def fileno(self) -> int:
        """What the engine sends arrives here, readable when there is something to read: the
        SDK waits on it before each read of a stream, and urllib3 looks at it to tell a
        connection kept between calls from one that dropped (readable while idle: ssh ended).
        Bytes already read into the buffer count: then it is a descriptor always readable."""
        if self.process is None:
            return -1
        return _always_readable() if self.received.buffered else self._stdout()

    def _readable(self, timeout: float | None) -> bool:
        return bool(select.select([self._stdout()], [], [], timeout)[0])

    def _failure(self) -> str:
        """Why `ssh` ended: the last thing it said."""
        assert self.process is not None and self.process.stderr is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        said = self.process.stderr.read().decode(errors="replace").strip().splitlines()
        self._end()
        return said[-1] if said else f"ssh ended with code {self.process.returncode}"

    def sendall(self, data: bytes, *_flags: int) -> None:  # type: ignore[override]
        assert self.process is not None and self.process.stdin is not None
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise ConnectionError(f"ssh to {self.target.host}: {self._failure()}") from None

    def send(self, data: bytes, *_flags: int) -> int:  # type: ignore[override]
        self.sendall(data)
        return len(data)

    def receive(self, size: int) -> bytes:
        """What has come from the engine, up to `size` bytes, waiting for it at most the
        socket's timeout; b"" at the end."""
        timeout = self.gettimeout()
        if not self._readable(timeout):
            raise TimeoutError(f"the engine sent nothing within {timeout} s")
        data = os.read(self._stdout(), size)
        if not data and self.process is not None and self.process.poll():
            raise ConnectionError(f"ssh to {self.target.host}: {self._failure()}")
        return data

    def recv(self, size: int, *_flags: int) -> bytes:
        """A stream's next bytes (the SDK's reads of exec and attach), the buffer's first."""
        return self.received.read1(size)

    def makefile(self, *_args: Any, **_kwargs: Any) -> Any:
        return self.received

    def close(self) -> None:
        self._end()
        super().close()

    def _end(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout, process.stderr):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        with contextlib.suppress(OSError):
            process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


class _Received:
    """What the engine sends, as HTTP reads it (a buffered binary file) and as the SDK reads a
    stream (`recv` of `channel`, after the headers): one buffer for both, so no byte read
    ahead with the headers is lost to the stream, and the socket's timeout holds."""

    def __init__(self, link: SystemSocket) -> None:
        self.link, self.channel = link, link  # the SDK reads streams from `channel`
        self._buffer = b""
        self.closed = False

    @property
    def buffered(self) -> bool:
        return bool(self._buffer)

    def _fill(self) -> bool:
        """One read of what has come (waiting for it); False at the end of the stream."""
        more = self.link.receive(_CHUNK)
        self._buffer += more
        return bool(more)

    def read1(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        if not self._buffer:
            self._fill()
        size = len(self._buffer) if size < 0 else size
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._buffer) < size) and self._fill():
            pass
        return self.read1(size)

    def readinto(self, target: Any) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readinto1(self, target: Any) -> int:
        data = self.read1(len(target))
        target[: len(data)] = data
        return len(data)

    def readline(self, limit: int = -1) -> bytes:
        while b"\n" not in self._buffer and (limit < 0 or len(self._buffer) < limit):
            if not self._fill():
                break
        end = self._buffer.find(b"\n") + 1 or len(self._buffer)
        return self.read1(end if limit < 0 else min(end, limit))

    def peek(self, size: int = 0) -> bytes:
        if not self._buffer:
            self._fill()
        return self._buffer

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.link.fileno()

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True  # the connection is the socket's to close


_CHUNK = 65536


class SystemConnection(SSHConnection):  # type: ignore[misc]
    def __init__(self, program: str, target: Target, timeout: float) -> None:
        super().__init__(None, timeout, target.host)
        self.program, self.target = program, target

    def connect(self) -> None:
        link = SystemSocket(self.program, self.target)
        link.settimeout(self.timeout)
        link.connect()
        self.sock = link


class SystemPool(SSHConnectionPool):  # type: ignore[misc]
    def __init__(self, program: str, target: Target, timeout: float) -> None:
        super().__init__(None, timeout, IDLE, target.host)
        self.program, self.target = program, target

    def _new_conn(self) -> SystemConnection:
        return SystemConnection(self.program, self.target, self.timeout)


class SystemAdapter(SSHHTTPAdapter):  # type: ignore[misc]
    """Every call through one pool of `ssh` connections, at most IDLE kept between calls."""

    def __init__(self, program: str, target: Target, timeout: float) -> None:
        super().__init__(f"ssh://{target.host}", timeout, shell_out=True)
        self.program, self.target = program, target

    def get_connection(self, url: str, proxies: Any = None) -> Any:
        with self.pools.lock:
            pool = self.pools.get(_KEY)
            if pool is None:
                pool = self.pools[_KEY] = SystemPool(self.program, self.target, self.timeout)
        return pool


# paramiko, where no ssh client is installed.


def _lookup(host: str) -> dict[str, Any]:
    """What ~/.ssh/config says of `host` (as paramiko reads it)."""
    path = Path.home() / ".ssh" / "config"
    config = paramiko.SSHConfig.from_path(str(path)) if path.is_file() else paramiko.SSHConfig()
    found: dict[str, Any] = config.lookup(host)
    return found


def paramiko_params(target: Target) -> dict[str, Any]:
    """`SSHClient.connect`'s arguments for the address, ~/.ssh/config filling in what it does
    not say itself, as `ssh` would (the address wins)."""
    found = _lookup(target.host)
    params: dict[str, Any] = {
        "hostname": found.get("hostname", target.host),
        "port": target.port or int(found.get("port", 22)),
        "username": target.user or found.get("user"),
    }
    if "identityfile" in found:
        params["key_filename"] = found["identityfile"]
    return params


def paramiko_client(target: Target, timeout: float) -> paramiko.SSHClient:
    """A connected client: known hosts only, through the ProxyCommand or ProxyJump the
    configuration names."""
    found = _lookup(target.host)
    params = paramiko_params(target)
    client = paramiko.SSHClient()
    client.load_system_host_keys()
    for known in str(found.get("userknownhostsfile", "")).split():
        if Path(known).expanduser().is_file():
            client.load_host_keys(str(Path(known).expanduser()))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    if "proxycommand" in found and found["proxycommand"].lower() != "none":
        params["sock"] = paramiko.ProxyCommand(found["proxycommand"])
    elif "proxyjump" in found and found["proxyjump"].lower() != "none":
        params["sock"] = _jumped(found["proxyjump"], params, timeout)
    client.connect(**params, timeout=timeout)
    return client


def _jumped(jumps: str, final: dict[str, Any], timeout: float) -> paramiko.Channel:
    """A channel to the final host through each jump host in turn (`ProxyJump a,b`)."""
    hops = [Target.of(f"ssh://{hop.strip()}") for hop in jumps.split(",")]
    first = paramiko_client(hops[0], timeout)
    transport = first.get_transport()
    assert transport is not None
    for hop in [*hops[1:], None]:
        where = paramiko_params(hop) if hop is not None else final
        channel = transport.open_channel(
            "direct-tcpip", (where["hostname"], where["port"]), ("127.0.0.1", 0)
        )
        if hop is None:
            return channel
        nested = paramiko.SSHClient()
        nested.load_system_host_keys()
        nested.set_missing_host_key_policy(paramiko.RejectPolicy())
        nested.connect(**where, sock=channel, timeout=timeout)
        transport = nested.get_transport()
        assert transport is not None
    raise AssertionError("unreachable")


class PatientConnection(SSHConnection):  # type: ignore[misc]
    def connect(self) -> None:
        """Open the channel; a refusal (or, when several are refused at once, paramiko's
        plain "Unable to open channel", as it hands each refusal to any one waiter) is asked
        again while the SSH connection itself is up."""
        for pause in (*RETRIES, None):
            try:
                super().connect()
                return
            except paramiko.SSHException:
                if pause is None or not self.ssh_transport.is_active():
                    raise
                time.sleep(pause)


class PatientPool(SSHConnectionPool):  # type: ignore[misc]
    def _new_conn(self) -> PatientConnection:
        return PatientConnection(self.ssh_transport, self.timeout, self.ssh_host)


class ParamikoAdapter(SSHHTTPAdapter):  # type: ignore[misc]
    """The SDK's paramiko adapter, connected as ~/.ssh/config says, with one pool of patient
    channels."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(f"ssh://{target.host}", timeout, shell_out=True)  # connects below
        self.target = target
        self.ssh_client = paramiko_client(target, timeout)

    def _connect(self) -> None:
        self.ssh_client = paramiko_client(self.target, self.timeout)

    def get_connection(self, url: str, proxies: Any = None) -> Any:
        with self.pools.lock:
            pool = self.pools.get(_KEY)
            if pool is None:
                if not self.ssh_client.get_transport():
                    self._connect()  # the SSH connection closed: make it again
                pool = PatientPool(
                    ssh_client=self.ssh_client,
                    timeout=self.timeout,
                    maxsize=IDLE,
                    host=self.ssh_host,
                )
                self.pools[_KEY] = pool
        return pool
