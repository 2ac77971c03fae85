"""Secret values, masked in every output the runner writes (spec, "secrets").

Outputs are written from many places and threads (step output, service logs, artifacts,
result.json, the terminal), so the secrets a run knows are registered once, here, for the whole
process: a writer that forgot to ask for them could leak one. Besides each exact value, its
lines (a multi-line key or a JSON secret printed line by line) are masked, and so are the forms
a product prints a value in without meaning to reveal it: upper and lower case, hex, URL
encoding, base64 (see `_forms`). All forms of all secrets go into one compiled regex, their
prefixes shared (see `_alternation`), so masking a chunk stays one quick scan.
"""

from __future__ import annotations

import base64
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
_MIN_PART = 4  # shorter lines of a multi-line secret ("{", "}") would mask half of any output
_MIN_BASE64 = 8  # base64 pieces below 48 bits would match unrelated base64 (images, keys)
_URL_SAFE = ("", "/", "!'()*")  # all escaped; `quote`'s default; JavaScript's encodeURIComponent
_PERCENT = re.compile("%[0-9A-F]{2}")
_URLSAFE_ALPHABET = str.maketrans("+/", "-_")


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
        with self._lock:
            self._values |= _forms(secret)
            source = _alternation(_trie(self._values))
            self._text, self._bytes = re.compile(source), re.compile(source.encode())
            self.longest = max(len(v.encode()) for v in self._values)

    def mask(self, text: str) -> str:
        return text if self._text is None else self._text.sub(MASK, text)

    def found(self, text: str) -> set[str]:
        """The secret forms `text` holds, as written there: what a stream's `seen` is held to."""
        return set() if self._text is None else set(self._text.findall(text))

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
    `longest - 1` bytes are held back until the next chunk (or `flush`) shows how they end.
    It notes which forms it masked (`seen`), so a check can tell whether a secret was printed
    without the stream ever being kept unmasked."""

    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._pending = b""
        self.seen: set[str] = set()

    def feed(self, chunk: bytes) -> bytes:
        if self._masker.pattern is None:
            return chunk
        data = self._pending + chunk
        return self._release(data, len(data) - (self._masker.longest - 1))

    def flush(self) -> bytes:
        return self._release(self._pending, len(self._pending))

    def _release(self, data: bytes, cut: int) -> bytes:
        """`data` masked up to `cut` (or past it, to the end of a form straddling it), in one
        scan; the rest is held back."""
        pattern, start = self._masker.pattern, 0
        kept: list[bytes] = []
        for match in () if pattern is None else pattern.finditer(data):
            if match.start() >= cut:
                break
            self.seen.add(match.group().decode())
            kept += (data[start : match.start()], MASK.encode())
            start = match.end()
        cut = max(cut, start)
        self._pending = data[cut:]
        return b"".join((*kept, data[start:cut]))


def _forms(secret: str) -> set[str]:
    """The value, its lines, and, when it is long enough for them not to mask ordinary text,
    its case, hex, URL and base64 forms."""
    forms = {secret}
    forms |= {line.strip() for line in secret.splitlines() if len(line.strip()) >= _MIN_PART}
    raw = secret.encode()
    if len(raw) >= _MIN_PART:
        forms |= {secret.upper(), secret.lower(), raw.hex(), raw.hex().upper()}
        forms |= _url_forms(secret) | _base64_forms(raw)
    return forms


def _url_forms(secret: str) -> set[str]:
    """Percent-encoded as `quote` and `quote_plus` write it (with the common sets of characters
    left alone), with upper- and lower-case hex digits."""
    upper = {encode(secret, safe=safe) for encode in (quote, quote_plus) for safe in _URL_SAFE}
    return upper | {_PERCENT.sub(lambda digits: digits.group().lower(), form) for form in upper}


def _base64_forms(raw: bytes) -> set[str]:
    """Base64 of the value at each of the 3 byte offsets it can start at inside a longer
    encoded text (`user:password` in a Basic header), in both alphabets, without padding. At an
    offset the digits shared with the bytes around it are left out: the piece ending the text
    keeps its last digit, the piece followed by more bytes drops it. Pieces other than the
    plain encoding are kept only when long enough not to match unrelated base64."""
    plain = base64.b64encode(raw).decode().rstrip("=")
    pieces = {plain}
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + raw).decode()
        start = -(-8 * offset // 6)  # digits that hold bits of the bytes before
        ending, inside = encoded.rstrip("=")[start:], encoded[start : 8 * (offset + len(raw)) // 6]
        pieces |= {piece for piece in (ending, inside) if len(piece) >= _MIN_BASE64}
    return pieces | {piece.translate(_URLSAFE_ALPHABET) for piece in pieces}


def _trie(forms: set[str]) -> dict[str, Any]:
    """The forms as a tree of their characters; "" marks where a form ends."""
    root: dict[str, Any] = {}
    for form in forms:
        node = root
        for char in form:
            node = node.setdefault(char, {})
        node[""] = {}
    return root


def _alternation(node: dict[str, Any]) -> str:
    """A regex matching the forms under `node`, prefixes shared: sre tries alternatives one by
    one at each character, so a flat `a|b|...` of every form of every secret would cost one
    comparison per form per character (4 times slower with 5 secrets). Where a form ends inside
    a longer one the longer is tried first (a greedy `?`), so no form is ever masked in part."""
    branches = []
    for char, child in sorted(node.items()):
        if not char:
            continue
        literal = char
        while len(child) == 1 and "" not in child:  # a run with no branch: one literal
            ((next_char, child),) = child.items()
            literal += next_char
        branches.append(re.escape(literal) + _alternation(child))
    if not branches:
        return ""
    if len(branches) == 1 and "" not in node:
        return branches[0]
    return "(?:" + "|".join(branches) + ")" + ("?" if "" in node else "")


SECRETS = Masker()
"""The process's secrets: `poc run` registers each scenario's secret values as it loads it."""
