"""A corpus of bad files: each is refused whole, says plainly what is wrong and where, and
leaves every fact table exactly as it was (counts, sums, distinct keys and batch ids)."""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from django.core.management import call_command
from django.db.models import Count, Max, Min, Q, Sum

from crm import services
from crm.models import (
    Activity,
    BatchStatus,
    ClientAssignment,
    ClientSnapshot,
    Complaint,
    Holding,
    ImportBatch,
    Product,
    RecordingCheck,
    Sale,
    Survey,
)
from scorecards.models import ManualScore
from targets.models import AnnualTarget, Employee, OrgUnit
from tests.conftest import build_bank, shared_by_the_module
from tests.crm.test_pipeline_jobs import PRODUCTS, holdings_csv, write

SALES_HEADER = "交易流水号,交易日期,客户号,经办人工号,产品代码,金额"
HOLDINGS_HEADER = "数据日期,客户号,客户姓名,管户经理工号,管户机构号,产品类别,余额,客户风险等级"

# Good facts of every kind, loaded before each bad file: "unchanged" then compares real rows.
GOOD = [
    ("products", PRODUCTS),
    ("holdings", holdings_csv(30)),  # clients 0000000000-0000000009, month 2026-09-30
    ("sales", SALES_HEADER + ",中间业务收入\nT0001,2026-10-12,0000000001,000101,P001,100000.00,"
     "120.00\nT0002,2026-10-13,0000000099,000201,P002,2500.50,\n"),  # 0099: a sale-first client
    ("activities", "活动编号,活动日期,员工号,客户号,活动类型,评价\n"
     "A1,2026-10-01,000101,0000000001,拜访,5\nA2,2026-10-02,000102,,投教活动,\n"),
    ("surveys", "问卷编号,调查日期,客户号,员工号,推荐意愿\nS1,2026-10-05,0000000001,000101,9\n"),
    ("complaints", "投诉编号,受理日期,客户号,员工号,投诉类别,办结日期\n"
     "K1,2026-10-01,0000000001,000101,服务态度,2026-10-10\n"),
    ("recording_checks", "抽查编号,抽查日期,员工号,交易流水号,是否合规\n"
     "R1,2026-10-03,000101,T0001,是\n"),
    ("targets", "年度,考核对象,指标代码,年度目标\n2026,A,sales_attainment,30000000\n"
     "2026,000101,aum_net_growth,5000000\n"),
    ("manual_scores", "考核期,员工号,指标代码,得分\n2026-Q3,000101,collaboration,88.5\n"),
]  # fmt: skip


def fingerprint() -> dict[str, dict]:
    """Counts, sums, distinct keys and batch ids of every fact table, the org and the staff.

    Batch ids are in it because a rejected file that rewrote a row with the same values
    would leave counts and sums alone but not the batch the row points to.
    """
    batch = {"batches": Sum("batch_id"), "last_batch": Max("batch_id")}
    queries = {
        Product: {"keys": Count("product_code", distinct=True), "risk": Sum("risk_level"), **batch},
        Holding: {"money": Sum("balance"), "clients": Count("client_id", distinct=True),
                  "first": Min("as_of_date"), "last": Max("as_of_date"), **batch},
        ClientSnapshot: {"money": Sum("total_balance"), "risk": Sum("client_risk_level"),
                         "rms": Count("rm_id", distinct=True), **batch},
        ClientAssignment: {"keys": Count("client_id", distinct=True), "last": Max("valid_from"),
                           **batch},
        Sale: {"money": Sum("amount"), "fees": Sum("fee_income"),
               "keys": Count("txn_id", distinct=True), "last": Max("txn_date"), **batch},
        Activity: {"keys": Count("activity_id", distinct=True), "ratings": Sum("rating"), **batch},
        Survey: {"keys": Count("response_id", distinct=True), "nps": Sum("nps_score"), **batch},
        Complaint: {"keys": Count("complaint_id", distinct=True),
                    "resolved": Max("resolved_date"), **batch},
        RecordingCheck: {"keys": Count("check_id", distinct=True),
                         "compliant": Count("check_id", filter=Q(compliant=True)), **batch},
        AnnualTarget: {"money": Sum("annual_target"), "measures": Count("measure", distinct=True),
                       **batch},
        ManualScore: {"scores": Sum("score"), "people": Count("employee", distinct=True), **batch},
        OrgUnit: {"keys": Count("code", distinct=True), "depths": Sum("depth")},
        Employee: {"keys": Count("employee_id", distinct=True), "pay": Sum("base_performance_pay")},
    }  # fmt: skip
    prints = {
        model.__name__: model.objects.aggregate(rows=Count("*"), **aggregates)
        for model, aggregates in queries.items()
    }
    prints["loaded batches"] = ImportBatch.objects.filter(status=BatchStatus.LOADED).count()
    return prints


