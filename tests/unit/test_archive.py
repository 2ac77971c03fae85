"""Tar archives into and out of containers: `pack`, `folder_digest`, `extract`."""

from __future__ import annotations

import base64
import builtins
import hashlib
import io
import os
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from poc_runner.errors import ArtifactRefused, SandboxError
from poc_runner.sandbox import archive
from poc_runner.sandbox.archive import FILE_MODE, FOLDER_MODE, extract, folder_digest, pack
from poc_runner.sandbox.hashindex import RACY_NS, HashIndex
from tests.unit.sample_results import SECRET, register_secret


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Archived:
    """What a pack streamed, read back with tarfile: the stream is consumed once, here."""

    def __init__(self, packed: archive.Packed) -> None:
        self.chunks = list(packed.chunks())
        self.packed = packed

    @property
    def members(self) -> dict[str, tarfile.TarInfo]:
        with tarfile.open(fileobj=io.BytesIO(b"".join(self.chunks)), mode="r:") as tar:
            return {member.name: member for member in tar.getmembers()}

    @property
    def contents(self) -> dict[str, bytes]:
        found = {}
        with tarfile.open(fileobj=io.BytesIO(b"".join(self.chunks)), mode="r:") as tar:
            for member in tar.getmembers():
                source = tar.extractfile(member)
                if source is not None:
                    found[member.name] = source.read()
        return found


def streamed(*args: object, **kwargs: object) -> Archived:
    return Archived(pack(*args, **kwargs))  # type: ignore[arg-type]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """data/{a.csv, sub/b.csv, sub/empty/}"""
    root = tmp_path / "data"
    (root / "sub" / "empty").mkdir(parents=True)
    (root / "a.csv").write_bytes(b"id,amount\n1,10\n")
    (root / "sub" / "b.csv").write_bytes(b"x" * 3000)
    (root / "a.csv").chmod(0o600)  # the host's modes never reach the sandbox
    return root


def walk_before_the_swap(
    source: Path, name: str, _as_host: bool = False
) -> Iterator[tuple[str, tarfile.TarInfo, os.stat_result]]:
    """What the walk saw before something else was put at `source`: a regular file."""
    yield str(source), archive._member(name, tarfile.REGTYPE, FILE_MODE, 0), Path(__file__).stat()


