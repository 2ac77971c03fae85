"""Remote engines: this machine's own engine reached as a remote one, over `ssh://` (an sshd on
127.0.0.1 that this module starts and stops) and over `tcp://` with TLS (a throwaway TLS
endpoint on 127.0.0.1 in front of the engine's socket, run with testcontainers, with
certificates the test makes). The example scenario passes with the same score on every path,
a timed-out step's processes are gone through the link too, and nothing is left behind."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from testcontainers.core.container import DockerContainer

from .conftest import BASE, ROOT, ScenarioFactory, labelled, poc
from .test_steps import LEFTOVERS

SSHD = Path("/usr/sbin/sshd")
pytestmark = pytest.mark.skipif(
    not SSHD.exists() or shutil.which("openssl") is None,
    reason="needs Debian's openssh-server and openssl (`make test-tools`)",
)

# A TLS endpoint for the engine: client certificates required, bytes passed both ways.
TLS_ENDPOINT = """
import socket, ssl, threading
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("/certs/server-cert.pem", "/certs/server-key.pem")
context.load_verify_locations("/certs/ca.pem")
context.verify_mode = ssl.CERT_REQUIRED

def pump(source, target):
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

def serve(connection):
    try:
        secured = context.wrap_socket(connection, server_side=True)
    except (ssl.SSLError, OSError):
        connection.close()
        return
    engine = socket.socket(socket.AF_UNIX)
    engine.connect("/var/run/docker.sock")
    threading.Thread(target=pump, args=(secured, engine), daemon=True).start()
    pump(engine, secured)

server = socket.create_server(("0.0.0.0", 2376))
print("listening", flush=True)
while True:
    threading.Thread(target=serve, args=(server.accept()[0],), daemon=True).start()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_here(*argv: str, cwd: Path | None = None) -> None:
    subprocess.run(argv, check=True, capture_output=True, cwd=cwd)


ALIAS = "poc-remote-alias"  # a Host of the client's ssh configuration, on the sshd's port


