"""Bank files as they come: what exporters and clerks write, turned into what is checked.

One place, applied to each column before validation (`crm.validation`): a Chinese input
method types full-width digits and punctuation (１２３, ，, ．, －); a core banking export
writes `￥52,200.00`, `52 200.00 元`, `2026年10月31日` or a midnight timestamp
`2026-10-25 00:00:00`. Each is folded to the plain form here, so that every check after this
sees one spelling. Row errors still show the value as the file wrote it (the validator reads
it from the raw table).

Full-width ASCII in an ID is folded too (issue 15): `００0109` is the key 000109 typed with
an input method, not a look-alike, because the fold is exact (U+FF01-FF5E are ASCII moved by
0xFEE0). Invisible characters, no-break spaces and every other non-ASCII character in an ID
are still refused by `wealthscore.kernel.identifiers`.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

# ！(U+FF01) … ～(U+FF5E) are ! … ~ moved by 0xFEE0; U+2212 MINUS SIGN is what some
# spreadsheets write for a negative number.
_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
# U+3000 (ideographic) and U+00A0 (no-break) spaces are spaces where a value is a number.
_WIDTH_AND_SPACE = {**_WIDTH, 0x3000: 0x20, 0x00A0: 0x20, 0x2212: 0x2D}

# What a column of each type is folded with; text, names and lists keep their characters
# (full-width punctuation is correct Chinese there).
_FOLDS: dict[str, dict[int, int]] = {
    "id": _WIDTH,  # an ideographic space inside an ID stays a refused character
    "date": _WIDTH_AND_SPACE,
    "amount": _WIDTH_AND_SPACE,
    "int": _WIDTH_AND_SPACE,
    "enum": _WIDTH_AND_SPACE,
    "bool": _WIDTH_AND_SPACE,
    "period": _WIDTH_AND_SPACE,
}


def fold(values: pa.Array, table: dict[int, int]) -> pa.Array:
    """Full-width characters to ASCII, over a column.

    Exports are ASCII in practice: one vectorised test finds the rare non-ASCII rows and only
    their distinct values are translated in Python.
    """
    suspect = pc.fill_null(pc.invert(pc.string_is_ascii(values)), False)
    if not pc.any(suspect).as_py():
        return values
    distinct = pc.unique(pc.filter(values, suspect))
    folded = pa.array([v.translate(table) for v in distinct.to_pylist()], pa.string())
    return pc.if_else(suspect, pc.take(folded, pc.index_in(values, value_set=distinct)), values)


def normalise_column(column_type: str, values: pa.Array) -> pa.Array:
    """The column's values folded for its type, trimmed; unknown types are only trimmed."""
    table = _FOLDS.get(column_type)
    if table is not None:
        values = fold(values, table)
    # Amounts are rewritten by normalise_amount, from the validator's slow path only: the
    # usual export (1234.50) is told by one regex pass over millions of rows (0.36 s for 2M).
    return pc.utf8_trim_whitespace(values)


# ---------------------------------------------------------------- amounts
# A sign, then a currency sign, the number, and 元 at the end; any of them optional.
_CURRENCY = r"^([-+]?)\s*(?:[¥￥]|RMB|CNY)?\s*(.*?)\s*元?$"


def normalise_amount(values: pa.Array) -> pa.Array:
    """'￥52,200.00' / '52 200.00 元' / '-¥1,000' -> '52200.00' / '52200.00' / '-1000'.

    Thousands separators (',' and '，') and spaces are dropped anywhere; a currency sign only
    before the number and 元 only after it, so '1￥00' stays a value that is not a number.
    """
    text = pc.replace_substring_regex(values, _CURRENCY, r"\1\2")
    text = pc.replace_substring_regex(text, r"[,，\s]", "")
    return pc.replace_substring_regex(text, r"^\+", "")


# ---------------------------------------------------------------- dates
# A time of day that is midnight: 00:00, 0:00:00, 00:00:00.000.
_MIDNIGHT = r"^(\S+?)(?:\s+|T)0?0:00(?::00(?:\.0+)?)?$"
_TIME_OF_DAY = r"^\S+?(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$"
_CHINESE_DATE = r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$"


def normalise_date_text(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """-> (date text without a midnight time, in the forms parse_date reads; has-a-time mask).

    '2026年10月31日' -> '2026-10-31'; '2026-10-25 00:00:00' -> '2026-10-25'. A time that is
    not midnight is kept (so the date is refused) and flagged, so that the error can say why:
    a date column holds days, and 2026-10-25 14:30 is not one.
    """
    text = pc.replace_substring_regex(values, _MIDNIGHT, r"\1")
    timed = pc.match_substring_regex(text, _TIME_OF_DAY)
    text = pc.replace_substring_regex(text, _CHINESE_DATE, r"\1-\2-\3")
    return text, timed
