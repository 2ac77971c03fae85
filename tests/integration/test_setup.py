"""`poc setup` on the real engine, and poc-runner as a user gets it from pip.

The images runs use (poc-runner/base:bookworm, ...) are shared with everything else on this
engine, so they are never made again here: each test makes its own set under a prefix of its
own and removes it. Nothing here reaches beyond this machine: debootstrap is a stand-in on
PATH (the real one downloads from a Debian mirror), and the registry image is a local one with
python3, so the build installs nothing."""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import docker
import pytest

from poc_runner.backends.docker.buildkey import LABEL
from poc_runner.backends.docker.helpers import BASE_IMAGE
from poc_runner.backends.docker.setup.build import SETUP_LABEL
from poc_runner.setup import IMAGES, tag_of
from tests.integration.conftest import ROOT, labelled, poc
from tests.integration.test_remote import SSHD, ssh_engine  # noqa: F401 (a fixture)
from tests.unit.test_setup import fake_debootstrap

WHEELS = ROOT / ".tools" / "wheels"
REGISTRY = ROOT / ".tools" / "registry" / "usr" / "bin" / "docker-registry"


@pytest.fixture
def prefix(client: docker.DockerClient) -> Iterator[str]:
    """A prefix of the test's own; every image under it is removed afterwards."""
    name = f"poc-test-setup-{secrets.token_hex(3)}"
    yield name
    for image in client.images.list(filters={"reference": f"{name}/*"}):
        for tag in image.tags:
            client.images.remove(tag)


