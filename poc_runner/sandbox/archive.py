"""Tar archives in and out of containers, built and read defensively (see the pitfalls notes).

In: we build every archive ourselves from regular files opened with O_NOFOLLOW, so a symlink
swapped in after validation cannot redirect the copy; members are owned by root, read-only. The
archive is a stream made as the engine reads it, never whole on disk or in memory: each file is
read once, hashed as it goes (a big file's chunks are hashed in a thread while the previous one
is sent; hashlib lets go of the GIL), and small files are gathered into large writes, so a folder
of many files costs the engine no more round trips than one file of the same size.
Out: artifacts come from a container the product controls, so every member's name and type is
checked and the total size capped before anything is written under the run folder, and secrets
are masked in names as in contents.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import posixpath
import stat
import tarfile
import time
from collections.abc import Callable, Container, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from poc_runner.errors import ArtifactRefused, SandboxError
from poc_runner.masking import SECRETS
from poc_runner.units import size_text

if TYPE_CHECKING:
    from poc_runner.sandbox.hashindex import HashIndex

_CHUNK = 1024 * 1024  # a big file is read, hashed and sent in chunks of this size
_BATCH = 1024 * 1024  # small files and headers are sent together in writes of about this size
_BLOCK = 512
FILE_MODE = 0o444
FOLDER_MODE = 0o555


Source = Path | bytes  # a host file or folder, or the bytes of a file (a Compose config's text)
Cut = Callable[[], bool]  # whether the sandbox was torn down meanwhile (streams.Streams.cut)


class Packed:
    """A tar archive of host files, made while it is read (`chunks`); once read, the sha256 of
    every file by member name, its folders, and how many bytes of files went in."""

    def __init__(
        self,
        entries: Iterable[tuple[Source, str]],
        folders: Iterable[str],
        as_host: bool,
        index: HashIndex | None,
        cut: Cut | None = None,
    ) -> None:
        self._entries, self._extra, self._as_host, self._index = entries, folders, as_host, index
        self._cut = cut
        self.digests: dict[str, str] = {}  # member name -> sha256
        self.sizes: dict[str, int] = {}  # member name -> bytes
        self.folders: list[str] = []  # folder member names
        self.size = 0

    def chunks(self) -> Iterator[bytes]:
        """The archive's bytes; once the sandbox is cut (torn down: Ctrl-C, SIGTERM) the next
        chunk is an error instead, so the engine's upload ends there and the copy of a big
        extract is not waited out."""
        for chunk in self._chunks():
            if self._cut is not None and self._cut():
                raise SandboxError("the sandbox was torn down while its data was being copied")
            yield chunk

    def _chunks(self) -> Iterator[bytes]:
        batch = _Batch()
        with ThreadPoolExecutor(1, thread_name_prefix="hash") as hasher:
            for name in self._extra:
                batch.add(self._folder(_member(name, tarfile.DIRTYPE, FOLDER_MODE)))
            for source, name in self._entries:
                if isinstance(source, bytes):
                    self._bytes(batch, source, name)
                    continue
                for path, member, _ in walk(source, name, self._as_host):
                    if member.isdir():
                        batch.add(self._folder(member))
                    else:
                        yield from self._file(batch, path, member, hasher)
                    if batch.size >= _BATCH:
                        yield batch.take()
        batch.add(bytes(2 * _BLOCK))  # the end-of-archive marker
        yield batch.take()

    def _folder(self, member: tarfile.TarInfo) -> bytes:
        self.folders.append(member.name)
        return _header(member)

    def _bytes(self, batch: _Batch, data: bytes, name: str) -> None:
        batch.add(_header(_member(name, tarfile.REGTYPE, FILE_MODE, len(data))))
        batch.add(data + _padding(len(data)))
        self.digests[name] = hashlib.sha256(data).hexdigest()
        self.sizes[name] = len(data)
        self.size += len(data)

    def _file(
        self, batch: _Batch, path: str, member: tarfile.TarInfo, hasher: ThreadPoolExecutor
    ) -> Iterator[bytes]:
        """One file: its header, then its bytes as they are read, hashed on the way."""
        descriptor, before = _open_regular(path)
        try:
            read_at = time.time_ns()
            member.size = before.st_size
            batch.add(_header(member))
            if member.size <= _BATCH:
                data = _read(descriptor, member.size, path)
                digest = hashlib.sha256(data)
                batch.add(data)
            else:
                digest = hashlib.sha256()
                yield batch.take()
                yield from _hashed_chunks(descriptor, member.size, path, digest, hasher)
            batch.add(_padding(member.size))
            after = os.fstat(descriptor)
        finally:
            os.close(descriptor)
        self.digests[member.name] = digest.hexdigest()
        self.sizes[member.name] = member.size
        self.size += member.size
        if self._index is not None:
            self._index.remember(path, before, after, read_at, self.digests[member.name])


class _Batch:
    """Headers and small files, gathered into one write of about `_BATCH` bytes."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, piece: bytes) -> None:
        self.parts.append(piece)
        self.size += len(piece)

    def take(self) -> bytes:
        joined = b"".join(self.parts)
        self.parts, self.size = [], 0
        return joined


def pack(
    entries: Iterable[tuple[Source, str]],
    folders: Iterable[str] = (),
    *,
    as_host: bool = False,
    index: HashIndex | None = None,
    cut: Cut | None = None,
) -> Packed:
    """Archive host files and folders under the given member names, plus empty `folders`.
    Members are root's and read-only, or, `as_host`, keep the host's modes and owners (a
    writable copy of a Compose bind mount, which shows them as they are). With an `index`, what
    was read is remembered there (hashindex.py); with `cut`, the archive stops once it says so."""
    return Packed(entries, folders, as_host, index, cut)


