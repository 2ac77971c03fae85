"""Progress: timestamped lines for CI and pipes, a live display redrawn in place for a terminal."""

from __future__ import annotations

import io
import re
import sys
import threading
import time

import pytest

from poc_runner import progress
from poc_runner.progress import LiveProgress, Progress, for_terminal

WAIT = 5.0  # only reached when the code under test is wrong


def terminal() -> io.StringIO:
    stream = io.StringIO()
    stream.isatty = lambda: True  # type: ignore[method-assign]
    return stream


def wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


class TestPlainLines:
    def test_one_timestamped_line_per_update(self) -> None:
        stream = io.StringIO()
        plain = Progress(stream)
        plain.update("invoice-dedupe", "step detect", "running", active=True)
        plain.update("invoice-dedupe", "service db", "healthy")
        lines = stream.getvalue().splitlines()
        assert len(lines) == 2
        assert re.fullmatch(r"\d\d:\d\d:\d\d invoice-dedupe  step detect: running", lines[0])
        assert re.fullmatch(r"\d\d:\d\d:\d\d invoice-dedupe  service db: healthy", lines[1])
        assert "\x1b" not in stream.getvalue()

    def test_the_stamp_is_wall_clock_hours_minutes_seconds(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        formats: list[str] = []

        def strftime(fmt: str) -> str:
            formats.append(fmt)
            return "12:03:04"

        monkeypatch.setattr(progress.time, "strftime", strftime)
        stream = io.StringIO()
        Progress(stream).update("acme", "result", "pass -> runs/acme/1")
        assert stream.getvalue() == "12:03:04 acme  result: pass -> runs/acme/1\n"
        assert formats == ["%H:%M:%S"]

    def test_every_line_is_flushed(self) -> None:
        class Counting(io.StringIO):
            flushes = 0

            def flush(self) -> None:
                self.flushes += 1
                super().flush()

        stream = Counting()
        plain = Progress(stream)
        plain.update("a", "b", "c")
        plain.update("a", "b", "d")
        assert stream.flushes == 2

    def test_defaults_to_stderr(self, monkeypatch: pytest.MonkeyPatch) -> None:
        fake = io.StringIO()
        monkeypatch.setattr(sys, "stderr", fake)
        Progress().update("a", "b", "c")
        assert fake.getvalue().endswith(" a  b: c\n")

    def test_close_does_nothing(self) -> None:
        stream = io.StringIO()
        plain = Progress(stream)
        plain.close()
        assert stream.getvalue() == ""

    def test_lines_from_many_threads_never_interleave(self) -> None:
        stream = io.StringIO()
        plain = Progress(stream)

        def report(n: int) -> None:
            for i in range(50):
                plain.update(f"scope{n}", f"subject{i}", "x" * 100)

        threads = [threading.Thread(target=report, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        lines = stream.getvalue().splitlines()
        assert len(lines) == 400
        assert all(re.fullmatch(r"\d\d:\d\d:\d\d scope\d  subject\d+: x{100}", s) for s in lines)


class TestForTerminal:
    def test_a_terminal_gets_the_live_display(self) -> None:
        chosen = for_terminal(terminal())
        try:
            assert isinstance(chosen, LiveProgress)
        finally:
            chosen.close()

    def test_a_pipe_or_file_gets_plain_lines(self) -> None:
        stream = io.StringIO()
        chosen = for_terminal(stream)
        assert type(chosen) is Progress
        assert chosen.stream is stream

    def test_defaults_to_stderr(self, monkeypatch: pytest.MonkeyPatch) -> None:
        fake = io.StringIO()
        monkeypatch.setattr(sys, "stderr", fake)
        chosen = for_terminal()
        assert type(chosen) is Progress
        assert chosen.stream is fake


class TestLiveProgress:
    def test_redraws_in_place(self) -> None:
        stream = terminal()
        live = LiveProgress(stream)
        try:
            live.update("acme", "service db", "starting")
            first = stream.getvalue()
            live.update("acme", "service app", "starting")
            second = stream.getvalue()[len(first) :]
            live.update("acme", "service db", "healthy")
            third = stream.getvalue()[len(first) + len(second) :]
        finally:
            live.close()
        assert first == "\x1b[2K • acme  service db: starting\n"
        # back up over what was drawn, then draw every line again, in first-seen order
        assert second == (
            "\x1b[1F\x1b[2K • acme  service db: starting\n\x1b[2K • acme  service app: starting\n"
        )
        assert third == (
            "\x1b[2F\x1b[2K • acme  service db: healthy\n\x1b[2K • acme  service app: starting\n"
        )

    def test_an_active_line_shows_a_running_clock(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(progress, "_TICK", 60.0)  # no tick may redraw before we look
        stream = terminal()
        live = LiveProgress(stream)
        try:
            live.update("acme", "step detect", "running", active=True)
            drawn = stream.getvalue()
        finally:
            live.close()
        assert re.fullmatch(r"\x1b\[2K … acme  step detect: running +\d+\.\ds\n", drawn)

    def test_the_clock_ticks_while_a_line_is_active(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(progress, "_TICK", 0.01)
        stream = terminal()
        live = LiveProgress(stream)
        try:
            live.update("acme", "step detect", "running", active=True)
            wait_until(lambda: stream.getvalue().count("\x1b[1F") >= 2, "the clock never ticked")
        finally:
            live.close()

    def test_nothing_is_redrawn_while_nothing_is_active(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(progress, "_TICK", 0.001)
        stream = terminal()
        live = LiveProgress(stream)
        live.update("acme", "service db", "healthy")
        drawn = stream.getvalue()
        ticked = threading.Event()
        real_draw = live._draw

        def draw() -> None:
            ticked.set()
            real_draw()

        live._draw = draw  # type: ignore[method-assign]
        assert not ticked.wait(0.05)  # fifty ticks went by without a redraw
        live.close()
        assert stream.getvalue().startswith(drawn)

    def test_close_stops_the_ticker_and_settles_every_line(self) -> None:
        stream = terminal()
        live = LiveProgress(stream)
        assert live._ticker.is_alive()
        assert live._ticker.daemon  # never keeps the program alive
        live.update("acme", "step detect", "running", active=True)
        live.close()
        assert not live._ticker.is_alive()
        final = stream.getvalue().rsplit("\x1b[1F", 1)[1]
        assert final == "\x1b[2K • acme  step detect: running\n"  # no clock, no ellipsis

    def test_close_with_nothing_drawn(self) -> None:
        stream = terminal()
        live = LiveProgress(stream)
        live.close()
        assert not live._ticker.is_alive()
        assert stream.getvalue() == ""


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("kind", [Progress, LiveProgress])
def test_a_reader_that_left_silences_the_display_not_the_run(kind: type[Progress]) -> None:
    """`poc run 2>&1 | head`: once the pipe is closed, updates are dropped, never raised into
    the run (where they were taken for an error of the engine)."""
    shown = kind(_ClosedPipe())
    shown.update("invoice-dedupe", "step detect", "running", active=True)
    shown.update("invoice-dedupe", "step detect", "ok")
    shown.close()


def test_the_display_listens_to_events_as_it_shows_updates() -> None:
    from poc_runner.events import Event

    stream = io.StringIO()
    Progress(stream)(Event("invoice-dedupe", "step detect", "running", active=True))
    assert stream.getvalue().endswith(" invoice-dedupe  step detect: running\n")
