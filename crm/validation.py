"""Checking and typing a file's rows before anything is written (all-or-nothing imports).

Every check is a vectorised Arrow expression over a whole column: a 2-million-row file is
checked in a few passes, never row by row in Python. Each problem becomes a row error with
the file's own row number, the column as the file named it, the value and the reason.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.utils import timezone, translation

from wealthscore.kernel.catalog import MANUAL_MEASURE_CODES, MEASURE_CODES
from wealthscore.kernel.identifiers import identifier_problems, mask_name
from wealthscore.kernel.messages import Message, msg

from .kinds import KINDS, Column
from .normalise import normalise_amount, normalise_column, normalise_date_text
from .readers import RawTable

MAX_ERRORS = 1000
EXCEL_EPOCH_DAYS = -25569  # 1899-12-30 as days from 1970-01-01, for Excel serial dates
VALUE_PREVIEW = 120


@dataclass
class References:
    """Keys that exist before this file: what its rows may refer to."""

    employee_ids: set[str] = field(default_factory=set)
    unit_codes: set[str] = field(default_factory=set)
    product_codes: set[str] = field(default_factory=set)
    unit_parents: dict[str, str | None] = field(default_factory=dict)
    # Staff records linked to a login (targets.org.staff_rules.linked_staff_records): a staff
    # file may not change their role or touch a privileged user's record (issue 14).
    staff_logins: dict[str, dict] = field(default_factory=dict)


@dataclass
class Checked:
    kind: str
    table: pa.Table  # typed, normalised columns ready to load
    errors: list[dict]
    error_count: int
    as_of_date: dt.date | None = None
    codes: Codes | None = None  # the key columns' integer codes, reused by the loaders
    row_numbers: Any = None  # the file's row number of each row of `table` (numpy array)

    @property
    def ok(self) -> bool:
        return self.error_count == 0


class ErrorLog:
    def __init__(self, raw: RawTable):
        self.raw = raw
        self.found: list[tuple[int, int, dict]] = []
        self.count = 0
        self.order = {name: i for i, name in enumerate(raw.headers)}
        self.lock = threading.Lock()  # columns are checked in parallel threads
        spec = KINDS[raw.kind]
        # Client names are shown masked everywhere (SPEC §4), row errors included.
        self.masked = {column.name for column in spec.columns if column.masked}

    def add(
        self,
        mask: pa.Array | np.ndarray,
        column: str | None,
        reason: Message | str,
        fix: Message | str | None = None,
    ) -> None:
        """One error per row of `mask`; `fix`, when given, says what to do about it."""
        if isinstance(mask, pa.ChunkedArray | pa.Array):
            mask = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
        indices = np.flatnonzero(mask)
        if not len(indices):
            return
        with self.lock:
            self._add(indices, column, reason, fix)

    def _add(
        self,
        indices: np.ndarray,
        column: str | None,
        reason: Message | str,
        fix: Message | str | None = None,
    ) -> None:
        self.count += len(indices)
        values = self.raw.table.column(column) if column in self.raw.headers else None
        # No column (a row-level error): no header to name and the first place in the order.
        named = self.raw.headers.get(column, column) if column is not None else None
        place = self.order.get(column, -1) if column is not None else -1
        for index in indices[:MAX_ERRORS]:
            value = values[int(index)].as_py() if values is not None else None
            if isinstance(value, str) and column in self.masked:
                value = mask_name(value.strip())
            if isinstance(value, str) and len(value) > VALUE_PREVIEW:
                value = value[:VALUE_PREVIEW] + f"… ({len(value)} characters)"
            row = int(self.raw.row_numbers[index])
            entry = {
                "row": row,
                "column": named,
                "value": value,
                "reason": reason,
            }
            if fix:
                entry["fix"] = fix
            self.found.append((row, place, entry))

    def add_file_error(self, reason: Message | str, column: str | None = None) -> None:
        self.count += 1
        # Named as the file names it, like the row errors.
        named = self.raw.headers.get(column, column) if column else None
        self.found.append((0, -1, {"row": None, "column": named, "value": None, "reason": reason}))

    def result(self) -> list[dict]:
        self.found.sort(key=lambda item: (item[0], item[1]))
        return [entry for _row, _col, entry in self.found[:MAX_ERRORS]]


# ---------------------------------------------------------------- column parsers
def _blank(values: pa.Array) -> pa.Array:
    # Comparing lengths is several times faster than comparing strings with "".
    return pc.equal(pc.utf8_length(values), 0)


def parse_date(values: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """-> (date32 or null, invalid mask, has-a-time-of-day mask).

    Forms: 2026-10-31, 2026/10/31, 2026.10.31, 20261031, 2026年10月31日, Excel serial, and any
    of them with a midnight time (2026-10-31 00:00:00) as exports of datetime columns write.
    """
    text, timed = normalise_date_text(values)
    text = pc.replace_substring_regex(text, r"[/.]", "-")
    text = pc.replace_substring_regex(text, r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3")
    text = pc.replace_substring_regex(text, r"^(\d{4})-(\d)-", r"\1-0\2-")
    text = pc.replace_substring_regex(text, r"-(\d)$", r"-0\1")
    stamps = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2026-02-30 over to March: a date must print back as it was written.
    exact = pc.equal(pc.strftime(stamps, format="%Y-%m-%d"), text)
    dates = pc.if_else(pc.fill_null(exact, False), pc.cast(stamps, pa.date32()), None)
    serial = pc.match_substring_regex(values, r"^\d{5}$")
    if pc.any(serial).as_py():
        days = pc.add(pc.cast(pc.if_else(serial, values, "0"), pa.int32()), EXCEL_EPOCH_DAYS)
        dates = pc.if_else(serial, pc.cast(days, pa.date32()), dates)
    invalid = pc.and_(pc.invert(_blank(values)), pc.is_null(dates))
    return dates, pc.and_(invalid, pc.invert(timed)), pc.and_(invalid, timed)


def parse_amount(values: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """-> (normalised decimal text, not-a-number mask, more-than-2-decimals mask)."""
    plain = pc.match_substring_regex(values, r"^\d{1,16}(\.\d{1,2})?$")
    if pc.all(plain).as_py():
        # The usual export (1234.50): one pass over millions of rows, not five.
        nothing = pa.array(np.zeros(len(values), dtype=bool))
        return values, nothing, nothing
    # ￥52,200.00, 52 200.00 元: separators, spaces and currency signs (crm.normalise).
    text = normalise_amount(values)
    number = pc.match_substring_regex(text, r"^-?\d{1,16}(\.\d+)?$")
    # Trailing zeros past the cents change nothing: 12.340 is 12.34.
    text = pc.replace_substring_regex(text, r"^(-?\d+\.\d\d)0+$", r"\1")
    too_precise = pc.and_(number, pc.match_substring_regex(text, r"\.\d{3,}$"))
    not_number = pc.and_(pc.invert(_blank(values)), pc.invert(number))
    return text, not_number, too_precise


def _spellings(column: Column) -> str:
    """What a file may write: each code that is itself a spelling, else the code's spellings.

    A risk level is stored as 3 but written C3, and "compliant" as true but written Y or 是:
    listing the stored codes would tell the user to write a value that is refused too.
    """
    shown: list[str] = []
    for spelling, code in column.choices.items():
        value = code if code in column.choices else spelling.upper()
        if value not in shown:
            shown.append(value)
    return ", ".join(shown)


@dataclass
class TypedColumns:
    arrays: dict[str, pa.Array]


def check_columns(raw: RawTable, log: ErrorLog) -> dict[str, pa.Array]:
    """Check and type every column; columns run in parallel (Arrow kernels free the GIL)."""
    spec = KINDS[raw.kind]
    today = timezone.localdate()
    language = translation.get_language()

    def one(column: Column) -> pa.Array:
        # Translations are per thread: speak the caller's language in the pool's threads.
        with translation.override(language):
            return _check_column(raw, column, log, today)

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        arrays = list(pool.map(one, spec.columns))
    return {column.name: array for column, array in zip(spec.columns, arrays, strict=True)}


def _check_column(raw: RawTable, column: Column, log: ErrorLog, today: dt.date) -> pa.Array:
    if column.name not in raw.headers:
        # An optional column the file lacks reads as blank in every row.
        if column.type in {"text", "id", "list", "period"}:
            return pa.array([""] * raw.num_rows, pa.string())
        return pa.nulls(raw.num_rows, _arrow_type(column))
    # Full-width digits, ￥ and 元, 年月日: folded once, before any check (crm.normalise).
    values = normalise_column(column.type, raw.table.column(column.name).combine_chunks())
    blank = _blank(values)
    if column.required:
        log.add(blank, column.name, msg("required_empty"))
    log.add(
        pc.greater(pc.utf8_length(values), column.max_length),
        column.name,
        msg("too_long", n=column.max_length),
    )
    return _typed(column, values, blank, log, today)


def _arrow_type(column: Column) -> pa.DataType:
    return {
        "date": pa.date32(),
        "int": pa.int64(),
        "bool": pa.bool_(),
    }.get(column.type, pa.string())


def _by_distinct(values: pa.Array, parse):
    """Apply `parse` to each distinct value once and spread the results back.

    Dates and enumerations repeat: a month's holdings carry one as-of date in millions of
    rows, so parsing the few distinct values is what makes the check cheap.
    """
    encoded = pc.dictionary_encode(values)
    results = parse(encoded.dictionary)
    if isinstance(results, tuple):
        return tuple(pc.take(r, encoded.indices) for r in results)
    return pc.take(results, encoded.indices)


def _typed(
    column: Column, values: pa.Array, blank: pa.Array, log: ErrorLog, today: dt.date
) -> pa.Array:
    name = column.name
    if column.type == "date":
        dates, invalid, timed = _by_distinct(values, parse_date)
        log.add(invalid, name, msg("not_a_date"))
        log.add(
            timed,
            name,
            msg("has_time_of_day"),
            msg("fix_date_only"),
        )
        log.add(
            pc.greater(dates, pa.scalar(today, pa.date32())),
            name,
            msg("date_future"),
        )
        return dates
    if column.type == "amount":
        text, not_number, too_precise = parse_amount(values)
        log.add(not_number, name, msg("not_number"))
        log.add(too_precise, name, msg("too_precise"))
        if not column.allow_negative:
            log.add(
                pc.and_(pc.invert(not_number), pc.starts_with(text, "-")),
                name,
                msg("negative_amount"),
            )
        return pc.if_else(pc.or_(blank, not_number), None, text)
    if column.type == "int":
        is_int = pc.match_substring_regex(values, r"^\d{1,9}$")
        log.add(pc.and_(pc.invert(blank), pc.invert(is_int)), name, msg("not_whole_number"))
        numbers = pc.cast(pc.if_else(is_int, values, None), pa.int64())
        if column.min_value is not None and column.max_value is not None:
            log.add(
                pc.or_(pc.less(numbers, column.min_value), pc.greater(numbers, column.max_value)),
                name,
                msg("out_of_range", lo=column.min_value, hi=column.max_value),
            )
        return numbers
    if column.type in {"enum", "bool"}:
        spellings = list(column.choices)
        codes = pa.array([column.choices[s] for s in spellings], pa.string())
        index = _by_distinct(
            values,
            lambda distinct: pc.index_in(
                pc.utf8_lower(distinct), value_set=pa.array(spellings, pa.string())
            ),
        )
        unknown = pc.and_(pc.invert(blank), pc.is_null(index))
        log.add(unknown, name, msg("not_one_of", values=_spellings(column)))
        mapped = pc.take(codes, index)
        if column.type == "bool":
            return pc.equal(mapped, "true")
        return mapped
    if column.type == "period":
        valid = pc.match_substring_regex(values, r"^\d{4}(-Q[1-4])?$")
        log.add(pc.and_(pc.invert(blank), pc.invert(valid)), name, msg("not_a_period"))
        return values
    if column.type == "list":
        return pc.replace_substring_regex(values, r"\s*[;；,，、]\s*", ";")
    if column.type == "id":
        # A look-alike key (a zero-width space, a no-break space) would create a second
        # employee or client that no screen can tell apart (wealthscore.kernel.identifiers);
        # full-width digits were folded to the key they spell (crm.normalise).
        problems, reasons = identifier_problems(values)
        for code, reason in enumerate(reasons):
            log.add(pc.equal(problems, code), name, reason)
    return values


# ---------------------------------------------------------------- whole-file checks
class Codes:
    """Each key column as integer codes (its dictionary indices), computed once per file.

    Duplicate keys and "one RM per client" are then counting over integers, which is what
    keeps a 2,000,000-row month cheap to check.
    """

    def __init__(self, table: pa.Table):
        self.table = table
        self._codes: dict[str, tuple[np.ndarray, int]] = {}

    def __call__(self, column: str) -> tuple[np.ndarray, int]:
        if column not in self._codes:
            encoded = pc.dictionary_encode(self.table.column(column).combine_chunks())
            size = len(encoded.dictionary)
            # Nulls (values that failed to parse) share one extra code.
            indices = pc.fill_null(encoded.indices, size).to_numpy(zero_copy_only=False)
            self._codes[column] = indices.astype(np.int64), size + 1
        return self._codes[column]


def _duplicates(codes: Codes, key: tuple[str, ...], rows: int) -> np.ndarray:
    """Rows whose key occurs more than once (every occurrence, so all can be reported)."""
    combined, space = np.zeros(rows, dtype=np.int64), 1
    for column in key:
        values, size = codes(column)
        if space * size >= 2**62:  # would overflow: renumber what we have so far
            combined = np.unique(combined, return_inverse=True)[1].astype(np.int64)
            space = int(combined.max()) + 1 if rows else 1
        combined, space = combined * size + values, space * size
    # Counting into an array of the key space is fastest while it stays moderate (≤ 128 MB).
    if space > max(8 * rows, 1 << 24):
        _unique, inverse, counts = np.unique(combined, return_inverse=True, return_counts=True)
        return counts[inverse] > 1
    return np.bincount(combined, minlength=space)[combined] > 1


def _unknown(values: pa.Array, known: set[str]) -> pa.Array:
    present = pc.invert(_blank(values))
    return pc.and_(
        present, pc.invert(pc.is_in(values, value_set=pa.array(sorted(known), pa.string())))
    )


def check(raw: RawTable, refs: References) -> Checked:
    log = ErrorLog(raw)
    for problem in raw.invalid_rows:
        log.count += 1
        log.found.append((problem["row"] or 0, -1, problem))
    typed = check_columns(raw, log)
    table = pa.table(typed)
    codes = Codes(table)
    spec = KINDS[raw.kind]
    _check_number_cells(raw, table, refs, log)
    if spec.key and table.num_rows:
        duplicate = _duplicates(codes, spec.key, table.num_rows)
        log.add(
            duplicate,
            spec.key[0],
            msg("duplicate_key", key=" + ".join(spec.key)),
        )
    as_of = None
    kind_check = _KIND_CHECKS.get(raw.kind)
    if kind_check is not None:
        as_of = kind_check(table, refs, log, codes)
    return Checked(
        kind=raw.kind,
        table=table,
        errors=log.result(),
        error_count=log.count,
        as_of_date=as_of,
        codes=codes,
        row_numbers=raw.row_numbers,
    )


# Where a zero-padded twin of a number-typed ID may be found, by column.
_KNOWN_IDS = {
    "employee_id": ("employees",),
    "rm_employee_id": ("employees",),
    "scope": ("employees", "units"),
    "unit_code": ("units",),
    "parent_code": ("units",),
    "product_code": ("products",),
    "client_id": ("clients",),
}
MAX_SUGGESTED = 200  # distinct number-typed values looked up for a "did you mean"


def _check_number_cells(raw: RawTable, table: pa.Table, refs: References, log: ErrorLog) -> None:
    """An ID that a spreadsheet stored as a number is refused, never loaded (issue 15).

    LibreOffice and Excel turn 001032 into the number 1032 when a column is not formatted as
    text; loaded as "1032", it matches no one (an unknown employee) or, worse, a client number
    matches no client and the sales are silently lost to every score. The reader keeps which
    cells were numbers (`RawTable.number_cells`); text cells with the right digits are fine.
    """
    for name, mask in raw.number_cells.items():
        if not mask.any() or name not in table.column_names:
            continue
        values = table.column(name)
        numbers = pc.filter(values, pa.array(mask))
        distinct = [v for v in pc.unique(numbers).to_pylist() if v]
        suggestions = _padded_twins(name, distinct[:MAX_SUGGESTED], refs)
        reason = msg("number_cell_id")
        # The values grouped by their fix: the plain one, or with the IDs they may have been.
        fixes: dict[str, list[str]] = {}
        for value in distinct:
            fixes.setdefault(" / ".join(suggestions.get(value) or []), []).append(value)
        for twins, group in fixes.items():
            fix = msg("fix_text_column_twins", id=twins) if twins else msg("fix_text_column")
            in_group = pc.is_in(values, value_set=pa.array(group, pa.string()))
            log.add(pc.and_(pa.array(mask), in_group), name, reason, fix)


def _padded_twins(column: str, values: list[str], refs: References) -> dict[str, list[str]]:
    """value -> the known IDs that are it with leading zeros (1032 -> ['001032'])."""
    digits = [v for v in values if v.isdigit()]
    if not digits:
        return {}
    wanted = {v.lstrip("0") or "0" for v in digits}
    known: set[str] = set()
    for source in _KNOWN_IDS.get(column, ()):
        if source == "employees":
            known |= refs.employee_ids
        elif source == "units":
            known |= refs.unit_codes
        elif source == "products":
            known |= refs.product_codes
        elif source == "clients":
            known |= _clients_padded(digits)
    twins: dict[str, list[str]] = {}
    for key in known:
        if key.startswith("0") and key.isdigit() and (key.lstrip("0") or "0") in wanted:
            twins.setdefault(key.lstrip("0") or "0", []).append(key)
    return {
        value: sorted(twins[value.lstrip("0") or "0"])[:3]
        for value in digits
        if twins.get(value.lstrip("0") or "0") and value not in twins[value.lstrip("0") or "0"]
    }


def _clients_padded(digits: list[str]) -> set[str]:
    """Known client numbers (a holdings snapshot or a sale named them) that are one of
    `digits` with leading zeros: one indexed query per 500 candidates and table."""
    from .models import ClientAssignment, ClientSnapshot

    candidates = sorted(
        {"0" * pad + value for value in digits for pad in range(1, 33 - len(value))}
    )
    found: set[str] = set()
    for start in range(0, len(candidates), 500):
        chunk = candidates[start : start + 500]
        for model in (ClientSnapshot, ClientAssignment):
            rows = model.objects.filter(client_id__in=chunk).values_list("client_id", flat=True)
            found |= set(rows.distinct())
    return found


def _check_references(table: pa.Table, refs: References, log: ErrorLog) -> None:
    for column, known, label in [
        ("rm_employee_id", refs.employee_ids, msg("unknown_employee_id")),
        ("employee_id", refs.employee_ids, msg("unknown_employee_id")),
        ("unit_code", refs.unit_codes, msg("unknown_unit_code")),
        ("product_code", refs.product_codes, msg("unknown_product_code")),
    ]:
        if column in table.column_names:
            unknown = _unknown(table.column(column), known)
            number_cells = log.raw.number_cells.get(column)
            if number_cells is not None and number_cells.any():
                # A number cell already has its own error, with the fix and the ID it may
                # have been: "unknown" again on the same cell would only hide that one.
                unknown = pc.and_(pc.fill_null(unknown, False), pa.array(~number_cells))
            log.add(unknown, column, label)


def _check_org_units(table: pa.Table, refs: References, log: ErrorLog, codes: Codes) -> None:
    units = table.column("unit_code").to_pylist()
    parents = table.column("parent_code").to_pylist()
    known = set(refs.unit_codes) | set(units)
    log.add(
        np.array([bool(p) and p not in known for p in parents]), "parent_code",
        msg("unknown_parent_unit"),
    )  # fmt: skip
    log.add(np.array([bool(p) and p == c for c, p in zip(units, parents, strict=True)]),
            "parent_code", msg("own_parent"))  # fmt: skip
    tree = dict(refs.unit_parents)
    tree.update({c: (p or None) for c, p in zip(units, parents, strict=True)})
    roots = [c for c, p in tree.items() if p is None]
    if len(roots) > 1:
        log.add_file_error(
            msg("several_head_offices", codes=", ".join(sorted(roots)[:10])),
            "parent_code",
        )
    cyclic = []
    for code in units:
        seen, current = set(), code
        while current is not None and current not in seen:
            seen.add(current)
            current = tree.get(current)
        cyclic.append(current is not None)
    log.add(np.array(cyclic), "parent_code", msg("parent_loop"))


def _check_staff(table: pa.Table, refs: References, log: ErrorLog, codes: Codes) -> None:
    _check_references(table.drop_columns(["employee_id"]), refs, log)
    if not refs.staff_logins or not table.num_rows:
        return
    from targets.org.staff_rules import staff_row_refusals

    # Only rows of records with a login can be refused, and logins are few: find them with
    # one vectorised lookup, then apply the one rule (the load applies it again) to each.
    linked = pc.is_valid(
        pc.index_in(
            table.column("employee_id"), value_set=pa.array(sorted(refs.staff_logins), pa.string())
        )
    )
    indices = np.flatnonzero(linked.to_numpy(zero_copy_only=False))
    refused: dict[tuple[str, str], np.ndarray] = {}
    for index in indices:
        row = table.slice(int(index), 1).to_pylist()[0]
        record = refs.staff_logins[row["employee_id"]]
        for column, reason in staff_row_refusals(record=record, row=row):
            key = (column, reason["code"])
            mask = refused.setdefault(key, np.zeros(table.num_rows, dtype=bool))
            mask[index] = True
    for (column, code), mask in refused.items():
        log.add(mask, column, msg(code))


def _check_holdings(
    table: pa.Table, refs: References, log: ErrorLog, codes: Codes
) -> dt.date | None:
    _check_references(table, refs, log)
    dates = pc.unique(pc.drop_null(table.column("as_of_date"))).to_pylist()
    if len(dates) > 1:
        log.add_file_error(
            msg(
                "holdings_several_dates",
                n=len(dates),
                d=", ".join(d.isoformat() for d in sorted(dates)[:5]),
            ),
            "as_of_date",
        )
        return None
    if not dates:
        return None
    as_of = dates[0]
    if as_of.day != calendar.monthrange(as_of.year, as_of.month)[1]:
        log.add_file_error(
            msg("not_month_end", d=as_of.isoformat()),
            "as_of_date",
        )
    # A client is managed by one RM in one unit: every row of a client must agree.
    clients, client_count = codes("client_id")
    for column, reason in [
        ("rm_employee_id", msg("client_several_rms")),
        ("unit_code", msg("client_several_units")),
    ]:
        values, size = codes(column)
        lowest = np.full(client_count, size, dtype=np.int64)
        highest = np.full(client_count, -1, dtype=np.int64)
        np.minimum.at(lowest, clients, values)
        np.maximum.at(highest, clients, values)
        split = lowest != highest
        log.add(split[clients], column, reason)
    return as_of


def _check_targets(table: pa.Table, refs: References, log: ErrorLog, codes: Codes) -> None:
    scope = table.column("scope")
    is_unit = pc.is_in(scope, value_set=pa.array(sorted(refs.unit_codes), pa.string()))
    is_employee = pc.is_in(scope, value_set=pa.array(sorted(refs.employee_ids), pa.string()))
    log.add(pc.and_(is_unit, is_employee), "scope", msg("scope_both"))
    log.add(
        pc.and_(pc.invert(_blank(scope)), pc.and_(pc.invert(is_unit), pc.invert(is_employee))),
        "scope",
        msg("scope_unknown"),
    )
    log.add(
        _unknown(table.column("measure"), set(MEASURE_CODES)),
        "measure",
        msg("unknown_measure_code"),
    )
    from targets.models import DistributionProfile

    profiles = set(DistributionProfile.objects.values_list("name", flat=True))
    log.add(
        _unknown(table.column("distribution"), profiles),
        "distribution",
        msg("unknown_distribution_profile"),
    )


def _check_manual_scores(table: pa.Table, refs: References, log: ErrorLog, codes: Codes) -> None:
    _check_references(table, refs, log)
    log.add(
        _unknown(table.column("measure"), set(MANUAL_MEASURE_CODES)),
        "measure",
        msg("not_manual_measure", codes=", ".join(sorted(MANUAL_MEASURE_CODES))),
    )
    score = table.column("score")
    numeric = (
        pc.cast(score, pa.decimal128(18, 2), safe=False) if score.null_count < len(score) else None
    )
    if numeric is not None:
        log.add(pc.greater(numeric, pa.scalar(100, pa.decimal128(18, 2))), "score",
                msg("score_out_of_range"))  # fmt: skip


def _check_complaints(table: pa.Table, refs: References, log: ErrorLog, codes: Codes) -> None:
    _check_references(table, refs, log)
    log.add(
        pc.less(table.column("resolved_date"), table.column("received_date")),
        "resolved_date",
        msg("resolved_before_received"),
    )


def _references_only(table: pa.Table, refs: References, log: ErrorLog, codes: Codes) -> None:
    _check_references(table, refs, log)


_KIND_CHECKS = {
    "org_units": _check_org_units,
    "staff": _check_staff,
    "holdings": _check_holdings,
    "sales": _references_only,
    "activities": _references_only,
    "surveys": _references_only,
    "complaints": _check_complaints,
    "recording_checks": _references_only,
    "targets": _check_targets,
    "manual_scores": _check_manual_scores,
}
