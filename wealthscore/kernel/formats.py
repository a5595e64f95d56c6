"""Formatting for people: money in 元 with 万/亿 where large, scores and percentages.

Decimals stay Decimals to the last step: a page shows what the API says, rounded half-up.
The template filters (`wealthscore.templatetags.ws`) and the views that format text for
charts both call these. Kernel: imports no app.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

WAN, YI = Decimal(10_000), Decimal(100_000_000)


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
    """12,345.67 元; 1,234.57 万元 from ten thousand; 4.72 亿元 from a hundred million."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    size = abs(amount)
    if size >= YI:
        return f"{_grouped(amount / YI, 2)} 亿元"
    if size >= WAN:
        return f"{_grouped(amount / WAN, 2)} 万元"
    return f"{_grouped(amount, 2)} 元"


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
