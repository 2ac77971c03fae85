"""The base image from Debian's packages, with no registry: debootstrap installs Debian
bookworm (minbase, with python3) into a folder here, and the folder goes to the engine as one
tar stream (`docker import`). Nothing is built inside the engine, so a remote engine works too.

debootstrap needs root, and mounts file systems inside the folder while it works (in a
container, the host's /dev): the folder is removed only once nothing is mounted under it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from poc_runner.errors import SandboxError, ToolUnavailable

if TYPE_CHECKING:
    import docker

SUITE = "bookworm"
# What `docker import` sets: the same as the base image has always had.
CHANGES = ("ENV LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1", 'CMD ["python3"]')
# Only needed to install packages, which the image never does again without `apt-get update`.
TRIMMED = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/locale",
)
SBIN = "/usr/sbin:/sbin"  # searched after PATH: a user's PATH often lacks them
_LOG_LINES = 20
_CHUNK = 1 << 20

Report = Callable[[str], None]

NO_DEBOOTSTRAP = (
    "making the base image from Debian's packages needs debootstrap, which is not installed"
    " here: on Debian or Ubuntu, `sudo apt-get install debootstrap`, then run `sudo poc setup`"
    " again. Where a registry is reachable, `poc setup --from-registry` takes a registry image"
    " instead (debian:bookworm-slim, with python3 added)."
)
NOT_ROOT = (
    "making the base image from Debian's packages needs root (debootstrap installs them into a"
    " folder as root): run `sudo poc setup`. Where a registry is reachable,"
    " `poc setup --from-registry` needs no root (debian:bookworm-slim, with python3 added)."
)


def make_base(
    client: docker.DockerClient,
    tag: str,
    changes: tuple[str, ...],
    report: Report,
    mirror: str | None = None,
) -> str:
    """Make the base image `tag` from Debian's packages; its id."""
    program = debootstrap_program()
    with scratch_folder() as scratch:
        root = scratch / "root"
        debootstrap(program, root, report, mirror)
        trim(root)
        report("importing into the engine")
        return import_folder(client, root, tag, changes)


def debootstrap_program() -> str:
    """debootstrap's path, once it is known it can run here; why not, otherwise."""
    searched = os.pathsep.join(filter(None, (os.environ.get("PATH"), SBIN)))
    program = shutil.which("debootstrap", path=searched)
    if program is None:
        raise ToolUnavailable(NO_DEBOOTSTRAP)
    if os.geteuid() != 0:
        raise ToolUnavailable(NOT_ROOT)
    return program


def debootstrap(program: str, root: Path, report: Report, mirror: str | None = None) -> None:
    """Install Debian `SUITE` (minbase, with python3) into `root`. Its progress goes to `report`
    once per phase (retrieving, validating, extracting, unpacking, configuring), not once per
    package; on failure, its last lines are in the error."""
    command = [program, "--variant=minbase", "--include=python3", SUITE, str(root)]
    if mirror:
        command.append(mirror)
    tail: deque[str] = deque(maxlen=_LOG_LINES)
    phases: set[str] = set()
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as process:
        try:
            assert process.stdout is not None
            for line in process.stdout:
                tail.append(line.rstrip())
                level, _, message = line.strip().partition(": ")
                if level == "I" and (phase := message.split(" ")[0]) not in phases:
                    phases.add(phase)
                    report(f"debootstrap: {message}")
        finally:  # interrupted: debootstrap undoes its mounts as it ends
            if process.poll() is None:
                process.terminate()
    if process.returncode != 0:
        lines = "\n".join(f"  | {line}" for line in tail)
        raise SandboxError(
            f"debootstrap could not install Debian {SUITE} (exit {process.returncode});"
            f" its last lines:\n{lines}\nCheck that this machine reaches a Debian mirror"
            " (`--mirror URL` names another), or take a registry image instead:"
            " `poc setup --from-registry`."
        )


def trim(root: Path) -> None:
    """Drop what only made the image bigger (package caches, docs, manuals, translations)."""
    for relative in TRIMMED:
        folder = root / relative
        for child in folder.iterdir() if folder.is_dir() else ():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()


def import_folder(
    client: docker.DockerClient, root: Path, tag: str, changes: tuple[str, ...]
) -> str:
    """Import the folder `root` as the image `tag`, streamed as it is read; the image's id."""
    repository, _, version = tag.rpartition(":")
    with subprocess.Popen(
        ["tar", "--numeric-owner", "-C", str(root), "-c", "."],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as tar:
        assert tar.stdout is not None and tar.stderr is not None
        client.api.import_image_from_data(
            iter(partial(tar.stdout.read, _CHUNK), b""),
            repository=repository,
            tag=version,
            changes=list(changes),
        )
        problem = tar.stderr.read().decode(errors="replace").strip()
    if tar.returncode != 0:
        raise SandboxError(f"could not read {root} to import it as {tag}: {problem}")
    return str(client.images.get(tag).id)


@contextmanager
def scratch_folder() -> Iterator[Path]:
    """A folder of its own under the temporary folder, removed afterwards, but never while a
    file system is mounted under it: removing files through a bind mount of /dev would remove
    the host's."""
    folder = Path(tempfile.mkdtemp(prefix="poc-base."))
    try:
        yield folder
    finally:
        for mount in sorted(mounts_under(folder), reverse=True):  # the deepest first
            subprocess.run(["umount", "--lazy", mount], capture_output=True, check=False)
        if left := mounts_under(folder):
            raise SandboxError(
                f"{folder} was left in place: file systems are still mounted under it"
                f" ({', '.join(left)}); unmount them, then remove it"
            )
        shutil.rmtree(folder, ignore_errors=True)


def mounts_under(folder: Path, table: Path = Path("/proc/self/mountinfo")) -> list[str]:
    """The mount points below `folder`, read from the kernel's mount table."""
    try:
        lines = table.read_text().splitlines()
    except OSError:
        return []
    points = [_unescape(line.split(" ")[4]) for line in lines if len(line.split(" ")) > 4]
    return [point for point in points if point.startswith(f"{folder}/")]


def _unescape(field: str) -> str:
    r"""mountinfo writes space, tab, newline and backslash as octal escapes (\040)."""
    for code in ("040", "011", "012", "134"):
        field = field.replace(f"\\{code}", chr(int(code, 8)))
    return field
