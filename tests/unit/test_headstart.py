"""What a head start guesses from a raw scenario file, and the holder's pause executable."""

from __future__ import annotations

import platform
import shutil
import struct
import subprocess
import textwrap
from pathlib import Path

import pytest

from poc_runner.backends.docker.headstart import Draft, draft_of
from poc_runner.backends.docker.holder import pause_executable

WAITING = """\
apiVersion: poc-runner/v1
name: shop
services:
  db: {image: postgres:16}
  cache: {image: redis:7}
  app:
    image: shop:1
    depends_on: {db: {condition: service_healthy}, cache: {condition: service_started}}
  worker:
    image: shop:1
    depends_on: [db]
"""


def draft(tmp_path: Path, text: str) -> Draft | None:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text))
    return draft_of(path)


def test_a_plain_file_names_its_network_and_the_services_that_wait_on_health(
    tmp_path: Path,
) -> None:
    assert draft(tmp_path, WAITING) == Draft("shop", "isolated", ("app",))


def test_the_network_kind_is_read(tmp_path: Path) -> None:
    found = draft(tmp_path, WAITING + "sandbox: {network: egress}\n")
    assert found is not None and found.network == "egress"


@pytest.mark.parametrize(
    "text",
    [
        WAITING.replace("name: shop", "name: ${SHOP}"),
        WAITING + "sandbox: {network: '${NET}'}\n",
        WAITING + "sandbox: {network: everywhere}\n",
        WAITING + "sandbox: isolated\n",
        WAITING.replace("  app:", "  ${APP}:"),
        "apiVersion: poc-runner/v1\nname: shop\nservices: [db, app]\n",
        WAITING.replace("name: shop\n", ""),
        "- not\n- a mapping\n",
        "name: [unclosed\n",
    ],
    ids=[
        "variable-name",
        "variable-network",
        "unknown-network",
        "sandbox-not-mapping",
        "variable-service",
        "services-not-mapping",
        "no-name",
        "not-mapping",
        "broken-yaml",
    ],
)
def test_no_head_start_when_the_raw_file_does_not_say_plainly(tmp_path: Path, text: str) -> None:
    assert draft(tmp_path, text) is None


def test_a_missing_file_gets_no_head_start(tmp_path: Path) -> None:
    assert draft_of(tmp_path / "nowhere.yaml") is None


@pytest.mark.parametrize(("architecture", "machine"), [("amd64", 0x3E), ("arm64", 0xB7)])
def test_the_pause_executable_is_a_static_elf_for_its_architecture(
    architecture: str, machine: int
) -> None:
    elf = pause_executable(architecture)
    assert elf is not None and elf[:4] == b"\x7fELF"
    kind, e_machine, _version, entry, phoff = struct.unpack_from("<HHIQQ", elf, 16)
    assert (kind, e_machine, phoff) == (2, machine, 64)
    p_type, flags, offset, vaddr, _paddr, filesz, memsz = struct.unpack_from("<IIQQQQQ", elf, 64)
    assert (p_type, flags, offset, filesz, memsz) == (1, 5, 0, len(elf), len(elf))
    assert vaddr <= entry < vaddr + len(elf)


def test_no_pause_executable_for_an_architecture_not_covered() -> None:
    assert pause_executable("s390x") is None


def _sleeps(command: list[str]) -> None:
    """It runs, and is still running (blocked, not spinning or crashed) a while later."""
    process = subprocess.Popen(command)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=0.5)
    finally:
        process.kill()
        process.wait()


@pytest.mark.skipif(platform.machine() != "x86_64", reason="runs the amd64 build natively")
def test_the_amd64_pause_executable_sleeps_until_killed(tmp_path: Path) -> None:
    path = tmp_path / "pause"
    path.write_bytes(pause_executable("amd64") or b"")
    path.chmod(0o755)
    _sleeps([str(path)])


@pytest.mark.skipif(shutil.which("qemu-aarch64") is None, reason="needs qemu-user for arm64")
def test_the_arm64_pause_executable_sleeps_until_killed(tmp_path: Path) -> None:
    path = tmp_path / "pause"
    path.write_bytes(pause_executable("arm64") or b"")
    path.chmod(0o755)
    _sleeps(["qemu-aarch64", str(path)])
