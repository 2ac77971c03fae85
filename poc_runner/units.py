"""Durations (`2m`, `1m30s`, `500ms`) and memory sizes (`512m`, `1g`) as Compose writes them.

Numbers without a unit are seconds (durations) and bytes (memory), as in Compose.
"""

from __future__ import annotations

import math
import re

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)")
_DURATION = re.compile(rf"(?:{_DURATION_PART.pattern})+")
_SECONDS_PER_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 0.000001}

_MEMORY = re.compile(r"(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?", re.IGNORECASE)
_BYTES_PER_UNIT = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}

DURATION_PATTERN = rf"^{_DURATION.pattern}$"
MEMORY_PATTERN = r"^[0-9]+(\.[0-9]+)?\s*([bBkKmMgG]|[kKmMgG][bB]|[kKmMgG][iI][bB])?$"


def parse_duration(value: object) -> float:
    """Seconds in `value`; raises ValueError with a message a sales engineer can act on."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and _DURATION.fullmatch(value.strip()):
        seconds = sum(
            float(number) * _SECONDS_PER_UNIT[unit]
            for number, unit in _DURATION_PART.findall(value.strip())
        )
    else:
        raise ValueError(
            f"{str(value)[:40]!r} is not a duration; write it like 30s, 2m, 1h30m or 500ms"
        )
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{value!r} is not a duration; it must be zero or more")
    return seconds


def parse_memory(value: object) -> int:
    """Bytes in `value` (k, m, g are powers of 1024, as Docker reads them)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a memory size")
    if isinstance(value, int):
        size = float(value)
    else:
        match = _MEMORY.fullmatch(str(value).strip())
        if match is None:
            raise ValueError(f"{str(value)[:40]!r} is not a memory size; write it like 512m or 2g")
        number, unit = match.groups()
        size = float(number) * _BYTES_PER_UNIT[(unit or "b")[0].lower()]
    if not math.isfinite(size) or size < 0:
        raise ValueError(f"{value!r} is not a memory size")
    return int(size)


def size_text(size: int) -> str:
    """Bytes as a person reads them: 512 MiB, 40 KiB, 300 bytes."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"
