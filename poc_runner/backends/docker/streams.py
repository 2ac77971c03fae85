"""Long engine streams a teardown can cut short: image builds and pulls, and data copies.

A build reads the engine's answer until the build ends: Ctrl-C or SIGTERM during a 20 s `RUN`
step waited out the 20 s, since nothing reads faster than the engine writes. So while a
sandbox's thread streams a build or a pull, the sandbox can cut it: its connection is shut
down, the reading thread gets an error at once, and the engine, its client gone, stops the
build. The responses are found through a hook the docker SDK's HTTP session calls in the
requesting thread, so no request is made differently from the SDK's own. A data copy is an
upload, which the engine answers only at its end: its archive asks `cut` before each chunk
instead (sandbox/archive.py), and ends the upload with an error once it is set.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from poc_runner.errors import SandboxError

if TYPE_CHECKING:
    import docker

_STREAMING = ("/build", "/images/create")
_opened: dict[int, Any] = {}  # thread id -> the streaming response it opened last
_hooked: set[int] = set()  # the API clients whose session reports them
_hooking = threading.Lock()


def _note(response: Any, *_args: Any, **_kwargs: Any) -> Any:
    request = response.request
    if request.method == "POST" and request.path_url.split("?")[0].endswith(_STREAMING):
        _opened[threading.get_ident()] = response
    return response


def _hook(client: docker.DockerClient) -> None:
    with _hooking:
        if id(client.api) not in _hooked:
            client.api.hooks["response"].append(_note)
            _hooked.add(id(client.api))


def _shut(response: Any) -> None:
    """Shut the response's connection down, so a thread blocked reading it wakes at once."""
    raw = getattr(getattr(getattr(response.raw, "_fp", None), "fp", None), "raw", None)
    target = getattr(raw, "_sock", None) or getattr(raw, "sock", None)
    if target is not None:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_RDWR)
            return
    with contextlib.suppress(Exception):
        response.close()


class Streams:
    """One sandbox's streams in progress, and whether it was torn down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: set[int] = set()
        self.cut = False

    @contextlib.contextmanager
    def open(self, client: docker.DockerClient) -> Iterator[None]:
        """The build or pull this thread starts in the block can be cut; once cut, a stream
        that fails says so instead of the engine's words."""
        _hook(client)
        me = threading.get_ident()
        with self._lock:
            if self.cut:
                raise SandboxError("the sandbox was torn down while it was being built")
            self._threads.add(me)
        try:
            yield
        except Exception:
            if self.cut:
                raise SandboxError("the sandbox was torn down while it was being built") from None
            raise
        finally:
            with self._lock:
                self._threads.discard(me)
            _opened.pop(me, None)

    def cut_all(self) -> None:
        with self._lock:
            self.cut = True
            for thread in self._threads:
                if (response := _opened.get(thread)) is not None:
                    _shut(response)
