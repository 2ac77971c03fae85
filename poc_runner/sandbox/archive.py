"""Tar archives in and out of containers, built and read defensively (see the pitfalls notes).

In: we build every archive ourselves from regular files opened with O_NOFOLLOW, so a symlink
swapped in after validation cannot redirect the copy; members are owned by root, read-only.
Out: artifacts come from a container the product controls, so every member's name and type is
checked and the total size capped before anything is written under the run folder, and secrets
are masked in names as in contents.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import stat
import tarfile
import tempfile
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from poc_runner.errors import ArtifactRefused, SandboxError
from poc_runner.masking import SECRETS
from poc_runner.units import size_text

_CHUNK = 1024 * 1024
FILE_MODE = 0o444
FOLDER_MODE = 0o555


@dataclass
class Packed:
    """A tar archive on disk (never whole in memory) and the sha256 of what went into it."""

    archive: IO[bytes]
    digests: dict[str, str] = field(default_factory=dict)  # member name -> sha256


Source = Path | bytes  # a host file or folder, or the bytes of a file (a Compose config's text)


def pack(
    entries: Iterable[tuple[Source, str]], folders: Iterable[str] = (), *, as_host: bool = False
) -> Packed:
    """Archive host files and folders under the given member names, plus empty `folders`.
    Members are root's and read-only, or, `as_host`, keep the host's modes and owners (a
    writable copy of a Compose bind mount, which shows them as they are)."""
    spool: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller
    packed = Packed(spool)
    with tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in folders:
            tar.addfile(_member(name, tarfile.DIRTYPE, FOLDER_MODE))
        for source, name in entries:
            if isinstance(source, bytes):
                member = _member(name, tarfile.REGTYPE, FILE_MODE, len(source))
                tar.addfile(member, io.BytesIO(source))
                packed.digests[name] = hashlib.sha256(source).hexdigest()
                continue
            for path, member in _walk(source, name, as_host):
                if member.isdir():
                    tar.addfile(member)
                else:
                    packed.digests[member.name] = _add_file(tar, path, member)
    spool.seek(0)
    return packed


def file_digests(entries: Iterable[tuple[Path, str]]) -> dict[str, str]:
    """The sha256 of every file `pack` would archive, by member name, without archiving: to
    tell whether a copy made before still holds the same files."""
    digests: dict[str, str] = {}
    for source, name in entries:
        for path, member in _walk(source, name, False):
            if not member.isdir():
                digests[posixpath.normpath(member.name)] = _sha256(path)
    return digests


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with _open_regular(path) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _member(
    name: str, kind: bytes, mode: int, size: int = 0, owner: os.stat_result | None = None
) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type, member.mode, member.size = kind, mode, size
    member.uid, member.gid = (owner.st_uid, owner.st_gid) if owner else (0, 0)
    if owner is None:
        member.uname = member.gname = "root"
    return member


def _walk(source: Path, name: str, as_host: bool) -> Iterator[tuple[Path, tarfile.TarInfo]]:
    try:
        info = os.lstat(source)
    except OSError as exc:
        raise SandboxError(f"cannot read data {source}: {exc.strerror}") from None
    owner = info if as_host else None
    if stat.S_ISDIR(info.st_mode):
        mode = stat.S_IMODE(info.st_mode) if as_host else FOLDER_MODE
        yield source, _member(name, tarfile.DIRTYPE, mode, owner=owner)
        for child in sorted(source.iterdir()):
            yield from _walk(child, f"{name}/{child.name}", as_host)
    elif stat.S_ISREG(info.st_mode):
        mode = stat.S_IMODE(info.st_mode) if as_host else FILE_MODE
        yield source, _member(name, tarfile.REGTYPE, mode, info.st_size, owner)
    else:
        raise SandboxError(
            f"{source} is not a regular file or folder (a link, a device or a pipe); data is"
            " copied from regular files only"
        )


def _add_file(tar: tarfile.TarFile, path: Path, member: tarfile.TarInfo) -> str:
    with _open_regular(path) as handle:
        member.size = os.fstat(handle.fileno()).st_size
        digest = hashlib.sha256()
        tar.addfile(member, _Hashing(handle, digest))
    return digest.hexdigest()


def _open_regular(path: Path) -> IO[bytes]:
    """A data file, opened without following a link and checked to be a regular file once
    open, so nothing swapped in after validation is read instead."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise SandboxError(f"cannot read data file {path}: {exc.strerror}") from None
    handle = os.fdopen(descriptor, "rb")
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        raise SandboxError(f"{path} changed into something that is not a regular file")
    return handle