class TestPack:
    def test_a_single_file_under_its_member_name(self, tmp_path: Path) -> None:
        source = tmp_path / "invoices.csv"
        source.write_bytes(b"id\n1\n")
        archived = streamed([(source, "invoices.csv")])
        assert list(archived.members) == ["invoices.csv"]
        assert archived.contents == {"invoices.csv": b"id\n1\n"}
        assert archived.packed.digests == {"invoices.csv": sha256(b"id\n1\n")}
        assert archived.packed.size == 5

    def test_a_folder_with_every_file_and_folder(self, tree: Path) -> None:
        archived = streamed([(tree, ".")])
        found = archived.members
        assert sorted(found) == [".", "./a.csv", "./sub", "./sub/b.csv", "./sub/empty"]
        assert found["."].isdir() and found["./sub/empty"].isdir()
        assert found["./a.csv"].isfile() and found["./sub/b.csv"].isfile()
        assert archived.contents["./sub/b.csv"] == b"x" * 3000
        assert archived.packed.digests == {
            "./a.csv": sha256(b"id,amount\n1,10\n"),
            "./sub/b.csv": sha256(b"x" * 3000),
        }
        assert archived.packed.folders == [".", "./sub", "./sub/empty"]

    def test_members_are_owned_by_root_and_read_only(self, tree: Path) -> None:
        for member in streamed([(tree, "data")], folders=["mnt/nested"]).members.values():
            assert (member.uid, member.gid) == (0, 0)
            assert (member.uname, member.gname) == ("root", "root")
            expected = FOLDER_MODE if member.isdir() else FILE_MODE
            assert member.mode == expected, member.name
        assert (FILE_MODE, FOLDER_MODE) == (0o444, 0o555)

    def test_headers_are_the_bytes_tarfile_writes(self, tmp_path: Path) -> None:
        """Headers come from a template per kind of member (fast); they must not differ."""
        long_name = "x" * 150 + ".csv"
        names = ["a.csv", "sub/b.csv", long_name, "café.csv", "y" * 100]
        for name in names:
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_bytes(b"z" * 700)
        chunks = b"".join(pack([(tmp_path / n, n) for n in names], folders=["ref"]).chunks())
        expected = io.BytesIO()
        with tarfile.open(fileobj=expected, mode="w", format=tarfile.PAX_FORMAT) as tar:
            folder = archive._member("ref", tarfile.DIRTYPE, FOLDER_MODE)
            tar.addfile(folder)
            for name in names:
                member = archive._member(name, tarfile.REGTYPE, FILE_MODE, 700)
                tar.addfile(member, io.BytesIO(b"z" * 700))
        written = expected.getvalue()
        assert chunks == written[: len(chunks)]
        assert written[len(chunks) :] == bytes(len(written) - len(chunks))  # tarfile pads more

    def test_empty_folders_are_added_for_nested_mount_points(self, tmp_path: Path) -> None:
        source = tmp_path / "a.csv"
        source.write_bytes(b"a")
        archived = streamed([(source, "a.csv")], folders=["ref", "deep/er"])
        found = archived.members
        assert found["ref"].isdir() and found["deep/er"].isdir()
        assert found["a.csv"].isfile()
        assert set(archived.packed.digests) == {"a.csv"}

    def test_nothing_to_pack_is_an_empty_archive(self) -> None:
        archived = streamed([])
        assert archived.members == {}
        assert archived.packed.digests == {}

    def test_an_empty_file(self, tmp_path: Path) -> None:
        source = tmp_path / "empty"
        source.write_bytes(b"")
        archived = streamed([(source, "empty")])
        assert archived.contents == {"empty": b""}
        assert archived.packed.digests == {"empty": sha256(b"")}

    def test_bytes_are_a_file_of_their_own(self) -> None:
        archived = streamed([(b"key: value\n", "app.yaml")])
        assert archived.contents == {"app.yaml": b"key: value\n"}
        assert archived.packed.digests == {"app.yaml": sha256(b"key: value\n")}

    def test_a_symlink_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "real.csv").write_bytes(b"secret")
        (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
        with pytest.raises(SandboxError, match="not a regular file or folder"):
            streamed([(tmp_path / "link.csv", "link.csv")])

    def test_a_symlink_inside_a_folder_is_refused(self, tree: Path, tmp_path: Path) -> None:
        (tmp_path / "outside").write_bytes(b"host secret")
        (tree / "sub" / "escape").symlink_to(tmp_path / "outside")
        with pytest.raises(SandboxError, match="escape"):
            streamed([(tree, ".")])

    def test_a_symlinked_folder_is_refused(self, tree: Path, tmp_path: Path) -> None:
        (tmp_path / "data-link").symlink_to(tree, target_is_directory=True)
        with pytest.raises(SandboxError, match="not a regular file or folder"):
            streamed([(tmp_path / "data-link", ".")])

    def test_a_fifo_is_refused_without_blocking(self, tree: Path) -> None:
        os.mkfifo(tree / "pipe")
        with pytest.raises(SandboxError, match="pipe"):
            streamed([(tree, ".")])

    def test_a_symlink_swapped_in_after_the_walk_is_not_followed(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "outside").write_bytes(b"host secret")
        swapped = tmp_path / "data.csv"
        swapped.symlink_to(tmp_path / "outside")
        monkeypatch.setattr(archive, "walk", walk_before_the_swap)
        with pytest.raises(SandboxError, match="cannot read data file"):
            streamed([(swapped, "data.csv")])

    def test_a_fifo_swapped_in_after_the_walk_is_refused(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        swapped = tmp_path / "data.csv"
        os.mkfifo(swapped)
        monkeypatch.setattr(archive, "walk", walk_before_the_swap)
        with pytest.raises(SandboxError, match="changed into something that is not a regular"):
            streamed([(swapped, "data.csv")])

    def test_each_file_is_opened_and_read_once(
        self, tree: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        opened: list[str] = []
        real_open = os.open

        def counting_open(path: object, *args: object, **kwargs: object) -> int:
            if isinstance(path, str | os.PathLike) and str(path).startswith(str(tree)):
                opened.append(Path(path).name)
            return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

        def no_second_read(*args: object, **kwargs: object) -> None:
            raise AssertionError("a data file was opened a second time (to hash it?)")

        real_builtin_open = builtins.open

        def builtin_open(file: object, *args: object, **kwargs: object) -> object:
            if isinstance(file, str | os.PathLike) and str(file).startswith(str(tree)):
                no_second_read()
            return real_builtin_open(file, *args, **kwargs)  # type: ignore[call-overload]

        monkeypatch.setattr(os, "open", counting_open)
        monkeypatch.setattr(builtins, "open", builtin_open)
        monkeypatch.setattr(Path, "read_bytes", no_second_read)
        packed = pack([(tree, ".")])
        chunks = list(packed.chunks())
        monkeypatch.undo()
        assert chunks
        assert sorted(opened) == ["a.csv", "b.csv"]
        assert packed.digests["./sub/b.csv"] == sha256(b"x" * 3000)

    def test_a_big_file_streams_in_chunks_hashed_in_order(self, tmp_path: Path) -> None:
        source = tmp_path / "big.bin"
        data = os.urandom(3 * archive._CHUNK + 17)
        source.write_bytes(data)
        archived = streamed([(source, "big.bin")])
        assert archived.contents["big.bin"] == data
        assert archived.packed.digests["big.bin"] == sha256(data)
        assert max(map(len, archived.chunks)) <= archive._CHUNK  # never the whole file at once

    def test_nothing_is_read_before_the_engine_asks(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No spool: the archive is made as it is sent, a chunk at a time."""
        source = tmp_path / "big.bin"
        source.write_bytes(os.urandom(4 * archive._CHUNK))
        read: list[int] = []
        real_read = archive._hashed_chunks

        def counting(*args: object) -> Iterator[bytes]:
            for chunk in real_read(*args):  # type: ignore[arg-type]
                read.append(len(chunk))
                yield chunk

        monkeypatch.setattr(archive, "_hashed_chunks", counting)
        chunks = pack([(source, "big.bin")]).chunks()
        assert read == []
        next(chunks)  # the header
        next(chunks)
        assert read == [archive._CHUNK]

    def test_a_cut_stops_the_archive_at_its_next_chunk_and_remembers_no_half_read_file(
        self, tmp_path: Path
    ) -> None:
        """Teardown during the copy of a big extract: the upload ends now, not at its end."""
        source = tmp_path / "big.bin"
        source.write_bytes(os.urandom(8 * archive._CHUNK))
        index = HashIndex(tmp_path / "index.json", {})
        torn_down = False
        chunks = pack([(source, "big.bin")], index=index, cut=lambda: torn_down).chunks()
        next(chunks)  # the header
        next(chunks)  # the first chunk of the file
        torn_down = True
        with pytest.raises(SandboxError, match="torn down while its data was being copied"):
            next(chunks)
        assert index.digest(str(source), source.stat()) is None

    def test_many_small_files_go_in_few_large_writes(self, tmp_path: Path) -> None:
        root = tmp_path / "many"
        root.mkdir()
        for number in range(3000):
            (root / f"{number:05d}.csv").write_bytes(b"%d\n" % number * 50)
        archived = streamed([(root, ".")])
        assert len(archived.packed.digests) == 3000
        assert len(archived.chunks) <= 3  # about a megabyte each, not one per file
        assert archived.contents["./00042.csv"] == b"42\n" * 50

    def test_a_file_that_shrinks_while_it_is_copied_is_refused(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        source = tmp_path / "data.csv"
        source.write_bytes(b"x" * 5000)
        real_fstat = os.fstat
        monkeypatch.setattr(
            os, "fstat", lambda fd: os.stat_result((*real_fstat(fd)[:6], 9000, *real_fstat(fd)[7:]))
        )
        with pytest.raises(SandboxError, match="got shorter while it was being copied"):
            streamed([(source, "data.csv")])


class TestFileDigests:
    def test_every_file_by_normalized_member_name(self, tree: Path) -> None:
        assert archive.file_digests([(tree, ".")]) == {
            "a.csv": sha256(b"id,amount\n1,10\n"),
            "sub/b.csv": sha256(b"x" * 3000),
        }

    def test_a_digest_the_index_vouches_for_is_not_computed_again(
        self, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        read_later(monkeypatch)
        index = HashIndex(tmp_path / "index.json", {})
        first = archive.file_digests([(tree, ".")], index)
        assert first == {"a.csv": sha256(b"id,amount\n1,10\n"), "sub/b.csv": sha256(b"x" * 3000)}
        before = (tree / "a.csv").stat()
        with (tree / "a.csv").open("r+b") as handle:  # the same size and mtime: ctime tells
            handle.write(b"I")
        os.utime(tree / "a.csv", ns=(before.st_atime_ns, before.st_mtime_ns))
        assert index.digest(str(tree / "a.csv"), (tree / "a.csv").stat()) is None
        assert index.digest(str(tree / "sub" / "b.csv"), (tree / "sub" / "b.csv").stat())
        assert archive.file_digests([(tree, ".")], index)["a.csv"] == sha256(b"Id,amount\n1,10\n")

    def test_what_a_pack_read_is_remembered(
        self, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        read_later(monkeypatch)
        index = HashIndex(tmp_path / "index.json", {})
        packed = streamed([(tree, ".")], index=index).packed
        path = tree / "sub" / "b.csv"
        assert index.digest(str(path), path.stat()) == packed.digests["./sub/b.csv"]


def read_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files are read as if long after they last changed (their ctime cannot be set back)."""

    class Later:
        @staticmethod
        def time_ns() -> int:
            return time.time_ns() + 10 * RACY_NS

    monkeypatch.setattr(archive, "time", Later)


class TestFolderDigest:
    DIGESTS = {  # noqa: RUF012
        "/data/in/a.csv": "1" * 64,
        "/data/in/sub/b.csv": "2" * 64,
        "/data/inx/c.csv": "3" * 64,
        "/data/z.csv": "4" * 64,
    }

    def test_stable_and_order_independent(self) -> None:
        backwards = dict(reversed(list(self.DIGESTS.items())))
        first = folder_digest(self.DIGESTS, "/data/in/")
        assert first == folder_digest(backwards, "/data/in/")
        assert len(first) == 64 and int(first, 16) >= 0

    def test_covers_only_the_folder(self) -> None:
        inside = {k: v for k, v in self.DIGESTS.items() if k.startswith("/data/in/")}
        assert folder_digest(self.DIGESTS, "/data/in/") == folder_digest(inside, "/data/in/")

    def test_relative_names_so_the_mount_point_does_not_matter(self) -> None:
        moved = {"/elsewhere/a.csv": "1" * 64, "/elsewhere/sub/b.csv": "2" * 64}
        assert folder_digest(self.DIGESTS, "/data/in/") == folder_digest(moved, "/elsewhere/")

    def test_changes_with_a_content_or_a_name(self) -> None:
        base = folder_digest(self.DIGESTS, "/data/in/")
        changed = {**self.DIGESTS, "/data/in/a.csv": "9" * 64}
        renamed = {
            "/data/in/a2.csv" if k == "/data/in/a.csv" else k: v for k, v in self.DIGESTS.items()
        }
        extra = {**self.DIGESTS, "/data/in/new.csv": "5" * 64}
        assert len({base, *(folder_digest(d, "/data/in/") for d in (changed, renamed, extra))}) == 4

    def test_an_empty_folder_has_the_digest_of_nothing(self) -> None:
        assert folder_digest(self.DIGESTS, "/nowhere/") == sha256(b"")

    def test_same_files_created_in_another_order_give_the_same_digest(self, tmp_path: Path) -> None:
        files = {"a.csv": b"a", "sub/b.csv": b"b", "c.csv": b"c"}
        digests = []
        for label, order in (("one", list(files)), ("two", list(reversed(files)))):
            root = tmp_path / label
            for name in order:
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_bytes(files[name])
            packed = pack([(root, ".")])
            list(packed.chunks())
            mounted = {f"/data/{name.removeprefix('./')}": d for name, d in packed.digests.items()}
            digests.append(folder_digest(mounted, "/data/"))
        assert digests[0] == digests[1]


def tar_bytes(*entries: tuple[str, bytes | str | None]) -> bytes:
    """(name, bytes) a file, (name, None) a folder, (name, "->target") a symlink."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, body in entries:
            member = tarfile.TarInfo(name)
            if body is None:
                member.type = tarfile.DIRTYPE
                tar.addfile(member)
            elif isinstance(body, str):
                member.type = tarfile.SYMTYPE
                member.linkname = body.removeprefix("->")
                tar.addfile(member)
            else:
                member.size = len(body)
                tar.addfile(member, io.BytesIO(body))
    return buffer.getvalue()


def odd_chunks(data: bytes, sizes: tuple[int, ...] = (1, 7, 0, 513, 4099, 3)) -> Iterator[bytes]:
    """The SDK's chunks come in any size, empty ones included."""
    position, index = 0, 0
    while position < len(data):
        size = sizes[index % len(sizes)]
        yield data[position : position + size]
        position += size
        index += 1


class TestExtract:
    def test_files_and_folders_are_written(self, tmp_path: Path) -> None:
        data = tar_bytes(
            ("out", None),
            ("out/flagged.json", b'{"recall": 0.97}'),
            ("out/tables/flagged.csv", b"id\n1\n" * 1000),
            ("out/empty", None),
        )
        into = tmp_path / "artifacts"
        into.mkdir()
        written = extract(odd_chunks(data), into, limit=10**6, files=100)
        assert (into / "out" / "flagged.json").read_bytes() == b'{"recall": 0.97}'
        assert (into / "out" / "tables" / "flagged.csv").read_bytes() == b"id\n1\n" * 1000
        assert (into / "out" / "empty").is_dir()
        root = into.resolve()
        assert written == [root / "out" / "flagged.json", root / "out" / "tables" / "flagged.csv"]

    def test_a_single_chunk_works_too(self, tmp_path: Path) -> None:
        extract([tar_bytes(("a.txt", b"a"))], tmp_path, limit=100, files=100)
        assert (tmp_path / "a.txt").read_bytes() == b"a"

    def test_an_empty_archive_writes_nothing(self, tmp_path: Path) -> None:
        assert extract(odd_chunks(tar_bytes()), tmp_path, limit=100, files=100) == []
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize(
        "name", ["../evil", "out/../../evil", "/etc/cron.d/evil", "a/b/../../../evil"]
    )
    def test_names_that_leave_the_folder_are_refused(self, tmp_path: Path, name: str) -> None:
        into = tmp_path / "run" / "artifacts"
        into.mkdir(parents=True)
        with pytest.raises(ArtifactRefused, match="leaves the run folder"):
            extract(odd_chunks(tar_bytes((name, b"pwned"))), into, limit=100, files=100)
        assert not (tmp_path / "evil").exists()
        assert not (tmp_path / "run" / "evil").exists()

    def test_a_symlink_member_is_skipped_not_written(self, tmp_path: Path) -> None:
        data = tar_bytes(
            ("out/link", "->/etc/passwd"),
            ("out/dir-link", "->.."),
            ("out/real.txt", b"real"),
        )
        written = extract(odd_chunks(data), tmp_path, limit=100, files=100)
        assert not (tmp_path / "out" / "link").exists()
        assert not (tmp_path / "out" / "link").is_symlink()
        assert not (tmp_path / "out" / "dir-link").is_symlink()
        assert written == [(tmp_path / "out" / "real.txt").resolve()]

    def test_a_file_through_an_existing_symlink_is_refused(self, tmp_path: Path) -> None:
        outside = tmp_path / "outside"
        outside.mkdir()
        into = tmp_path / "into"
        into.mkdir()
        (into / "out").symlink_to(outside, target_is_directory=True)
        with pytest.raises(ArtifactRefused, match="leaves the run folder"):
            extract(odd_chunks(tar_bytes(("out/x.txt", b"x"))), into, limit=100, files=100)
        assert list(outside.iterdir()) == []

    def test_hard_links_and_devices_are_skipped(self, tmp_path: Path) -> None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            link = tarfile.TarInfo("hard")
            link.type, link.linkname = tarfile.LNKTYPE, "/etc/shadow"
            fifo = tarfile.TarInfo("pipe")
            fifo.type = tarfile.FIFOTYPE
            device = tarfile.TarInfo("disk")
            device.type, device.devmajor, device.devminor = tarfile.BLKTYPE, 8, 0
            for member in (link, fifo, device):
                tar.addfile(member)
        assert extract(odd_chunks(buffer.getvalue()), tmp_path, limit=100, files=100) == []
        assert list(tmp_path.iterdir()) == []

    def test_the_size_cap_is_enforced(self, tmp_path: Path) -> None:
        data = tar_bytes(("a.bin", b"a" * 600), ("b.bin", b"b" * 600))
        with pytest.raises(ArtifactRefused, match=r"over the 1000 bytes cap"):
            extract(odd_chunks(data), tmp_path, limit=1000, files=100)
        assert not (tmp_path / "a.bin").exists()  # a refused artifact is not half there
        assert not (tmp_path / "b.bin").exists()  # refused before a byte of it is written

    def test_the_file_count_cap_is_enforced(self, tmp_path: Path) -> None:
        """A folder of very many tiny files is refused whole, however few bytes it holds."""
        data = tar_bytes(*((f"out/{i}.txt", b"x") for i in range(11)))
        with pytest.raises(ArtifactRefused, match="more than the cap of 10 files"):
            extract(odd_chunks(data), tmp_path, limit=10**6, files=10)
        assert not list(tmp_path.rglob("*.txt"))

    def test_a_malformed_archive_is_refused_as_the_products(self, tmp_path: Path) -> None:
        data = tar_bytes(("a.bin", b"a" * 600))
        broken = data[:512] + b"\x00garbage" * 20
        with pytest.raises(ArtifactRefused, match="malformed"):
            extract(odd_chunks(broken), tmp_path, limit=10**6, files=100)
        with pytest.raises(ArtifactRefused, match="malformed"):
            extract(odd_chunks(b"this is no tar at all" * 40), tmp_path, limit=10**6, files=100)

    def test_exactly_at_the_cap_is_allowed(self, tmp_path: Path) -> None:
        data = tar_bytes(("a.bin", b"a" * 600), ("b.bin", b"b" * 400))
        assert len(extract(odd_chunks(data), tmp_path, limit=1000, files=100)) == 2

    def test_a_big_file_streams_through(self, tmp_path: Path) -> None:
        body = os.urandom(2 * 1024 * 1024 + 5)
        data = tar_bytes(("big.bin", body))
        extract(odd_chunks(data, (65_537, 1, 999_999)), tmp_path, limit=len(body), files=100)
        assert (tmp_path / "big.bin").read_bytes() == body

    def test_secrets_are_masked_in_every_folder_and_file_name(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        secret = "to?ke?n1?-x"
        register_secret(monkeypatch, secret)
        encoded = base64.b64encode(secret.encode()).decode().rstrip("=")
        assert encoded.count("/") == 3  # the base64 spans four names; it is masked all the same
        data = tar_bytes(
            (f"out/{secret}", None),
            (f"out/{secret}/{secret}.txt", f"key {secret}".encode()),
            (f"out/{encoded}.b64", b"x"),
        )
        written = extract(odd_chunks(data), tmp_path, limit=100, files=100)
        root = tmp_path.resolve()
        assert written == [root / "out/***/***.txt", root / "out/***.b64"]
        assert (tmp_path / "out/***/***.txt").read_bytes() == b"key ***"
        found = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*"))
        assert found == ["out", "out/***", "out/***.b64", "out/***/***.txt"]

    def test_members_whose_masked_names_collide_are_numbered_not_overwritten(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        register_secret(monkeypatch).add("other-secret-value")
        data = tar_bytes(
            (f"{SECRET}.txt", b"first"),
            ("***.txt", b"second"),
            ("other-secret-value.txt", b"third"),
            ("***-2.txt", b"fourth"),
        )
        written = extract(odd_chunks(data), tmp_path, limit=100, files=100)
        names = ["***.txt", "***-2.txt", "***-3.txt", "***-2-2.txt"]
        assert written == [tmp_path.resolve() / name for name in names]
        contents = [(tmp_path / name).read_bytes() for name in names]
        assert contents == [b"first", b"second", b"third", b"fourth"]

    def test_a_refused_name_is_masked_in_the_error(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        register_secret(monkeypatch)
        with pytest.raises(ArtifactRefused) as refused:
            extract(odd_chunks(tar_bytes((f"../{SECRET}", b"x"))), tmp_path, limit=100, files=100)
        assert SECRET not in str(refused.value)
        assert "'../***'" in str(refused.value)

    def test_round_trip_with_pack(self, tree: Path, tmp_path: Path) -> None:
        into = tmp_path / "copy"
        into.mkdir()
        extract(pack([(tree, "data")]).chunks(), into, limit=10**6, files=100)
        assert (into / "data" / "a.csv").read_bytes() == (tree / "a.csv").read_bytes()
        assert (into / "data" / "sub" / "b.csv").read_bytes() == b"x" * 3000
        assert (into / "data" / "sub" / "empty").is_dir()
