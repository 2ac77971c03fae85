"""`Capture`: a step's output kept bounded, head on disk, tail in memory, the cut accounted for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from poc_runner.sandbox.capture import HEAD_BYTES, TAIL_BYTES, Capture

MARKER = re.compile(
    rb"\n\[poc-runner: (\d+) bytes cut here; kept the first (\d+) and the last (\d+) of (\d+)\]\n"
)


def numbered(count: int) -> bytes:
    """Distinct bytes, so a test can tell which part of the stream was kept."""
    return bytes(i % 251 for i in range(count))


def written(path: Path, chunks: list[bytes], head: int, tail: int) -> Capture:
    capture = Capture(path, head=head, tail=tail)
    for chunk in chunks:
        capture.write(chunk)
    capture.close()
    return capture


def test_defaults_are_one_mebibyte_each() -> None:
    assert HEAD_BYTES == TAIL_BYTES == 1024 * 1024


def test_short_output_is_kept_whole_with_no_marker(tmp_path: Path) -> None:
    capture = written(tmp_path / "out", [b"hello ", b"world\n"], head=100, tail=100)
    assert (tmp_path / "out").read_bytes() == b"hello world\n"
    assert capture.total == 12
    assert capture.cut == 0
    assert capture.text() == "hello world\n"


def test_empty_output(tmp_path: Path) -> None:
    capture = written(tmp_path / "out", [], head=10, tail=10)
    assert (tmp_path / "out").read_bytes() == b""
    assert (capture.total, capture.cut, capture.text()) == (0, 0, "")


def test_empty_chunks_count_for_nothing(tmp_path: Path) -> None:
    capture = written(tmp_path / "out", [b"", b"ab", b"", b"c"], head=2, tail=10)
    assert (capture.total, capture.cut) == (3, 0)
    assert (tmp_path / "out").read_bytes() == b"abc"


def test_exactly_the_head_size_cuts_nothing(tmp_path: Path) -> None:
    data = numbered(10)
    capture = written(tmp_path / "out", [data], head=10, tail=4)
    assert (capture.total, capture.cut) == (10, 0)
    assert (tmp_path / "out").read_bytes() == data
    assert capture.text() == data.decode()


def test_exactly_head_plus_tail_cuts_nothing(tmp_path: Path) -> None:
    data = b"0123456789abcd"
    capture = written(tmp_path / "out", [data], head=10, tail=4)
    assert (capture.total, capture.cut) == (14, 0)
    assert (tmp_path / "out").read_bytes() == data
    assert capture.text() == data.decode()


def test_one_byte_over_head_plus_tail_cuts_one(tmp_path: Path) -> None:
    data = b"0123456789Xabcd"
    capture = written(tmp_path / "out", [data], head=10, tail=4)
    assert (capture.total, capture.cut) == (15, 1)
    saved = (tmp_path / "out").read_bytes()
    assert saved.startswith(b"0123456789\n[poc-runner: 1 bytes cut here;")
    assert saved.endswith(b"]\nabcd")


def test_chunk_straddling_the_head_boundary_is_split(tmp_path: Path) -> None:
    capture = written(tmp_path / "out", [b"abcdefg", b"hijklmn", b"opq"], head=10, tail=3)
    assert capture.total == 17
    assert capture.cut == 17 - 10 - 3
    saved = (tmp_path / "out").read_bytes()
    match = MARKER.search(saved)
    assert match is not None
    assert saved[: match.start()] == b"abcdefghij"
    assert saved[match.end() :] == b"opq"
    assert [int(n) for n in match.groups()] == [4, 10, 3, 17]


def test_head_written_to_disk_as_it_arrives(tmp_path: Path) -> None:
    capture = Capture(tmp_path / "out", head=8, tail=4)
    capture.write(b"abcdef")
    capture.write(b"ghijkl")  # "gh" completes the head; the rest is tail, not on disk yet
    assert capture._file is not None
    capture._file.flush()
    assert (tmp_path / "out").read_bytes() == b"abcdefgh"
    capture.close()


def test_head_and_tail_kept_and_marker_counts_the_cut(tmp_path: Path) -> None:
    data = numbered(10_000)
    chunks = [data[i : i + 333] for i in range(0, len(data), 333)]
    capture = written(tmp_path / "out", chunks, head=1000, tail=500)
    assert capture.total == 10_000
    assert capture.cut == 10_000 - 1000 - 500
    saved = (tmp_path / "out").read_bytes()
    match = MARKER.search(saved)
    assert match is not None
    assert saved[: match.start()] == data[:1000]
    assert saved[match.end() :] == data[-500:]
    assert [int(n) for n in match.groups()] == [8500, 1000, 500, 10_000]
    assert len(saved) == 1000 + len(match.group(0)) + 500


def test_text_is_head_marker_tail(tmp_path: Path) -> None:
    capture = Capture(tmp_path / "out", head=5, tail=5)
    for chunk in (b"start", b"-" * 100, b"final"):
        capture.write(chunk)
    text = capture.text()
    assert text.startswith("start\n[poc-runner: 100 bytes cut here;")
    assert text.endswith("kept the first 5 and the last 5 of 110]\nfinal")
    capture.close()
    assert capture.text() == text  # still readable after close
    assert (tmp_path / "out").read_text() == text


def test_text_replaces_invalid_utf8() -> None:
    capture = Capture(head=10, tail=10)
    capture.write("é".encode() + b"\xff ok")
    assert capture.text() == "é\ufffd ok"


def test_without_a_path_nothing_is_written_and_close_is_harmless() -> None:
    capture = Capture(head=3, tail=3)
    capture.write(b"abcdefghij")
    capture.close()
    capture.close()
    assert capture.cut == 4
    assert capture.text().startswith("abc\n[poc-runner: 4 bytes cut here")
    assert capture.text().endswith("hij")


def test_close_twice_keeps_the_file(tmp_path: Path) -> None:
    capture = written(tmp_path / "out", [b"x" * 50], head=10, tail=10)
    before = (tmp_path / "out").read_bytes()
    capture.close()
    assert (tmp_path / "out").read_bytes() == before


def test_zero_head_keeps_only_the_tail(tmp_path: Path) -> None:
    capture = written(tmp_path / "out", [b"abcdefgh"], head=0, tail=3)
    assert (capture.total, capture.cut) == (8, 5)
    saved = (tmp_path / "out").read_bytes()
    assert saved.startswith(b"\n[poc-runner: 5 bytes cut here; kept the first 0")
    assert saved.endswith(b"fgh")


@pytest.mark.parametrize("chunk_size", [1, 7, 4096, 65_536, 1_000_003])
def test_memory_stays_bounded_whatever_is_written(tmp_path: Path, chunk_size: int) -> None:
    head, tail = 4096, 1024
    total = 50 * 1024 * 1024 if chunk_size >= 4096 else 60_000
    chunk = b"z" * chunk_size
    capture = Capture(tmp_path / "out", head=head, tail=tail)
    sent = 0
    while sent < total:
        piece = chunk[: total - sent]
        capture.write(piece)
        sent += len(piece)
        assert len(capture._head) <= head
        assert len(capture._tail) <= 2 * tail
    capture.write(b"THE END")
    capture.close()
    assert capture.total == total + 7
    assert capture.cut == total + 7 - head - tail
    saved = (tmp_path / "out").read_bytes()
    assert len(saved) < head + tail + 200
    assert saved.endswith(b"THE END")
    match = MARKER.search(saved)
    assert match is not None
    assert int(match.group(1)) == capture.cut
