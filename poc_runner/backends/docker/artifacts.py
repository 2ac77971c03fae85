"""Copying a step's `artifacts` back into the run folder (spec, "steps"), and clearing them on a
reused sandbox first.

Docker's archive API cannot see inside tmpfs mounts (where steps usually write, e.g. /out), so
the artifact is read from inside the container with `tar` over exec, which sees what the step
saw; images without tar fall back to the archive API. Either way the bytes are spooled to disk
under a size cap and extracted with `archive.extract`'s checks.

A sandbox left up keeps what earlier runs wrote, so before the steps of a reused run each
declared artifact path is removed in its service (`clear`): whatever a check then reads was
left by this run's steps ("Evidence belongs to the run"), never an earlier run's file.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from poc_runner.backends.docker.execute import execute
from poc_runner.errors import ArtifactRefused
from poc_runner.masking import SECRETS
from poc_runner.sandbox.archive import extract
from poc_runner.sandbox.capture import Capture
from poc_runner.units import size_text

if TYPE_CHECKING:
    from docker.models.containers import Container

ARTIFACT_LIMIT = 512 * 1024**2
ARTIFACT_FILES = 10_000  # per artifact: a folder of a million tiny files is no evidence
_TIMEOUT = 120.0
_NOT_RUNNABLE = (126, 127)


class _Spool(Capture):
    """Keeps everything, on disk, up to a cap."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the caller
        self.limit = limit

    def write(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.total <= self.limit:
            self.file.write(chunk)

    def close(self) -> None:
        self.file.seek(0)

    def chunks(self) -> Iterator[bytes]:
        while chunk := self.file.read(1024 * 1024):
            yield chunk


def collect(
    container: Container,
    path: str,
    artifacts: Path,
    limit: int = ARTIFACT_LIMIT,
    files: int = ARTIFACT_FILES,
) -> bool:
    """Copy `path` (file or folder) to `artifacts/<path>`, secrets in the path masked; False
    when it is absent. ArtifactRefused, naming the artifact and why, when what the product
    wrote cannot be copied as it is (nothing of it is left in the run folder)."""
    parent, name = posixpath.split(posixpath.normpath(path))
    into = artifacts / SECRETS.mask(parent.lstrip("/"))
    into.mkdir(parents=True, exist_ok=True)
    try:
        return _copy(container, parent, name, into, limit, files)
    except ArtifactRefused as exc:
        raise ArtifactRefused(f"artifact {SECRETS.mask(path)} was not copied: {exc}") from None


def _copy(container: Container, parent: str, name: str, into: Path, limit: int, files: int) -> bool:
    spool, errors = _Spool(limit), Capture()
    with spool.file:
        outcome = execute(
            container,
            ["tar", "-cf", "-", "-C", parent, name],
            timeout=_TIMEOUT,
            stdout=spool,
            stderr=errors,
        )
        if outcome.exit_code in _NOT_RUNNABLE:
            return _copy_through_engine(container, posixpath.join(parent, name), into, limit, files)
        if outcome.timed_out:
            raise ArtifactRefused(f"reading it took over {_TIMEOUT:g} s")
        if outcome.exit_code != 0:
            if "No such file" in errors.text() or "Cannot stat" in errors.text():
                return False
            raise ArtifactRefused(errors.text().strip()[:300] or "the service's tar failed")
        if spool.total > limit:
            raise ArtifactRefused(f"it is over the {size_text(limit)} cap")
        extract(spool.chunks(), into, limit, files)
    return True


def clear(container: Container, paths: list[str]) -> dict[str, str]:
    """Remove the artifact paths in the container, as the user its steps run as; returns the
    paths that could not be cleared, each with why. A folder that is a mount point (a tmpfs
    at /out, say) cannot go, but is emptied, which is as good."""
    if not paths:
        return {}
    removed = execute(container, ["rm", "-rf", "--", *paths], timeout=_TIMEOUT)
    if removed.exit_code == 0:
        return {}
    if removed.exit_code in _NOT_RUNNABLE:
        return dict.fromkeys(paths, "the service's image has no `rm` to remove it with")
    why = removed.stderr.text().strip()[-300:] or f"rm exited with {removed.exit_code}"
    return {path: why for path in paths if not _cleared(container, path)}


def _cleared(container: Container, path: str) -> bool:
    """Nothing is left at `path`, or only an empty folder."""
    left = execute(container, ["ls", "-A", "--", path], timeout=_TIMEOUT)
    if left.exit_code == 0:
        return not left.stdout.text().strip()
    return "No such file" in left.stderr.text()


def _copy_through_engine(
    container: Container, path: str, into: Path, limit: int, files: int
) -> bool:
    import docker

    try:
        chunks, _stat = container.get_archive(path)
    except docker.errors.NotFound:
        return False
    extract(chunks, into, limit, files)
    return True
