"""Bank files as they come (issue 15 item 5): each variant against its clean twin.

A variant a clerk expects to work (年月日 and midnight dates, full-width digits, ￥ and 元,
tab or pipe delimiters, title lines, trailing `,,,,` rows, an XLSX with date cells and text
IDs) loads exactly the facts its clean twin loads: the clean file is loaded in a savepoint
that is rolled back, the variant into the state that is left, and the fact tables compared.
A variant that must be refused (an ID the spreadsheet turned into a number, a date with a
time of day) names row, column, value, reason and the fix, and changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import transaction
from openpyxl import Workbook

from crm import services
from crm.kinds import KINDS
from crm.models import BatchStatus, ImportBatch
from tests.crm.test_import_kinds import TABLES, as_date, exact, fingerprint

ENCODINGS = ["utf-8", "gb18030"]
Cell = str | int | float | dt.datetime | None
Rows = list[list[Cell]]


# ---------------------------------------------------------------- the clean files
def clean_rows(kind: str) -> tuple[list[str], list[str], Rows]:
    """(Chinese headers, column types, rows) of the kind's table, dates written ISO."""
    columns = KINDS[kind].columns
    rows = [
        [
            as_date(v).isoformat() if c.type == "date" and v else v
            for c, v in zip(columns, row, strict=True)
        ]
        for row in TABLES[kind].rows
    ]
    return [c.aliases[0] for c in columns], [c.type for c in columns], rows


def csv_bytes(rows: Rows, encoding: str, delimiter: str = ",", before: str = "") -> bytes:
    buffer = io.StringIO()
    buffer.write(before)
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: Rows, title_rows: Rows = ()) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in [*title_rows, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def cells(types: list[str], rows: Rows, change: Callable[[str, str], Cell]) -> Rows:
    """Each non-empty cell passed through change(column type, value)."""
    return [[change(t, v) if v else v for t, v in zip(types, row, strict=True)] for row in rows]


# ---------------------------------------------------------------- how banks write them
FULL_WIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}


def full_width(kind: str, value: str) -> str:
    return value.translate(FULL_WIDTH) if kind in {"id", "date", "amount"} else value


def chinese_date(kind: str, value: str) -> str:
    if kind != "date":
        return value
    day = dt.date.fromisoformat(value)
    return f"{day.year}年{day.month}月{day.day}日"


def midnight(kind: str, value: str) -> str:
    return f"{value} 00:00:00" if kind == "date" else value


def yuan(kind: str, value: str) -> str:
    # ￥ before, 元 after, spaces inside: three spellings of the same amount.
    return {0: f"￥{value}", 1: f"¥ {value}", 2: f"{value.replace(',', ' ')} 元"}[
        len(value) % 3
    ] if kind == "amount" else value  # fmt: skip


def typed_cells(kind: str, value: str) -> Cell:
    """As an XLSX saved from a sheet: dates as midnight date cells, amounts as numbers."""
    if kind == "date":
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(0))
    if kind == "amount":
        return float(value.replace(",", ""))
    return value


TITLE = "财富管理系统 交易明细, 2026年10月\r\n导出人：系统,,,,\r\n\r\n"


def csv_variants(kind: str, encoding: str) -> dict[str, bytes]:
    headers, types, rows = clean_rows(kind)
    return {
        "chinese-dates": csv_bytes([headers, *cells(types, rows, chinese_date)], encoding),
        "midnight-timestamps": csv_bytes([headers, *cells(types, rows, midnight)], encoding),
        "full-width": csv_bytes([headers, *cells(types, rows, full_width)], encoding),
        "yuan": csv_bytes([headers, *cells(types, rows, yuan)], encoding),
        "tab": csv_bytes([headers, *rows], encoding, "\t"),
        "pipe": csv_bytes([headers, *rows], encoding, "|"),
        "title-lines": csv_bytes([headers, *rows], encoding, before=TITLE),
        "trailing-separators": csv_bytes([headers, *rows], encoding)
        + ("," * (len(headers) - 1) + "\r\n").encode() * 3
        + b'"","",\r\n  \r\n',
        "all-at-once": csv_bytes(
            [headers, *cells(types, cells(types, rows, chinese_date), full_width)],
            encoding,
            "|",
            before=TITLE,
        )
        + ("|" * (len(headers) - 1) + "\r\n").encode() * 2,
    }


def xlsx_variants(kind: str) -> dict[str, bytes]:
    headers, types, rows = clean_rows(kind)
    blank = [""] * len(headers)
    return {
        "typed-cells": xlsx_bytes(
            [headers, *cells(types, rows, typed_cells), blank, [" "] * len(headers)],
            title_rows=[["交易明细"], []],
        ),
        "text-as-clerks-type-it": xlsx_bytes(
            [headers, *cells(types, cells(types, rows, chinese_date), yuan)]
        ),
        "full-width": xlsx_bytes([headers, *cells(types, rows, full_width)]),
    }