@pytest.fixture
def local_registry(tmp_path: Path) -> Iterator[str]:
    """A registry server (Debian's docker-registry) on 127.0.0.1, storing into tmp_path: the
    engine pushes to and pulls from loopback over plain HTTP, as it allows by default."""
    if not REGISTRY.exists():
        pytest.skip("needs docker-registry under .tools (`make test-tools`)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    config = tmp_path / "registry.yml"
    config.write_text(
        f"version: 0.1\nlog: {{level: error, accesslog: {{disabled: true}}}}\n"
        f"http: {{addr: '{address}'}}\n"
        f"storage: {{filesystem: {{rootdirectory: '{tmp_path / 'storage'}'}}}}\n"
    )
    server = subprocess.Popen(
        [REGISTRY, "serve", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            with suppress(OSError), urllib.request.urlopen(f"http://{address}/v2/", timeout=1):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the registry did not answer within 10 s")
        yield address
    finally:
        server.terminate()
        server.wait(timeout=10)


def files_in(client: docker.DockerClient, image: str, path: str) -> list[str]:
    """The names in the image under `path`, read through a container that never starts."""
    container = client.containers.create(image, command=["none"], network_disabled=True)
    try:
        stream, _ = container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            return sorted(tar.getnames())
    finally:
        container.remove(force=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap runs as root")
def test_the_base_from_debian_packages_is_imported_trimmed_and_then_kept(
    client: docker.DockerClient, prefix: str, tmp_path: Path
) -> None:
    fake_debootstrap(tmp_path)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    made = poc("setup", "base", "pause", "--prefix", prefix, env=env)
    assert made.returncode == 0, made.stderr
    base, pause = tag_of("base", prefix), tag_of("pause", prefix)
    assert re.search(
        rf"^{re.escape(base)} +\w{{12}} +made from Debian's packages in", made.stdout, re.M
    )
    assert re.search(rf"^{re.escape(pause)} +\w{{12}} +made in", made.stdout, re.M)
    assert "debootstrap: Retrieving InRelease" in made.stderr
    assert tag_of("postgres", prefix) not in made.stdout  # not asked for

    image = client.images.get(base)
    assert image.attrs["Config"]["Env"] == ["LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"]
    assert image.attrs["Config"]["Cmd"] == ["python3"]
    assert image.labels[SETUP_LABEL]
    assert "etc/debian_version" in files_in(client, base, "/etc")
    assert files_in(client, base, "/usr/share/doc") == ["doc"]  # trimmed
    target = Path((tmp_path / "arguments").read_text().split()[3])
    assert not target.parent.exists(), "the scratch folder is removed"
    assert client.images.get(pause).attrs["Size"] < 1024

    again = poc("setup", "base", "pause", "--prefix", prefix, env={**env, "PATH": "/nowhere"})
    assert again.returncode == 0, again.stderr  # kept by tag: no debootstrap needed
    assert again.stdout.count("there already") == 2 and again.stderr == ""
    assert client.images.get(base).id == image.id


@pytest.mark.skipif(os.geteuid() != 0 or not SSHD.exists(), reason="needs root and sshd")
def test_over_ssh_the_root_folder_is_streamed_to_the_remote_engine(
    client: docker.DockerClient, prefix: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """debootstrap runs here; its folder goes to the engine through the link, as one stream
    (the engine is this machine's, reached through an sshd on 127.0.0.1: test_remote.py)."""
    fake_debootstrap(tmp_path)
    remote: dict[str, str] = request.getfixturevalue("ssh_engine")
    env = {**remote, "PATH": f"{tmp_path}:{remote['PATH']}"}  # the ssh wrapper kept
    made = poc("setup", "base", "--prefix", prefix, env=env)
    assert made.returncode == 0, made.stderr
    assert "made from Debian's packages" in made.stdout
    assert "etc/debian_version" in files_in(client, tag_of("base", prefix), "/etc")


def test_from_registry_builds_on_the_image_and_says_when_a_kept_base_is_older(
    client: docker.DockerClient, prefix: str
) -> None:
    base = tag_of("base", prefix)
    made = poc("setup", "base", "--from-registry", BASE_IMAGE, "--prefix", prefix)
    assert made.returncode == 0, made.stderr
    assert f"built FROM {BASE_IMAGE} in" in made.stdout
    first = client.images.get(base)
    assert first.labels[LABEL] and first.labels[SETUP_LABEL]
    assert (
        client.containers.run(
            base, ["python3", "-c", "print(6 * 7)"], network_disabled=True, remove=True
        )
        == b"42\n"
    )

    source = f"{prefix}/source:1"  # another registry image with python3
    client.images.build(
        fileobj=io.BytesIO(f"FROM {BASE_IMAGE}\nLABEL purpose=test\n".encode()), tag=source
    )
    kept = poc("setup", "base", "--from-registry", source, "--prefix", prefix)
    assert kept.returncode == 0, kept.stderr
    assert "there already (built from another Dockerfile or base" in kept.stdout
    assert "`poc setup --rebuild`" in kept.stdout

    rebuilt = poc("setup", "base", "--from-registry", source, "--prefix", prefix, "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"built FROM {source} in" in rebuilt.stdout
    assert client.images.get(base).id != first.id
    with pytest.raises(docker.errors.ImageNotFound):  # what lost its tag is not left behind
        client.images.get(first.id)


def test_from_registry_pulls_an_image_it_does_not_have(
    client: docker.DockerClient, prefix: str, local_registry: str
) -> None:
    repository = f"{local_registry}/{prefix}/slim"
    source = f"{repository}:1"
    dockerfile = f"FROM {BASE_IMAGE}\nRUN echo registry > /etc/poc-source\n"
    pushed, _ = client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=source)
    try:
        for line in client.images.push(repository, "1", stream=True, decode=True):
            assert "error" not in line, line
        client.images.remove(source)  # gone from here: its own layer only the registry has
        made = poc("setup", "base", "--from-registry", source, "--prefix", prefix)
        assert made.returncode == 0, made.stderr
        assert f"pulling {source}: 2/2 layers" in made.stderr  # the base's, then its own
        assert f"built FROM {source} in" in made.stdout
        assert client.images.get(source).id == pushed.id
        assert "etc/poc-source" in files_in(client, tag_of("base", prefix), "/etc")
    finally:
        with suppress(docker.errors.ImageNotFound):
            client.images.remove(source)


def test_a_registry_that_does_not_have_the_image_is_said_so(
    client: docker.DockerClient, prefix: str, local_registry: str
) -> None:
    missing = f"{local_registry}/{prefix}/none:1"
    failed = poc("setup", "base", "--from-registry", missing, "--prefix", prefix)
    assert failed.returncode == 3
    assert failed.stderr.count("error: ") == 1 and "Traceback" not in failed.stderr
    assert f"error: could not pull {missing} (" in failed.stderr
    assert "without one, `poc setup` makes the base from Debian's packages" in failed.stderr


def test_a_registry_image_without_python3_or_apt_is_a_clear_error(
    client: docker.DockerClient, prefix: str
) -> None:
    assert poc("setup", "pause", "--prefix", prefix).returncode == 0
    failed = poc("setup", "base", "--from-registry", tag_of("pause", prefix), "--prefix", prefix)
    assert failed.returncode == 3
    assert failed.stderr.count("error: ") == 1 and "Traceback" not in failed.stderr
    assert f"building {tag_of('base', prefix)} failed:" in failed.stderr
    assert "--from-registry takes a Debian or Ubuntu image" in failed.stderr
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(tag_of("base", prefix))


@pytest.mark.skipif(
    not (WHEELS / ".complete").exists(),
    reason="needs the runtime dependencies' wheels under .tools (`make test-tools`)",
)
def test_a_wheel_installed_with_pip_sets_up_and_runs_an_example(
    client: docker.DockerClient, tmp_path: Path
) -> None:
    """What a user does: `pip install poc-runner pytest` in a fresh venv, `poc setup`, then
    `poc run` and `pytest --poc` (the plugin found through the wheel's entry point). The
    dependencies are the lock's, from wheels here (no index); the images exist already, so
    `poc setup` finds them and makes nothing."""
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("poc_runner-*.whl")
    shipped = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "images/base/Dockerfile",
        "images/postgres/Dockerfile",
        "templates/scenario/scenario.yaml",
    ):
        assert f"poc_runner/{needed}" in shipped
    assert not [name for name in shipped if "__pycache__" in name or name.startswith("tests/")]

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-index", "--find-links", str(WHEELS), str(wheel), "pytest"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    where = subprocess.run(
        [venv / "bin" / "python", "-c", "import poc_runner; print(poc_runner.__file__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert where.stdout.startswith(str(venv))

    user = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    setup = subprocess.run(["poc", "setup"], capture_output=True, text=True, env=user, cwd=tmp_path)
    assert setup.returncode == 0, setup.stderr
    assert [line.split()[0] for line in setup.stdout.splitlines()] == [tag_of(i) for i in IMAGES]
    assert setup.stdout.count("there already") == 3

    example = Path("scenarios", "invoice-dedupe")
    shutil.copytree(ROOT / example, tmp_path / example)
    ran = subprocess.run(
        ["poc", "run", str(example), "--out", "runs"],
        capture_output=True, text=True, env=user, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "PASS" in ran.stdout.upper()
    (result,) = (tmp_path / "runs" / "invoice-dedupe").glob("*/result.json")
    document = json.loads(result.read_text())
    assert document["verdict"] == "pass"
    assert labelled(client, document["run_id"]) == []  # the installed runner tore it all down

    tested = subprocess.run(
        ["pytest", "--poc", "-v", "-p", "no:cacheprovider", str(example), "--poc-out", "tested"],
        capture_output=True, text=True, env=user, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert re.search(r"^plugins: poc-runner-\S+$", tested.stdout, re.M), tested.stdout
    items = [f"{example}/scenario.yaml::{c['id']} PASSED" for c in document["criteria"]]
    for item in [*items, f"{example}/scenario.yaml::[verdict] PASSED"]:
        assert item in tested.stdout
    assert f"{len(items) + 1} passed" in tested.stdout
    (result,) = (tmp_path / "tested" / "invoice-dedupe").glob("*/result.json")
    run_id = json.loads(result.read_text())["run_id"]
    assert run_id != document["run_id"] and labelled(client, run_id) == []