@pytest.fixture(scope="module")
def ssh_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """An sshd on 127.0.0.1 letting root in by a key made here; its `docker system
    dial-stdio` reaches this machine's engine. Yields the environment of a client using it
    with the system ssh client (`ssh_client`), its configuration naming the key, the known
    hosts and an alias, ALIAS, for 127.0.0.1 on the sshd's port (not 22)."""
    folder = tmp_path_factory.mktemp("sshd")
    home = folder / "home"
    (home / ".ssh").mkdir(parents=True)
    run_here("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "host_key"))
    run_here("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / ".ssh" / "id_ed25519"))
    shutil.copy(home / ".ssh" / "id_ed25519.pub", folder / "authorized_keys")
    port = free_port()
    host_key = (folder / "host_key.pub").read_text().split()
    (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    (home / ".ssh" / "config").write_text(
        f"Host {ALIAS}\n  HostName 127.0.0.1\n  Port {port}\n  User root\n\n"
        f"Host *\n  IdentityFile {home}/.ssh/id_ed25519\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {home}/.ssh/known_hosts\n"
    )
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host_key'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPidFile {folder / 'sshd.pid'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUsePAM no\n"
        "StrictModes no\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # its privilege separation folder
    sshd = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert time.monotonic() < deadline and sshd.poll() is None, "sshd did not start"
            time.sleep(0.05)
        env = {**os.environ, "HOME": str(home), "DOCKER_HOST": f"ssh://root@127.0.0.1:{port}"}
        yield ssh_client(env, folder / "bin")
    finally:
        sshd.terminate()
        sshd.wait(timeout=10)


def ssh_client(env: dict[str, str], folder: Path) -> dict[str, str]:
    """The environment with the system ssh client reading the configuration under $HOME. ssh
    reads the home folder of the user's account, not $HOME, and this machine's user's own
    ~/.ssh is not the test's to write: the `ssh` first on PATH is the system one, told the
    file with -F (the only change)."""
    folder.mkdir(exist_ok=True)
    wrapper = folder / "ssh"
    config = Path(env["HOME"]) / ".ssh" / "config"
    wrapper.write_text(f'#!/bin/sh\nexec {shutil.which("ssh")} -F {config} "$@"\n')
    wrapper.chmod(0o755)
    return {**env, "PATH": f"{folder}:{env['PATH']}"}


def paramiko_client(env: dict[str, str], folder: Path) -> dict[str, str]:
    """The environment with no ssh client installed (on PATH): paramiko reaches the engine,
    reading $HOME/.ssh/config. The docker CLI stays on PATH."""
    folder.mkdir(exist_ok=True)
    docker_cli = shutil.which("docker")
    assert docker_cli is not None
    (folder / "docker").symlink_to(docker_cli)
    return {**env, "PATH": str(folder)}


def make_certificates(folder: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as the docker CLI
    and SDK find them in DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem)."""

    def sign(name: str, subject: str, extensions: str) -> None:
        run_here("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-key.pem",
                 "-out", f"{name}.csr", "-subj", subject, cwd=folder)  # fmt: skip
        (folder / f"{name}.ext").write_text(extensions)
        run_here("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey",
                 "ca-key.pem", "-CAcreateserial", "-days", "1", "-out", f"{name}-cert.pem",
                 "-extfile", f"{name}.ext", cwd=folder)  # fmt: skip

    run_here("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem",
             "-out", "ca.pem", "-days", "1", "-subj", "/CN=poc-runner test CA", cwd=folder)  # fmt: skip
    sign("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    sign("client", "/CN=poc-runner tests", "extendedKeyUsage=clientAuth\n")
    shutil.copy(folder / "client-cert.pem", folder / "cert.pem")
    shutil.copy(folder / "client-key.pem", folder / "key.pem")
    for key in folder.glob("*key.pem"):
        key.chmod(0o644)  # the endpoint runs as root in its container; the test reads them too


@pytest.fixture(scope="module")
def tls_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The engine behind a TLS endpoint on 127.0.0.1 that wants a client certificate; yields
    the environment of a client using it."""
    os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"  # Ryuk would be pulled: none here
    certs = tmp_path_factory.mktemp("certs")
    make_certificates(certs)
    port = free_port()
    endpoint = (
        DockerContainer(BASE)
        .with_command(["python3", "-c", TLS_ENDPOINT])
        .with_volume_mapping(str(certs), "/certs", "ro")
        .with_volume_mapping("/var/run/docker.sock", "/var/run/docker.sock", "rw")
    )
    # on 127.0.0.1 only (with_bind_ports binds every address): the docker SDK takes the pair
    endpoint.ports["2376/tcp"] = ("127.0.0.1", port)  # type: ignore[assignment]
    endpoint.start()
    try:
        deadline = time.monotonic() + 20
        while b"listening" not in endpoint.get_wrapped_container().logs():
            assert time.monotonic() < deadline, "the TLS endpoint did not start"
            time.sleep(0.05)
        yield {
            **os.environ,
            "DOCKER_HOST": f"tcp://127.0.0.1:{port}",
            "DOCKER_TLS_VERIFY": "1",
            "DOCKER_CERT_PATH": str(certs),
        }
    finally:
        endpoint.stop()


def score_through(env: dict[str, str], out: Path, *args: str) -> dict[str, object]:
    done = poc(*args, "run", str(ROOT / "scenarios" / "invoice-dedupe"), "--out", str(out), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    (result,) = out.rglob("result.json")
    return dict(json.loads(result.read_text()))


def test_the_example_scores_the_same_locally_over_ssh_and_over_tls(
    ssh_engine: dict[str, str],
    tls_engine: dict[str, str],
    tmp_path: Path,
    client: docker.DockerClient,
) -> None:
    timings = {}
    results = {}
    for path, env in (("local", dict(os.environ)), ("ssh", ssh_engine), ("tls", tls_engine)):
        started = time.monotonic()
        results[path] = score_through(env, tmp_path / path)
        timings[path] = time.monotonic() - started
    assert {path: (r["verdict"], r["score"]) for path, r in results.items()} == {
        "local": ("pass", 100.0),
        "ssh": ("pass", 100.0),
        "tls": ("pass", 100.0),
    }, timings
    for result in results.values():
        assert labelled(client, str(result["run_id"])) == []
    assert results["ssh"]["environment"]["data"] == results["local"]["environment"]["data"]  # type: ignore[index]


def test_a_timed_out_steps_processes_are_gone_through_a_remote_engine(
    ssh_engine: dict[str, str], scenario: ScenarioFactory, tmp_path: Path
) -> None:
    path = scenario(
        f"""\
        data: [{{name: leftovers, path: leftovers.py, mount: /probe/leftovers.py}}]
        services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
        steps:
          - name: hang
            service: app
            run: "(sleep 1003 &) ; setsid -f sleep 1004 ; sleep 1002"
            timeout: 2s
            continue_on_error: true
          - {{name: after, service: app, run: [python3, /probe/leftovers.py]}}
        """,
        name="remote-timeout",
        files={"leftovers.py": LEFTOVERS},
    )
    done = poc("run", str(path), "--out", str(tmp_path / "runs"), env=ssh_engine)
    (after,) = (tmp_path / "runs").rglob("after.out")
    assert json.loads(after.read_text()) == [], done.stdout
    (result,) = (tmp_path / "runs").rglob("result.json")
    hang, _after = json.loads(result.read_text())["steps"]
    assert hang["timed_out"] and 2 <= hang["duration_s"] < 8


def test_many_services_over_ssh_stay_within_sshds_sessions(
    ssh_engine: dict[str, str],
    scenario: ScenarioFactory,
    tmp_path: Path,
    client: docker.DockerClient,
) -> None:
    """Each call to an ssh:// engine is a channel of one SSH connection, and sshd refuses
    channels past MaxSessions (10): twelve services brought up, logged and removed in parallel
    went past it. The calls wait for a channel instead."""
    services = "\n".join(
        f"  s{i}: {{image: {BASE}, command: [sleep, infinity]}}" for i in range(12)
    )
    path = scenario(
        f"services:\n{services}\nsteps: [{{name: hello, service: s0, run: echo hi}}]\n", name="many"
    )
    done = poc("run", str(path), "--out", str(tmp_path / "runs"), env=ssh_engine)
    assert done.returncode == 0, done.stdout + done.stderr
    (result,) = (tmp_path / "runs").rglob("result.json")
    assert labelled(client, json.loads(result.read_text())["run_id"]) == []


def test_a_context_names_the_engine_and_doctor_says_which(
    tls_engine: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "docker-config"
    env = {**tls_engine, "DOCKER_CONFIG": str(config)}
    certs = env["DOCKER_CERT_PATH"]
    created = subprocess.run(
        ["docker", "context", "create", "poc-remote", "--docker",
         f"host={env['DOCKER_HOST']},ca={certs}/ca.pem,cert={certs}/cert.pem,key={certs}/key.pem"],
        env={key: value for key, value in env.items() if not key.startswith("DOCKER_") or key == "DOCKER_CONFIG"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    plain = {
        k: v
        for k, v in env.items()
        if k not in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")
    }
    doctor = poc("--context", "poc-remote", "doctor", env=plain)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"at {env['DOCKER_HOST']} (context poc-remote), remote: machine" in doctor.stdout
    result = score_through(plain, tmp_path / "runs", "--context", "poc-remote")
    assert (result["verdict"], result["score"]) == ("pass", 100.0)


@pytest.mark.parametrize("client_kind", ["ssh", "paramiko"])
def test_an_ssh_alias_with_its_own_port_is_reached_as_ssh_would_reach_it(
    ssh_engine: dict[str, str], scenario: ScenarioFactory, tmp_path: Path, client_kind: str
) -> None:
    """`DOCKER_HOST=ssh://ALIAS`, with `Host ALIAS / HostName 127.0.0.1 / Port N / User root`
    in ~/.ssh/config: the docker SDK filled in port 22 before reading it, so the sshd on port
    N was never tried. With the system ssh client where there is one, paramiko otherwise,
    `poc doctor` says which it used and the address it reached, and a run goes through."""
    env = {**ssh_engine, "DOCKER_HOST": f"ssh://{ALIAS}"}
    if client_kind == "paramiko":
        env = paramiko_client(env, tmp_path / "bin")
    port = ssh_engine["DOCKER_HOST"].rsplit(":", 1)[1]
    doctor = poc("doctor", env=env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    used = "the system ssh client (" if client_kind == "ssh" else "paramiko (no ssh client"
    assert f"engine link: over SSH, with {used}" in doctor.stdout, doctor.stdout
    assert f"to root@127.0.0.1 port {port}" in doctor.stdout
    assert f"at ssh://{ALIAS}, remote: machine" in doctor.stdout
    path = scenario(
        f"""\
        services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
        steps: [{{name: hello, service: app, run: echo hello over ssh}}]
        acceptance: {{criteria: [{{id: said, check: {{type: output, step: hello, contains: over ssh}}}}]}}
        """,
        name=f"alias-{client_kind}",
    )
    done = poc("run", str(path), "--out", str(tmp_path / "runs"), env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_ssh_host_that_is_not_known_is_refused_in_ssh_s_own_words(
    ssh_engine: dict[str, str], tmp_path: Path
) -> None:
    """Nothing prompts (batch mode): a host key not in known_hosts ends the link at once."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(
        f"Host *\n  IdentityFile {ssh_engine['HOME']}/.ssh/id_ed25519\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {home}/.ssh/known_hosts\n  GlobalKnownHostsFile /dev/null\n"
    )
    env = ssh_client({**ssh_engine, "HOME": str(home)}, tmp_path / "bin")
    doctor = poc("doctor", env=env)
    assert doctor.returncode == 3
    assert "Host key verification failed" in doctor.stdout, doctor.stdout


def test_tls_without_verification_is_refused_unless_asked_for(
    tls_engine: dict[str, str], tmp_path: Path
) -> None:
    """DOCKER_CERT_PATH without DOCKER_TLS_VERIFY is TLS that checks nothing to the docker
    SDK: `poc doctor` said "ok" to the endpoint on 127.0.0.1 and a run would have sent its
    secrets through. Refused now, saying how to check it; POC_ENGINE_INSECURE=1 accepts it,
    with a warning on every command."""
    unchecked = {k: v for k, v in tls_engine.items() if k != "DOCKER_TLS_VERIFY"}
    doctor = poc("doctor", env=unchecked)
    assert doctor.returncode == 3, doctor.stdout + doctor.stderr
    assert "would be reached over TLS without checking its certificate" in doctor.stdout
    assert "Set DOCKER_TLS_VERIFY=1" in doctor.stdout
    refused = poc(
        "run", str(ROOT / "scenarios" / "invoice-dedupe"), "--out", str(tmp_path), env=unchecked
    )
    assert refused.returncode == 3
    assert "without checking its certificate" in refused.stderr
    assert not list(tmp_path.rglob("result.json"))
    insecure = {**unchecked, "POC_ENGINE_INSECURE": "1"}
    accepted = poc("doctor", env=insecure)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "warning: the Docker engine at tcp://127.0.0.1:" in accepted.stderr
    assert "WITHOUT checking the engine's certificate" in accepted.stdout
    checked = poc("doctor", env=tls_engine)
    assert "engine link: TLS to tcp://127.0.0.1:" in checked.stdout
    assert "the engine's certificate checked" in checked.stdout
    assert "warning" not in checked.stderr