# ---------------------------------------------------------------- loading and comparing
def load(tmp_path: Path, name: str, data: bytes, kind: str) -> ImportBatch:
    path = tmp_path / name
    path.write_bytes(data)
    return services.import_file(path=path, kind=kind, actor_label="test")


def facts(kind: str) -> tuple[list[tuple], dict]:
    """The kind's loaded rows, sorted, and counts and sums of every fact table."""
    return exact(TABLES[kind].stored()), fingerprint()


def clean_file(kind: str, file_format: str) -> tuple[str, bytes]:
    headers, _types, rows = clean_rows(kind)
    if file_format == "xlsx":
        return f"{kind}-clean.xlsx", xlsx_bytes([headers, *rows])
    return f"{kind}-clean.csv", csv_bytes([headers, *rows], file_format)


def assert_same_facts_as_clean_twin(
    tmp_path: Path, kind: str, file_format: str, name: str, variant: bytes
) -> None:
    for needed in TABLES[kind].needs:
        needed_name, needed_data = clean_file(needed, "utf-8")
        assert load(tmp_path, needed_name, needed_data, needed).status == BatchStatus.LOADED
    empty = facts(kind)
    with transaction.atomic():
        clean = load(tmp_path, *clean_file(kind, file_format), kind)
        assert clean.status == BatchStatus.LOADED, (clean.message, clean.errors)
        twin = facts(kind)
        transaction.set_rollback(True)  # the variant is loaded into a fresh state
    assert facts(kind) == empty and twin != empty

    batch = load(tmp_path, name, variant, kind)

    assert batch.status == BatchStatus.LOADED, (batch.message, batch.errors)
    assert batch.rows_loaded == len(TABLES[kind].rows)
    assert facts(kind) == twin


VARIANT_KINDS = ["sales", "holdings", "staff"]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("variant", list(csv_variants("sales", "utf-8")))
@pytest.mark.parametrize("kind", VARIANT_KINDS)
def test_a_csv_as_banks_write_it_loads_the_facts_of_its_clean_twin(
    bank, tmp_path: Path, kind: str, variant: str, encoding: str
) -> None:
    data = csv_variants(kind, encoding)[variant]
    assert_same_facts_as_clean_twin(tmp_path, kind, encoding, f"{kind}-{variant}.csv", data)


@pytest.mark.parametrize("variant", list(xlsx_variants("sales")))
@pytest.mark.parametrize("kind", VARIANT_KINDS)
def test_an_xlsx_as_banks_write_it_loads_the_facts_of_its_clean_twin(
    bank, tmp_path: Path, kind: str, variant: str
) -> None:
    data = xlsx_variants(kind)[variant]
    assert_same_facts_as_clean_twin(tmp_path, kind, "xlsx", f"{kind}-{variant}.xlsx", data)


def test_the_variants_really_differ_from_the_clean_file() -> None:
    """Guard against a variant helper that silently writes the clean file."""
    _name, clean = clean_file("sales", "utf-8")
    for name, data in csv_variants("sales", "utf-8").items():
        assert data != clean, name
    text = csv_variants("sales", "utf-8")["all-at-once"].decode()
    assert "２０２６年１０月１２日" in text and "|" in text and text.startswith("财富管理系统")


# ---------------------------------------------------------------- refused, and why
def refused(tmp_path: Path, name: str, data: bytes, kind: str) -> list[dict]:
    before = facts(kind)
    batch = load(tmp_path, name, data, kind)
    assert batch.status == BatchStatus.REJECTED, (batch.status, batch.message)
    assert facts(kind) == before  # all or nothing
    return batch.errors


def sales_with(change: Callable[[int, str, str], Cell]) -> Rows:
    """The clean sales rows, cell by cell through change(row index, column name, value)."""
    headers, _types, rows = clean_rows("sales")
    names = [c.name for c in KINDS["sales"].columns]
    return [headers] + [
        [change(r, n, v) for n, v in zip(names, row, strict=True)] for r, row in enumerate(rows)
    ]  # fmt: skip


@pytest.fixture
def sales_bank(bank, tmp_path: Path):
    """Products and a month of holdings (clients 0000000001 and 0000000002) loaded."""
    for kind in ("products", "holdings"):
        name, data = clean_file(kind, "utf-8")
        assert load(tmp_path, name, data, kind).status == BatchStatus.LOADED
    return bank


