"""Formatting for people: money in the reader's language, scores and percentages.

Money follows the active language: 元 with 万/亿 where large in Chinese, thousands and
millions (K / M / B) in English, each with its own thresholds, here and nowhere else.

Decimals stay Decimals to the last step: a page shows what the API says, rounded half-up.
The template filters (`wealthscore.templatetags.ws`) and the views that format text for
charts both call these. Kernel: imports no app.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import translation

WAN, YI = Decimal(10_000), Decimal(100_000_000)
THOUSAND, MILLION, BILLION = Decimal(1_000), Decimal(1_000_000), Decimal(1_000_000_000)


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _grouped(value: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, ROUND_HALF_UP):,.{places}f}"


def yuan(value) -> str:
    """Chinese: 12,345.67 元; 1,234.57 万元 from ten thousand; 4.72 亿元 from a hundred million.
    English: 9,999.00; 853.20 K from ten thousand; 3.68 M from a million; 4.72 B from a
    billion (the same threshold as 万, so that a figure changes its unit where it does in
    Chinese, never shown in 万 to a reader who counts in thousands)."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    size = abs(amount)
    if not _english():
        if size >= YI:
            return f"{_grouped(amount / YI, 2)} 亿元"
        if size >= WAN:
            return f"{_grouped(amount / WAN, 2)} 万元"
        return f"{_grouped(amount, 2)} 元"
    for scale, unit in ((BILLION, "B"), (MILLION, "M")):
        if size >= scale:
            return f"{_grouped(amount / scale, 2)} {unit}"
    if size >= WAN:
        return f"{_grouped(amount / THOUSAND, 2)} K"
    return _grouped(amount, 2)


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def payroll(value) -> str:
    """18,000.00 元 whatever the size: pay is read against a payslip, to the fen, never in 万."""
    amount = _decimal(value)
    return "—" if amount is None else f"{_grouped(amount, 2)} 元"


def score(value) -> str:
    """Points and totals: two places, half-up; — when there is none."""
    number = _decimal(value)
    return "—" if number is None else _grouped(number, 2)


def pct(value) -> str:
    """A percentage given in per cent (20 → 20.00%)."""
    number = _decimal(value)
    return "—" if number is None else f"{_grouped(number, 2)}%"


def signed(value) -> str:
    """A change: +1.25 / −0.50 / 0.00."""
    number = _decimal(value)
    if number is None:
        return "—"
    text = _grouped(abs(number), 2)
    return f"+{text}" if number > 0 else f"−{text}" if number < 0 else text
