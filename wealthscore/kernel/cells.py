"""Text for spreadsheet cells that a user will open in Excel."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A text that Excel would run as a formula (=, +, -, @, tab, CR first) gets a leading
    apostrophe, so that it is shown, never evaluated (CSV injection)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