def test_an_employee_id_typed_as_a_number_is_refused_with_the_padded_id_suggested(
    sales_bank, tmp_path: Path
) -> None:
    # LibreOffice saved 经办人工号 000101 as the number 101 in the second data row.
    rows = sales_with(lambda r, n, v: 101 if (r, n) == (1, "rm_employee_id") else v)
    errors = refused(tmp_path, "sales-numbers.xlsx", xlsx_bytes(rows), "sales")
    # One error for the cell, the one with the fix: not also "unknown employee ID".
    [error] = [e for e in errors if (e["row"], e["column"]) == (3, "经办人工号")]
    assert error["value"] == "101" and "leading zeros" in error["reason"]
    assert "Format the column as text" in error["fix"] and "Did you mean 000101?" in error["fix"]

    # The fix reaches every place the errors are read: the API, and the CSV report.
    batch = ImportBatch.objects.get(file_name="sales-numbers.xlsx")
    body = (
        sales_bank.client("admin")
        .get(f"/api/v1/imports/{batch.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        .json()
    )
    [listed] = [e for e in body["errors"] if e["fix"]]
    assert listed["fix"] == error["fix"] and listed["reason"] == error["reason"]
    report = services.write_error_report(batch, tmp_path / "errors.csv").read_text("utf-8-sig")
    assert "Did you mean 000101?" in report


def test_a_client_number_typed_as_a_number_is_refused_never_silently_loaded(
    sales_bank, tmp_path: Path
) -> None:
    """It matches no client, so its sales would count for no one: refused, with the client
    number that exists suggested; a number with no padded twin still gets the fix."""
    client = {0: 1, 1: 9}
    rows = sales_with(lambda r, n, v: client.get(r, v) if n == "client_id" else v)
    errors = refused(tmp_path, "sales-clients.xlsx", xlsx_bytes(rows), "sales")
    found = {e["row"]: e for e in errors if e["column"] == "客户号"}
    assert set(found) == {2, 3}
    assert found[2]["value"] == "1" and "Did you mean 0000000001?" in found[2]["fix"]
    assert found[3]["value"] == "9" and "Did you mean" not in found[3]["fix"]
    assert all("Format the column as text" in e["fix"] for e in found.values())


def test_every_id_column_typed_as_numbers_is_refused_and_text_digits_are_not(
    sales_bank, tmp_path: Path
) -> None:
    rows = sales_with(lambda r, n, v: (r + 1) * 1000 if n == "txn_id" else v)
    errors = refused(tmp_path, "sales-txn.xlsx", xlsx_bytes(rows), "sales")
    assert [(e["row"], e["column"], e["value"]) for e in errors] == [
        (2, "交易流水号", "1000"), (3, "交易流水号", "2000"), (4, "交易流水号", "3000")
    ]  # fmt: skip
    assert all("Format the column as text" in e["fix"] for e in errors)

    # The same digits as text cells are IDs like any other.
    text = sales_with(lambda r, n, v: str((r + 1) * 1000) if n == "txn_id" else v)
    batch = load(tmp_path, "sales-txn-text.xlsx", xlsx_bytes(text), "sales")
    assert batch.status == BatchStatus.LOADED, batch.errors


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_date_with_a_time_of_day_is_refused_naming_the_row_below_the_title_lines(
    sales_bank, tmp_path: Path, encoding: str
) -> None:
    rows = sales_with(
        lambda r, n, v: f"{v} 14:30:00" if (r, n) == (1, "txn_date") else v
    )  # fmt: skip
    data = csv_bytes(rows, encoding, "\t", before=TITLE)
    [error] = refused(tmp_path, "sales-times.csv", data, "sales")
    # Rows as the file shows them: three title lines, the header on row 4.
    assert error["row"] == 6 and error["column"] == "交易日期"
    assert error["value"] == "2026-10-13 14:30:00"
    assert "time of day" in error["reason"] and "without the time" in error["fix"]


def test_an_xlsx_date_cell_with_a_time_of_day_is_refused(sales_bank, tmp_path: Path) -> None:
    at = dt.datetime(2026, 10, 13, 9, 15)
    rows = sales_with(lambda r, n, v: at if (r, n) == (1, "txn_date") else v)
    [error] = refused(tmp_path, "sales-time-cell.xlsx", xlsx_bytes(rows), "sales")
    assert (error["row"], error["column"]) == (3, "交易日期")
    assert "time of day" in error["reason"] and error["fix"]


def test_an_amount_with_a_currency_sign_inside_is_still_not_a_number(
    sales_bank, tmp_path: Path
) -> None:
    rows = sales_with(lambda r, n, v: "1￥00" if (r, n) == (0, "amount") else v)
    [error] = refused(tmp_path, "sales-bad-amount.csv", csv_bytes(rows, "utf-8"), "sales")
    assert (error["row"], error["column"], error["value"]) == (2, "金额", "1￥00")
    assert error["reason"] == "not a number"