class _Hashing(io.RawIOBase):
    """Hashes what tarfile reads, so each data file is read from disk once."""

    def __init__(self, handle: IO[bytes], digest: hashlib._Hash) -> None:
        self._handle, self._digest = handle, digest

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._digest.update(chunk)
        return chunk


def folder_digest(digests: dict[str, str], prefix: str) -> str:
    """One sha256 for a folder: over its files' relative names and digests, in name order."""
    lines = "".join(
        f"{name.removeprefix(prefix)}\0{digest}\n"
        for name, digest in sorted(digests.items())
        if name.startswith(prefix)
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def extract(chunks: Iterable[bytes], into: Path, limit: int, files: int) -> list[Path]:
    """Write a container's archive under `into`: regular files and folders only, no name that
    leaves `into`, at most `limit` bytes and `files` files in all, secrets masked. Returns the
    files written; an archive that breaks a rule is refused, and what it wrote removed."""
    written: dict[Path, None] = {}  # ordered, and quick to ask whether a name is taken
    before = set(into.rglob("*"))
    try:
        _extract(_ChunkReader(iter(chunks)), into.resolve(), limit, files, written)
    except tarfile.TarError as exc:
        _remove_new(into, before)
        raise ArtifactRefused(f"its archive is malformed ({exc})") from None
    except ArtifactRefused:
        _remove_new(into, before)
        raise
    return list(written)


def _extract(
    reader: io.RawIOBase, root: Path, limit: int, files: int, written: dict[Path, None]
) -> None:
    total = 0
    with tarfile.open(fileobj=reader, mode="r|") as tar:
        for member in tar:
            target = _safe_target(root, member.name)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                continue  # links, devices and pipes from the container are never written
            total += member.size
            if total > limit:
                raise ArtifactRefused(f"it is over the {size_text(limit)} cap")
            if len(written) >= files:
                raise ArtifactRefused(f"it holds more than the cap of {files:,} files")
            target = _unused(target, written)
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            if source is None:
                continue
            masker = SECRETS.stream()
            written[target] = None
            with open(target, "wb") as out:  # noqa: PTH123 - streamed, not read whole
                while chunk := source.read(_CHUNK):
                    out.write(masker.feed(chunk))
                out.write(masker.flush())


def _remove_new(into: Path, before: set[Path]) -> None:
    """A refused artifact is not half there: what the extraction added under `into` goes,
    deepest first."""
    for path in sorted(set(into.rglob("*")) - before, key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink(missing_ok=True)


def _safe_target(root: Path, name: str) -> Path:
    """Where member `name` lands: masked as a whole path, so a secret (or its base64, which may
    hold a `/`) is masked in every folder and file name it reaches."""
    relative, shown = PurePosixPath(name), SECRETS.mask(name)
    if relative.is_absolute() or ".." in relative.parts:
        raise ArtifactRefused(f"its archive names {shown!r}, which leaves the run folder")
    target = (root / SECRETS.mask(str(relative))).resolve()
    if target != root and root not in target.parents:
        raise ArtifactRefused(f"its archive names {shown!r}, which leaves the run folder")
    return target


def _unused(target: Path, taken: Container[Path]) -> Path:
    """`target`, or when a member was already written there (two names that mask alike, as
    `<secret>.txt` and `***.txt`), the first free `<stem>-2<suffix>`, `-3`, ...: no member
    silently overwrites another."""
    candidate, number = target, 1
    while candidate in taken:
        number += 1
        candidate = target.with_name(f"{target.stem}-{number}{target.suffix}")
    return candidate


class _ChunkReader(io.RawIOBase):
    """A file-like view of the SDK's chunk iterator, so big archives stream instead of load."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._buffer = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size