def _hashed_chunks(
    descriptor: int, size: int, path: str, digest: hashlib._Hash, hasher: ThreadPoolExecutor
) -> Iterator[bytes]:
    """A big file's bytes: each chunk is hashed in `hasher` while it is sent, and the next one
    read; at most two chunks are held at once, and the digest takes them in order."""
    hashing: Future[None] | None = None
    left = size
    while left:
        chunk = os.read(descriptor, min(_CHUNK, left))
        if not chunk:
            raise SandboxError(f"{path} got shorter while it was being copied")
        if hashing is not None:
            hashing.result()
        hashing = hasher.submit(digest.update, chunk)
        yield chunk
        left -= len(chunk)
    if hashing is not None:
        hashing.result()


def _read(descriptor: int, size: int, path: str) -> bytes:
    data = os.read(descriptor, size)
    while len(data) < size:
        more = os.read(descriptor, size - len(data))
        if not more:
            raise SandboxError(f"{path} got shorter while it was being copied")
        data += more
    return data


def _padding(size: int) -> bytes:
    return bytes(-size % _BLOCK)


def _header(member: tarfile.TarInfo) -> bytes:
    """The member's tar header: tarfile's own bytes, made from a template per kind of member
    for plain names (tarfile takes ~50 us a header, which 20,000 files would feel)."""
    slash = "/" if member.isdir() and not member.name.endswith("/") else ""  # as tarfile
    name = (member.name + slash).encode("utf-8", "surrogateescape")
    if len(name) > tarfile.LENGTH_NAME or not name.isascii() or member.size >= 8**11:
        return member.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    kind = (member.type, member.mode, member.uid, member.gid, member.uname, member.gname)
    template, checksum = _template(*kind)
    size = b"%011o\0" % member.size
    checksum += sum(name) + sum(size)
    return b"".join(
        (
            name.ljust(tarfile.LENGTH_NAME, b"\0"),
            template[100:124],
            size,
            template[136:148],
            b"%06o\0 " % checksum,
            template[156:],
        )
    )


@functools.cache
def _template(
    kind: bytes, mode: int, uid: int, gid: int, uname: str, gname: str
) -> tuple[bytes, int]:
    """A header with no name and no size, and its checksum without them (fields as spaces)."""
    member = tarfile.TarInfo("")
    member.type, member.mode, member.uid, member.gid = kind, mode, uid, gid
    member.uname, member.gname = uname, gname
    header = member.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    return header, sum(header[100:124]) + sum(header[136:148]) + 8 * 32 + sum(header[156:])


def file_digests(
    entries: Iterable[tuple[Path, str]], index: HashIndex | None = None
) -> dict[str, str]:
    """The sha256 of every file `pack` would archive, by member name, without archiving: to
    tell whether a copy made before still holds the same files. Digests the index still holds
    are not computed again."""
    digests: dict[str, str] = {}
    for source, name in entries:
        for path, member, info in walk(source, name):
            if not member.isdir():
                known = index.digest(path, info) if index is not None else None
                digests[posixpath.normpath(member.name)] = known or hash_file(path, index)
    return digests


def hash_file(path: str, index: HashIndex | None) -> str:
    """The sha256 of a data file (opened as `pack` opens it), remembered in `index`."""
    digest = hashlib.sha256()
    descriptor, before = _open_regular(path)
    try:
        read_at = time.time_ns()
        while chunk := os.read(descriptor, _CHUNK):
            digest.update(chunk)
        after = os.fstat(descriptor)
    finally:
        os.close(descriptor)
    if index is not None:
        index.remember(path, before, after, read_at, digest.hexdigest())
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


def walk(
    source: Path, name: str, as_host: bool = False
) -> Iterator[tuple[str, tarfile.TarInfo, os.stat_result]]:
    """Every folder and file under `source` (itself included) in name order: its path, its
    member (named under `name`) and what lstat said of it. Anything but regular files and
    folders is refused."""
    try:
        info = os.lstat(source)
    except OSError as exc:
        raise SandboxError(f"cannot read data {source}: {exc.strerror}") from None
    yield from _walk(str(source), name, info, as_host)


def _walk(
    path: str, name: str, info: os.stat_result, as_host: bool
) -> Iterator[tuple[str, tarfile.TarInfo, os.stat_result]]:
    owner = info if as_host else None
    if stat.S_ISDIR(info.st_mode):
        mode = stat.S_IMODE(info.st_mode) if as_host else FOLDER_MODE
        yield path, _member(name, tarfile.DIRTYPE, mode, owner=owner), info
        try:
            with os.scandir(path) as listing:
                children = sorted(listing, key=lambda child: child.name)
            for child in children:
                found = child.stat(follow_symlinks=False)
                yield from _walk(child.path, f"{name}/{child.name}", found, as_host)
        except OSError as exc:
            raise SandboxError(f"cannot read data {exc.filename or path}: {exc.strerror}") from None
    elif stat.S_ISREG(info.st_mode):
        mode = stat.S_IMODE(info.st_mode) if as_host else FILE_MODE
        yield path, _member(name, tarfile.REGTYPE, mode, info.st_size, owner), info
    else:
        raise SandboxError(
            f"{path} is not a regular file or folder (a link, a device or a pipe); data is"
            " copied from regular files only"
        )


def _open_regular(path: str) -> tuple[int, os.stat_result]:
    """A data file's descriptor and what fstat says of it: opened without following a link and
    checked to be a regular file once open, so nothing swapped in after validation is read."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise SandboxError(f"cannot read data file {path}: {exc.strerror}") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        raise SandboxError(f"{path} changed into something that is not a regular file")
    return descriptor, info


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