def load_good_facts(tmp_path: Path) -> dict[str, dict]:
    build_bank()
    for kind, text in GOOD:
        batch = services.import_file(path=write(tmp_path / f"{kind}.csv", text), kind=kind)
        assert batch.status == BatchStatus.LOADED, (kind, batch.message, batch.errors)
    before = fingerprint()
    assert all(counts["rows"] > 0 for name, counts in before.items() if name != "loaded batches")
    assert before["Holding"]["rows"] == 30 and before["ClientAssignment"]["rows"] == 1
    return before


# Loaded once for the module (~1 s a test otherwise); each test's writes roll back to it.
good_facts = shared_by_the_module(load_good_facts)


@pytest.fixture
def loaded(good_facts: dict[str, dict], db) -> dict[str, dict]:
    """Every test here reads the good facts: one that did not would see them anyway."""
    return good_facts


# ---------------------------------------------------------------- building bad files
def text_file(header: str, *rows: str, encoding: str = "gb18030") -> bytes:
    return "\n".join([header, *rows, ""]).encode(encoding)


def sales(*rows: str) -> bytes:
    return text_file(SALES_HEADER, *rows)


def sale(txn: str = "T0005", day: str = "2026-10-20", rm: str = "000101", product: str = "P001",
         amount: str = "10.00") -> str:  # fmt: skip
    return f"{txn},{day},0000000005,{rm},{product},{amount}"


# T0001 is already loaded with 100000.00: were a bad file's good rows applied, it would change.
CORRECTION = sale("T0001", amount="1.00")


def holdings(*rows: str) -> bytes:
    return text_file(HOLDINGS_HEADER, *rows)


def holding(client: str = "0000000001", *, as_of: str = "2026-09-30", name: str = "客户",
            unit: str = "A1", category: str = "存款", balance: str = "1.00",
            risk: str = "C2") -> str:  # fmt: skip
    # The loaded month again: a rejected file must not have replaced (or emptied) it.
    return f"{as_of},{client},{name},000101,{unit},{category},{balance},{risk}"


def with_channel(rows: int, encoding: str) -> bytes:
    lines = [f"T{n:04d},2026-10-0{n},000000000{n},000101,P001,1,柜面" for n in range(1, rows + 1)]
    return "\n".join([SALES_HEADER + ",渠道", *lines]).encode(encoding)


def mixed_encoding() -> bytes:
    """Header and rows 2-4 from a UTF-8 export, rows 5-7 pasted in from a GB18030 one."""
    lines = with_channel(6, "utf-8").decode("utf-8").split("\n")
    return ("\n".join(lines[:4]) + "\n").encode("utf-8") + "\n".join(lines[4:]).encode("gb18030")


def english_sales(channel_bytes: bytes) -> bytes:
    header = b"txn_id,txn_date,client_id,rm_employee_id,product_code,amount,channel\n"
    return header + b"T0005,2026-10-20,0000000005,000101,P001,1," + channel_bytes + b"\n"


