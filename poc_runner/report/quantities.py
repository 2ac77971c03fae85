"""Numbers as a reader reads them: rounded to their meaningful digits, with their unit, and
times in the units a person uses (6 h, 1 min 30 s, 0.27 s, 17 ms).

Only how figures are shown: result.json keeps every value at full precision. A figure that
rounding would make look like its bound (0.9499 against 0.95) asks for `extra` digits, so a
report never shows "95% against ≥ 95%: not met".
"""

from __future__ import annotations

import math

SIGNIFICANT = 3  # digits a reader needs of a measured value: 0.271 s, 97.3%, 12.3 ms
TIME_UNITS = {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0}  # seconds per unit
# Money reads with its cents. ISO codes of the currencies a prospect is likely to quote.
# fmt: off
_CURRENCIES = frozenset({
    "EUR", "USD", "GBP", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF",
    "RON", "CNY", "INR", "BRL", "MXN", "ZAR", "SGD", "HKD", "AED", "SAR", "ILS", "TRY",
})
# fmt: on
_WHOLE_CURRENCIES = frozenset({"JPY", "KRW"})  # no minor unit in use
_SYMBOLS = frozenset({"€", "$", "£", "¥"})  # written before the amount
_STEPS = (60.0, 1.0, 0.1, 0.01, 0.001)  # rounding steps of a clock time, coarsest first


def readable(value: float, significant: int = SIGNIFICANT) -> str:
    """5,686 · 0.271 · 97.3 · 12: whole numbers whole, others to `significant` digits, with
    thousands separators and no exponent for any everyday magnitude."""
    if isinstance(value, bool) or not math.isfinite(value):
        return str(value)
    if abs(value) >= 1e15 or (value != 0 and abs(value) < 1e-6):
        return f"{value:.{significant}g}"
    if float(value).is_integer():
        return f"{int(value):,}"
    before_point = math.floor(math.log10(abs(value))) + 1
    decimals = max(significant - before_point, 0)
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def score_text(score: float) -> str:
    """A score to one decimal: 70.6, 100."""
    return f"{score:.1f}".removesuffix(".0")


def is_time(unit: str | None) -> bool:
    return unit in TIME_UNITS


def quantity(value: float, unit: str | None, extra: int = 0) -> str:
    """A number with its unit: 5,686.35 EUR, €12, 97%, 18 rows, 1 min 30 s."""
    if unit is None:
        return readable(value, SIGNIFICANT + extra)
    if unit == "ms" and abs(value) < 1000:  # latencies read in ms below a second
        return f"{readable(value, SIGNIFICANT + extra)} ms"
    if unit in TIME_UNITS:
        return duration_text(value * TIME_UNITS[unit], extra)
    if unit == "ratio":
        return f"{readable(value * 100, SIGNIFICANT + extra)}%"
    if unit == "%":
        return f"{readable(value, SIGNIFICANT + extra)}%"
    amount = _money(value, unit) if unit in _CURRENCIES | _WHOLE_CURRENCIES | _SYMBOLS else None
    if amount is not None:
        return f"{unit}{amount}" if unit in _SYMBOLS else f"{amount} {unit}"
    return f"{readable(value, SIGNIFICANT + extra)} {unit}"


def _money(value: float, unit: str) -> str | None:
    """Cents shown (5,686.35), unless the amount is whole or the currency has none."""
    if not math.isfinite(value):
        return None
    if float(value).is_integer() or unit in _WHOLE_CURRENCIES:
        return f"{round(value):,}"
    return f"{value:,.2f}"


def duration_text(seconds: float, extra: int = 0) -> str:
    """6 h · 1 h 30 min · 2 min 5 s · 12.3 s · 0.271 s · 17.2 ms, rounded as a person reads a
    clock; `extra` adds precision where a bound is close."""
    if not math.isfinite(seconds) or seconds < 0:
        return f"{readable(seconds)} s"
    if seconds == 0:
        return "0 s"
    if seconds < 0.1:
        return f"{readable(seconds * 1000, SIGNIFICANT + extra)} ms"
    if seconds < 60:
        return f"{readable(seconds, SIGNIFICANT + extra)} s"
    step = _STEPS[min((0 if seconds >= 3600 else 1) + extra, len(_STEPS) - 1)]
    total = round(seconds / step) * step
    hours, rest = divmod(total, 3600)
    minutes, rest = divmod(rest, 60)
    decimals = max(-math.floor(math.log10(step)), 0)
    parts = [f"{int(hours):,} h"] * bool(hours) + [f"{int(minutes)} min"] * bool(minutes)
    left = f"{rest:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{round(rest)}"
    if left not in ("0", ""):
        parts.append(f"{left} s")
    return " ".join(parts) or "0 s"
