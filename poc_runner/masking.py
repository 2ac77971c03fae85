"""Secret values, masked in every output the runner writes (spec, "secrets").

Outputs are written from many places and threads (step output, service logs, artifacts,
result.json, the terminal), so the secrets a run knows are registered once, here, for the whole
process: a writer that forgot to ask for them could leak one. Besides each exact value, its
lines (a multi-line key or a JSON secret printed line by line) and its base64 forms are masked,
as GitHub Actions does.
"""

from __future__ import annotations

import base64
import re
import threading

MASK = "***"
_MIN_PART = 4  # shorter lines of a multi-line secret ("{", "}") would mask half of any output


class Masker:
    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._text: re.Pattern[str] | None = None
        self._bytes: re.Pattern[bytes] | None = None
        self.longest = 0  # in bytes: how much of a stream must be held back before writing

    def add(self, secret: str) -> None:
        if not secret:
            return
        forms = {secret, *_encodings(secret)}
        forms |= {line.strip() for line in secret.splitlines() if len(line.strip()) >= _MIN_PART}
        with self._lock:
            self._values |= forms
            ordered = sorted(self._values, key=len, reverse=True)  # longest first: no partials
            self._text = re.compile("|".join(map(re.escape, ordered)))
            self._bytes = re.compile(b"|".join(re.escape(v.encode()) for v in ordered))
            self.longest = max(len(v.encode()) for v in ordered)

    def mask(self, text: str) -> str:
        return text if self._text is None else self._text.sub(MASK, text)

    def mask_bytes(self, data: bytes) -> bytes:
        return data if self._bytes is None else self._bytes.sub(MASK.encode(), data)

    @property
    def active(self) -> bool:
        return self._bytes is not None

    @property
    def pattern(self) -> re.Pattern[bytes] | None:
        return self._bytes

    def stream(self) -> StreamMasker:
        return StreamMasker(self)


class StreamMasker:
    """Masks a byte stream written in chunks, where a secret may straddle two chunks: the last
    `longest - 1` bytes are held back until the next chunk (or `flush`) shows how they end."""

    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._pending = b""

    def feed(self, chunk: bytes) -> bytes:
        pattern = self._masker.pattern
        if pattern is None:
            return chunk
        data = self._pending + chunk
        cut = max(len(data) - (self._masker.longest - 1), 0)
        for match in pattern.finditer(data):
            if match.start() < cut < match.end():
                cut = match.end()
        self._pending = data[cut:]
        return self._masker.mask_bytes(data[:cut])

    def flush(self) -> bytes:
        rest, self._pending = self._pending, b""
        return self._masker.mask_bytes(rest)


def _encodings(secret: str) -> set[str]:
    raw = secret.encode()
    if len(raw) < _MIN_PART:
        return set()
    return {
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }


SECRETS = Masker()
"""The process's secrets: `poc run` registers each scenario's secret values as it loads it."""