def workbook(*rows: list, title: bool = False, formula: bool = False) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    top = 2 if title else 0  # a title in row 1 and a blank row 2, as report exports have
    if title:
        sheet.write(0, 0, "2026年10月交易明细")
    sheet.write_row(top, 0, SALES_HEADER.split(","))
    for offset, row in enumerate(rows, start=1):
        sheet.write_row(top + offset, 0, row)
    if formula:
        sheet.write_formula(top + len(rows), 5, "=F2*2", None, 20)
    book.close()
    return buffer.getvalue()


XLSX_ROW = ["T0005", "2026-10-20", "0000000005", "000101", "P001", 10]
SHEET = "xl/worksheets/sheet1.xml"


def rezip(data: bytes, change: Callable[[bytes], bytes], claim: int | None = None) -> bytes:
    """The workbook with its sheet XML changed; `claim`: the size its zip entry declares."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            target.writestr(info.filename, change(body) if info.filename == SHEET else body)
        if claim is not None:
            # The central directory is written on close from these records: a lie in it is
            # what a reader trusts when it allocates before inflating.
            target.getinfo(SHEET).file_size = claim
    return out.getvalue()


def declared_in_32_bits(data: bytes, size: int = 0xFFFF_FF00) -> bytes:
    """The workbook with its sheet's size in the zip directory's own 32-bit field patched to
    ~4 GB (`rezip` asks zipfile, which writes a size over 2 GB as a zip64 record instead)."""
    patched = bytearray(data)
    entry = patched.find(b"PK\x01\x02")  # central directory entries
    while entry != -1:
        name_length = struct.unpack_from("<H", patched, entry + 28)[0]
        if bytes(patched[entry + 46 : entry + 46 + name_length]) == SHEET.encode():
            struct.pack_into("<I", patched, entry + 24, size)  # uncompressed size
        entry = patched.find(b"PK\x01\x02", entry + 4)
    return bytes(patched)


def prefixed(sheet_xml: bytes) -> bytes:
    """The same sheet with the main namespace spelled x: (<x:c>, <x:f>), as some writers do."""
    sheet_xml = sheet_xml.replace(b'xmlns="http://schemas', b'xmlns:x="http://schemas', 1)
    return re.sub(rb"<(/?)([A-Za-z]\w*)", rb"<\1x:\2", sheet_xml)


def every_cell(sheet_xml: bytes) -> bytes:
    return re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', sheet_xml)


def padded(sheet_xml: bytes) -> bytes:
    # 20 MB of whitespace deflates to ~20 KB: an honest declaration, but a bomb's ratio.
    return sheet_xml.replace(b"<sheetData>", b"<sheetData>" + b" " * (20 * 1024 * 1024))


@dataclass
class Bad:
    id: str
    kind: str
    data: Callable[[], bytes]
    reason: str  # in the message or in an error's reason, in English
    row: int | None = None  # the row the file shows, when the problem sits in one row
    column: str | None = None  # as the file names it
    count: int = 1  # every error counted: no noise beside the planted problem
    suffix: str = ".csv"
    message: str = ""  # in the batch's message as well


CORPUS = [
    # Encodings
    Bad("latin-1", "sales", lambda: sales(CORRECTION) + b"T0005,2026-10-20,Caf\xe9,000101,P001,1\n",
        "undecodable bytes", 3, message="undecodable bytes in row 3"),
    Bad("shift-jis", "sales", lambda: english_sales("ｶｳﾝﾀｰ".encode("shift_jis")),
        "undecodable bytes", 2),
    Bad("utf-16-with-bom", "sales", lambda: sales(CORRECTION).decode("gb18030").encode("utf-16"),
        "UTF-16"),
    Bad("utf-16-be-without-bom", "sales",
        lambda: sales(CORRECTION).decode("gb18030").encode("utf-16-be"), "UTF-16"),
    Bad("mixed-utf8-then-gb18030", "sales", mixed_encoding,
        "Mixed encodings: row 1 is UTF-8 but row 5 is not"),
    Bad("mixed-after-utf8-bom", "sales", lambda: b"\xef\xbb\xbf" + mixed_encoding(),
        "reads as UTF-8 until row 5"),
    # Nothing to load
    Bad("empty", "sales", lambda: b"", "The file is empty"),
    Bad("utf8-bom-only", "sales", lambda: b"\xef\xbb\xbf", "The file is empty"),
    Bad("header-only", "sales", lambda: sales(), "header row but no data rows"),
    Bad("header-and-blank-lines", "sales", lambda: sales() + b"\r\n\r\n", "no data rows"),
    Bad("blank-lines-only", "sales", lambda: b"\r\n\r\n  \r\n", "The file is empty"),
    # Columns and rows
    Bad("missing-required-column", "sales",
        lambda: text_file(SALES_HEADER.removesuffix(",金额"), CORRECTION.rsplit(",", 1)[0]),
        "required column missing", 1, "amount",
        message="Missing required column(s) for sales: amount (金额)."),
    Bad("two-columns-one-meaning", "sales",
        lambda: text_file(SALES_HEADER + ",amount", CORRECTION + ",1.00"), "both mean amount"),
    Bad("truncated-last-row", "sales", lambda: sales(CORRECTION, sale(), "T0006,2026-10-2"),
        "row has 2 fields, the header has 6", 4),
    Bad("cut-inside-a-character", "sales", lambda: with_channel(3, "utf-8")[:-1], "cut short", 4),
    Bad("short-row-then-bad-amount", "sales",
        lambda: sales(CORRECTION, "T0006,2026", sale("T0007"), sale("T0008", amount="x")),
        "not a number", 5, "金额", count=2),
    Bad("quoted-newline-then-bad-amount", "sales",
        lambda: text_file(SALES_HEADER + ",渠道", CORRECTION + ',"柜面\n二楼"', sale() + ",",
                          sale("T0006", amount="x") + ","),
        "not a number", 4, "金额"),  # Excel shows the record with the line break as one row
    Bad("duplicate-txn-id", "sales", lambda: sales(sale("T0005"), CORRECTION, sale("T0005")),
        "duplicate txn_id within the file", 2, "交易流水号", count=2),
    Bad("non-numeric-amount", "sales", lambda: sales(CORRECTION, sale(amount="12O.00")),
        "not a number", 3, "金额"),
    Bad("three-decimals", "sales", lambda: sales(sale(amount="1.999"), CORRECTION),
        "more than 2 decimal places", 2, "金额"),
    Bad("future-date", "sales", lambda: sales(CORRECTION, sale(day="2099-01-02")),
        "date is in the future", 3, "交易日期"),
    Bad("impossible-date", "sales", lambda: sales(CORRECTION, sale(day="2026-02-30")),
        "not a date", 3, "交易日期"),
    Bad("unknown-rm", "sales", lambda: sales(CORRECTION, sale(rm="999999")),
        "unknown employee ID", 3, "经办人工号"),
    Bad("unknown-product", "sales", lambda: sales(CORRECTION, sale(product="P404")),
        "unknown product code", 3, "产品代码"),
    Bad("negative-balance", "holdings", lambda: holdings(holding(), holding("2", balance="-5.00")),
        "negative amount", 3, "余额"),
    Bad("two-as-of-dates", "holdings",
        lambda: holdings(holding(), holding("2", as_of="2026-08-31")),
        "holds 2 as-of dates: 2026-08-31, 2026-09-30", None, "数据日期"),
    Bad("not-a-month-end", "holdings", lambda: holdings(holding(as_of="2026-09-29")),
        "The as-of date 2026-09-29 is not a month-end", None, "数据日期"),
    Bad("future-month-end", "holdings", lambda: holdings(holding(as_of="2099-12-31")),
        "date is in the future", 2, "数据日期"),
    Bad("unknown-unit", "holdings", lambda: holdings(holding(), holding("2", unit="Z9")),
        "unknown unit code", 3, "管户机构号"),
    Bad("client-under-two-rms", "holdings",  # and so under two units: 2 rows × 2 errors
        lambda: holdings(holding(), holding(category="理财").replace(",000101,A1,", ",000102,A2,")),
        "client has rows under several RMs", 2, "管户经理工号", count=4),
    Bad("client-risk-c9", "holdings", lambda: holdings(holding(risk="C9")),
        "not one of: C1, C2, C3, C4, C5", 2, "客户风险等级"),
    Bad("category-gold", "holdings", lambda: holdings(holding(category="黄金")),
        "not one of: deposit, wealth, fund", 2, "产品类别"),
    Bad("200k-character-field", "holdings", lambda: holdings(holding(name="长" * 200_000)),
        "longer than 100 characters", 2, "客户姓名"),
    Bad("product-risk-r9", "products",
        lambda: text_file("产品代码,产品名称,产品类别,风险等级", "P001,改名,理财,R2",
                          "P009,新品,基金,R9"),
        "not one of: R1, R2, R3, R4, R5", 3, "风险等级"),
    Bad("activity-rating-7", "activities",
        lambda: text_file("活动编号,活动日期,员工号,活动类型,评价", "A1,2026-10-01,000101,拜访,7"),
        "must be between 1 and 5", 2, "评价"),
    Bad("survey-nps-11", "surveys",
        lambda: text_file("问卷编号,调查日期,客户号,员工号,推荐意愿",
                          "S1,2026-10-05,0000000001,000101,11"),
        "must be between 0 and 10", 2, "推荐意愿"),
    Bad("complaint-resolved-first", "complaints",
        lambda: text_file("投诉编号,受理日期,客户号,员工号,投诉类别,办结日期",
                          "K1,2026-10-10,0000000001,000101,服务态度,2026-10-01"),
        "resolved before it was received", 2, "办结日期"),
    Bad("recording-check-maybe", "recording_checks",
        lambda: text_file("抽查编号,抽查日期,员工号,是否合规", "R1,2026-10-03,000101,也许"),
        "not one of: Y, YES, 是, N, NO, 否", 2, "是否合规"),
    Bad("target-unknown-measure", "targets",
        lambda: text_file("年度,考核对象,指标代码,年度目标", "2026,A,sales_attainment,1",
                          "2026,A,no_such_measure,1"),
        "unknown measure code", 3, "指标代码"),
    Bad("manual-score-101", "manual_scores",
        lambda: text_file("考核期,员工号,指标代码,得分", "2026-Q3,000101,collaboration,101"),
        "must be between 0 and 100", 2, "得分"),
    # Not a CSV at all
    Bad("binary-garbage", "sales", lambda: random.Random(1024).randbytes(64 * 1024), "not text"),
    Bad("old-xls-named-csv", "sales", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),
        "old .xls workbook"),
    # Workbooks
    Bad("xlsx-sheet-row-numbers", "sales",
        lambda: workbook(XLSX_ROW, ["T0006", *XLSX_ROW[1:5], "12O.00"], title=True),
        "not a number", 5, "金额", suffix=".xlsx"),  # title row 1, blank row 2, header row 3
    Bad("xlsx-formula", "sales", lambda: workbook(XLSX_ROW, formula=True), "contains formulas",
        suffix=".xlsx"),
    Bad("xlsx-formula-x-prefixed", "sales",
        lambda: rezip(workbook(XLSX_ROW, formula=True), prefixed), "contains formulas",
        suffix=".xlsx"),
    Bad("xlsx-declares-every-cell", "sales", lambda: rezip(workbook(XLSX_ROW), every_cell),
        "1048576 rows × 16384 columns", suffix=".xlsx"),
    Bad("xlsx-every-cell-x-prefixed", "sales",
        lambda: rezip(workbook(XLSX_ROW), lambda xml: prefixed(every_cell(xml))),
        "1048576 rows × 16384 columns", suffix=".xlsx"),
    Bad("xlsx-entry-claims-3gb", "sales",
        lambda: rezip(workbook(XLSX_ROW), lambda xml: xml, claim=3 * 1024**3),
        "declares 3072 MB of content; refused as unsafe", suffix=".xlsx"),
    Bad("xlsx-entry-claims-4gb-in-32-bits", "sales",
        lambda: declared_in_32_bits(workbook(XLSX_ROW)),
        "declares 4096 MB of content; refused as unsafe", suffix=".xlsx"),
    Bad("xlsx-deflate-bomb", "sales", lambda: rezip(workbook(XLSX_ROW), padded),
        "declares 20 MB of content; refused as unsafe", suffix=".xlsx"),
    Bad("xlsx-not-a-zip", "sales", lambda: b"PK\x03\x04" + random.Random(7).randbytes(2048),
        "not a valid .xlsx workbook", suffix=".xlsx"),
]  # fmt: skip


def import_bad(tmp_path: Path, kind: str, data: bytes, suffix: str = ".csv") -> ImportBatch:
    path = tmp_path / f"{kind}_bad{suffix}"
    path.write_bytes(data)
    batch = services.import_file(path=path, kind=kind, actor_label="test")
    # Whatever the status says, no batch of this file may have ended loaded.
    sha = hashlib.sha256(data).hexdigest()
    assert not ImportBatch.objects.filter(sha256=sha, status=BatchStatus.LOADED).exists()
    return batch


@pytest.mark.parametrize("bad", CORPUS, ids=lambda bad: bad.id)
def test_a_bad_file_is_refused_whole_and_says_what_is_wrong_and_where(
    loaded: dict, tmp_path: Path, bad: Bad
) -> None:
    batch = import_bad(tmp_path, bad.kind, bad.data(), bad.suffix)

    assert batch.status == BatchStatus.REJECTED, (batch.message, batch.errors)
    assert batch.rows_loaded == 0 and batch.message
    assert batch.error_count == bad.count, batch.errors
    assert len(batch.errors) == min(batch.error_count, 1000)
    assert all(set(error) == {"row", "column", "value", "reason"} for error in batch.errors)
    said = [batch.message] + [error["reason"] for error in batch.errors]
    assert any(bad.reason in text for text in said), said
    assert bad.message in batch.message
    named = [e for e in batch.errors if bad.reason in e["reason"]]
    if bad.row is not None or bad.column is not None:
        assert named, batch.errors
        assert (named[0]["row"], named[0]["column"]) == (bad.row, bad.column), batch.errors
    assert fingerprint() == loaded


def test_a_200k_character_value_is_reported_cut_short(loaded: dict, tmp_path: Path) -> None:
    batch = import_bad(tmp_path, "holdings", holdings(holding(name="长" * 200_000)))
    [error] = batch.errors
    # The report shows what the cell began with and how long it was, not 200,000 characters;
    # a client's name masked as the pages mask it (PIPL).
    assert error["value"] == "长" + "*" * 119 + "… (200000 characters)"


def test_many_bad_rows_list_the_first_thousand_in_file_order_and_count_all(
    loaded: dict, tmp_path: Path
) -> None:
    # Rows alternate between two problems in two columns: the list merges them by row.
    rows = [sale(f"T{n:05d}", **({"amount": "abc"} if n % 2 else {"rm": "999999"}))
            for n in range(1500)]  # fmt: skip
    batch = import_bad(tmp_path, "sales", sales(*rows))

    assert batch.status == BatchStatus.REJECTED
    assert batch.error_count == 1500 and len(batch.errors) == 1000
    assert [e["row"] for e in batch.errors] == list(range(2, 1002))
    assert batch.errors[0] == {"row": 2, "column": "经办人工号", "value": "999999",
                               "reason": "unknown employee ID"}  # fmt: skip
    assert batch.errors[1] == {"row": 3, "column": "金额", "value": "abc", "reason": "not a number"}
    assert {(e["column"], e["value"], e["reason"]) for e in batch.errors} == {
        ("经办人工号", "999999", "unknown employee ID"), ("金额", "abc", "not a number")
    }  # fmt: skip
    assert "1500 error(s); nothing was loaded" in batch.message
    assert fingerprint() == loaded

    report = services.write_error_report(batch, tmp_path / "errors.csv")
    assert report.read_bytes().startswith(b"\xef\xbb\xbf")  # so that Excel reads UTF-8
    lines = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert lines[0] == ["行号 row", "列 column", "值 value", "原因 reason"]
    assert lines[1:3] == [["2", "经办人工号", "999999", "unknown employee ID"],
                          ["3", "金额", "abc", "not a number"]]  # fmt: skip
    assert len(lines) == 1 + 1000 + 1 and lines[-1] == ["", "", "", "… 500 more"]


def test_the_error_report_of_a_file_level_rejection_says_why(loaded: dict, tmp_path: Path) -> None:
    batch = import_bad(tmp_path, "sales", mixed_encoding())
    report = services.write_error_report(batch, tmp_path / "errors.csv")
    lines = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert len(lines) == 2 and lines[1][:3] == ["", "", ""]
    assert lines[1][3].startswith("Mixed encodings: row 1 is UTF-8 but row 5 is not.")


def test_the_error_report_does_not_hand_excel_a_formula(loaded: dict, tmp_path: Path) -> None:
    batch = import_bad(tmp_path, "sales", sales(sale(product="=1+2")))
    assert batch.errors[0]["value"] == "=1+2"  # the batch keeps the value as the file had it
    report = services.write_error_report(batch, tmp_path / "errors.csv")
    [_header, row] = csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig")))
    assert not row[2].startswith(("=", "+", "-", "@"))
    assert row[2] == "'=1+2"  # shown as the file had it, never evaluated


def test_import_crm_exits_1_and_prints_every_error_on_stderr(loaded: dict, tmp_path: Path) -> None:
    bad = tmp_path / "sales_bad.csv"
    bad.write_bytes(sales(CORRECTION, sale(amount="1.999"), sale("T0006", rm="999999"),
                          sale("T0007", day="2026-02-30")))  # fmt: skip
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_crm", "--kind", "sales", str(bad), stdout=io.StringIO(), stderr=err)
    assert exit_.value.code == 1
    assert err.getvalue().splitlines() == [
        "sales_bad.csv: rejected, 3 error(s); nothing was loaded.",
        "  row 3, column 金额, value '1.999': more than 2 decimal places",
        "  row 4, column 经办人工号, value '999999': unknown employee ID",
        "  row 5, column 交易日期, value '2026-02-30': "
        "not a date (use 2026-10-31, 2026/10/31, 20261031 or 2026年10月31日)",
    ]
    assert fingerprint() == loaded


def test_import_crm_prints_a_file_level_reason_too(loaded: dict, tmp_path: Path) -> None:
    empty = tmp_path / "sales_empty.csv"
    empty.write_bytes(b"\xef\xbb\xbf")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_crm", "--kind", "sales", str(empty), stdout=io.StringIO(), stderr=err)
    assert exit_.value.code == 1
    assert err.getvalue().splitlines() == [
        "sales_empty.csv: rejected, 1 error(s); nothing was loaded.",
        "  file: The file is empty.",
    ]
    assert fingerprint() == loaded


def test_a_dry_run_writes_nothing_even_for_a_good_file(loaded: dict, tmp_path: Path) -> None:
    path = tmp_path / "sales_good.csv"
    path.write_bytes(sales(sale("T77", amount="99.00")))
    call_command("import_crm", "--kind", "sales", "--dry-run", str(path))
    assert fingerprint() == loaded
    assert not Sale.objects.filter(txn_id="T77").exists()
    assert Sale.objects.aggregate(s=Sum("amount"))["s"] == Decimal("102500.50")
