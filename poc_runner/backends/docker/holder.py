"""Network holders: a service's place on the network, made before the service starts.

On engine 20.10 starting a container on a user-defined network takes about 0.3 s, two thirds of
it spent joining the network (namespace, veth pair, embedded DNS); a container that joins a
network namespace that already exists starts in about 0.1 s. A holder is a tiny container that
owns a service's place on the network (its name as hostname and DNS alias, its DNS options),
started ahead: while the file is validated (headstart.py), for a service that will wait on
another's health before it starts. The service's container joins the holder's namespace
(`network_mode: container:<holder>`) and starts with the network already there. Kubernetes
starts every pod this way.

A holder runs `pause`, a static Linux executable of a few instructions that sleeps until it is
killed. It is made here for the engine's architecture and imported as an image, so no registry
is needed. On an architecture it cannot be made for, services start without holders.
"""

from __future__ import annotations

import io
import struct
import tarfile
import threading
from functools import partial
from typing import TYPE_CHECKING, Any

from poc_runner.backends.docker.helpers import START_PIDS
from poc_runner.backends.docker.objects import create_container
from poc_runner.setup import tag_of

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

PAUSE_IMAGE = tag_of("pause")
PAUSE_PATH = "/pause"
NOBODY = "65534:65534"
# Enough for one sleeping process (the engine refuses memory limits under 6 MiB), and for runc
# to start it (START_PIDS).
LIMITS: dict[str, Any] = {"mem_limit": "8m", "memswap_limit": "8m", "pids_limit": START_PIDS}

_LOAD_ADDRESS = 0x400000
_ELF_HEADER, _PROGRAM_HEADER = 64, 56
# Engine architecture -> (ELF machine, code): a loop around a syscall that blocks until a signal.
_PAUSE_CODE: dict[str, tuple[int, bytes]] = {
    "amd64": (
        0x3E,
        bytes.fromhex(
            "b822000000"  # mov eax, 34 (pause)
            "0f05"  # syscall
            "ebf7"  # jmp back to the mov
        ),
    ),
    "arm64": (  # arm64 has no pause(): ppoll with no descriptors and no timeout
        0xB7,
        struct.pack(
            "<7I",
            0xD2800000,  # mov x0, #0 (descriptors)
            0xD2800001,  # mov x1, #0 (count)
            0xD2800002,  # mov x2, #0 (no timeout)
            0xD2800003,  # mov x3, #0 (no signal mask)
            0xD2800928,  # mov x8, #73 (ppoll)
            0xD4000001,  # svc #0
            0x17FFFFFA,  # b back to the first mov
        ),
    ),
}
_import_lock = threading.Lock()


def pause_executable(architecture: str) -> bytes | None:
    """A static ELF executable that sleeps forever, or None for an architecture not covered."""
    if architecture not in _PAUSE_CODE:
        return None
    machine, code = _PAUSE_CODE[architecture]
    size = _ELF_HEADER + _PROGRAM_HEADER + len(code)
    identity = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little-endian, System V
    header = struct.pack(
        "<16sHHIQQQIHHHHHH",
        identity,
        2,  # an executable
        machine,
        1,  # ELF version
        _LOAD_ADDRESS + _ELF_HEADER + _PROGRAM_HEADER,  # entry: the code, right after the headers
        _ELF_HEADER,  # program headers follow the ELF header
        0,  # no section headers
        0,
        _ELF_HEADER,
        _PROGRAM_HEADER,
        1,  # one program header
        0,
        0,
        0,
    )
    load = struct.pack(  # the whole file, mapped readable and executable at the load address
        "<IIQQQQQQ", 1, 5, 0, _LOAD_ADDRESS, _LOAD_ADDRESS, size, size, 0x1000
    )
    return header + load + code


def create_holder(
    client: docker.DockerClient, name: str, options: dict[str, Any]
) -> Container | None:
    """Create (not start) a holder with the given network `options`; None when no pause image
    can be made for this engine. The pause image is imported on first use (or by `poc setup`)."""
    import docker

    create = partial(
        create_container,
        client,
        PAUSE_IMAGE,
        command=[PAUSE_PATH],
        name=name,
        user=NOBODY,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges:true"],
        read_only=True,
        log_config={"Type": "none", "Config": {}},
        **LIMITS,
        **options,
    )
    try:
        return create()
    except docker.errors.ImageNotFound:
        if not ensure_pause_image(client, PAUSE_IMAGE):
            return None
    return create()


def ensure_pause_image(client: docker.DockerClient, tag: str = PAUSE_IMAGE) -> bool:
    """Import the pause image as `tag` unless it is there; False when no pause executable can
    be made for the engine's architecture. Always the same few bytes for one architecture."""
    import docker

    with _import_lock:  # two services preparing at once import it once
        try:
            client.images.get(tag)
            return True
        except docker.errors.ImageNotFound:
            pass
        executable = pause_executable(str(client.version().get("Arch", "")))
        if executable is None:
            return False
        repository, _, version = tag.rpartition(":")
        client.api.import_image_from_data(
            _single_file_tar(PAUSE_PATH.lstrip("/"), executable),
            repository=repository,
            tag=version,
        )
        return True


def _single_file_tar(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        member = tarfile.TarInfo(name)
        member.size, member.mode = len(content), 0o555
        tar.addfile(member, io.BytesIO(content))
    return buffer.getvalue()
