"""Bad files are refused whole, with a message that says what is wrong and where, and the
database is exactly as it was: counts and sums of every fact table compared before/after."""

from __future__ import annotations

import csv
import io
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from django.core.management import call_command
from django.db.models import Count, Sum

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
from tests.crm_before.test_pipeline_jobs import PRODUCTS, SALES, holdings_csv, write

SALES_HEADER = "交易流水号,交易日期,客户号,经办人工号,产品代码,金额"
HOLDINGS_HEADER = "数据日期,客户号,客户姓名,管户经理工号,管户机构号,产品类别,余额,客户风险等级"


def sales(*rows: str, header: str = SALES_HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("gb18030")


def holdings(*rows: str) -> bytes:
    return ("\n".join([HOLDINGS_HEADER, *rows]) + "\n").encode("gb18030")


def good_sale(txn: str = "T5", amount: str = "10.00", day: str = "2026-10-20") -> str:
    return f"{txn},{day},0000000005,000101,P001,{amount}"


def good_holding(client: str = "0000000007", balance: str = "10.00", as_of: str = "2026-10-31"):
    return f"{as_of},{client},客户,000101,A1,存款,{balance},C2"


def mixed_encoding() -> bytes:
    """Rows 2-4 from a UTF-8 export, rows 5-7 pasted in from a GB18030 one."""
    rows = [f"T{n},2026-10-0{n},000000000{n},000101,P001,1,柜面" for n in range(1, 7)]
    head = "\n".join([SALES_HEADER + ",渠道", *rows[:3]]) + "\n"
    return head.encode("utf-8") + ("\n".join(rows[3:]) + "\n").encode("gb18030")


def workbook(rows: list[list], formula: bool = False) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, SALES_HEADER.split(","))
    for r, row in enumerate(rows, start=1):
        sheet.write_row(r, 0, row)
    if formula:
        sheet.write_formula(len(rows), 5, "=F2*2", None, 20)
    book.close()
    return buffer.getvalue()


def declared_huge() -> bytes:
    """A real workbook whose zip directory claims its sheet unpacks to ~4 GB."""
    data = bytearray(workbook([["T1", "2026-10-01", "0000000001", "000101", "P001", 1]]))
    entry = data.find(b"PK\x01\x02")  # central directory entries
    while entry != -1:
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        name = bytes(data[entry + 46 : entry + 46 + name_length])
        if name == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, entry + 24, 0xFFFFFF00)  # uncompressed size
        entry = data.find(b"PK\x01\x02", entry + 4)
    return bytes(data)


def dimension_huge() -> bytes:
    """A workbook whose sheet declares every cell Excel allows: 1,048,576 × 16,384."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(workbook([["T1", "2026-10-01", "0", "000101", "P001", 1]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(
                    b'<dimension ref="A1:F2"/>', b'<dimension ref="A1:XFD1048576"/>'
                )
            target.writestr(info.filename, body)
    return out.getvalue()


@dataclass
class Bad:
    id: str
    kind: str
    data: Callable[[], bytes]
    reason: str  # a fragment of the message or of one row error, in English
    row: int | None = None  # the row the file shows, when the problem is in one row
    column: str | None = None
    suffix: str = ".csv"


CORPUS = [
    Bad(
        "latin-1",
        "sales",
        lambda: sales("T5,2026-10-20,CAFE,000101,P001,1").replace(
            b"CAFE", "Café".encode("latin-1")
        ),
        "undecodable bytes in row 2",
    ),
    Bad("mixed-encoding", "sales", mixed_encoding, "Mixed encodings"),
    Bad("empty", "sales", lambda: b"", "The file is empty"),
    Bad("blank-lines-only", "sales", lambda: b"\r\n\r\n  \r\n", "The file is empty"),
    Bad("header-only", "sales", lambda: sales(), "header row but no data rows"),
    Bad(
        "missing-column",
        "sales",
        lambda: sales(
            "T5,2026-10-20,0000000005,000101,P001", header=SALES_HEADER.rsplit(",", 1)[0]
        ),
        "Missing required column",
    ),
    Bad(
        "truncated-last-row",
        "sales",
        lambda: sales(good_sale("T5"), good_sale("T6"), "T7,2026-10-2"),
        "row has 2 fields, the header has 6",
        4,
    ),
    Bad(
        "duplicate-txn-id",
        "sales",
        lambda: sales(good_sale("T5"), good_sale("T6"), good_sale("T5")),
        "duplicate txn_id",
        2,
        "交易流水号",
    ),
    Bad(
        "non-numeric-amount",
        "sales",
        lambda: sales(good_sale("T5"), good_sale("T6", "12O.00")),
        "not a number",
        3,
        "金额",
    ),
    Bad(
        "three-decimals",
        "sales",
        lambda: sales(good_sale("T5", "1.999")),
        "more than 2 decimal places",
        2,
        "金额",
    ),
    Bad(
        "future-date",
        "sales",
        lambda: sales(good_sale("T5", day="2030-01-02")),
        "date is in the future",
        2,
        "交易日期",
    ),
    Bad(
        "impossible-date",
        "sales",
        lambda: sales(good_sale("T5", day="2026-02-30")),
        "not a date",
        2,
        "交易日期",
    ),
    Bad(
        "unknown-rm",
        "sales",
        lambda: sales("T5,2026-10-20,0000000005,999999,P001,1"),
        "unknown employee ID",
        2,
        "经办人工号",
    ),
    Bad(
        "unknown-product",
        "sales",
        lambda: sales("T5,2026-10-20,0000000005,000101,P404,1"),
        "unknown product code",
        2,
        "产品代码",
    ),
    Bad(
        "negative-balance",
        "holdings",
        lambda: holdings(good_holding(), good_holding("0000000008", "-5.00")),
        "negative amount",
        3,
        "余额",
    ),
    Bad(
        "unknown-unit",
        "holdings",
        lambda: holdings(good_holding().replace(",A1,", ",Z9,")),
        "unknown unit code",
        2,
        "管户机构号",
    ),
    Bad(
        "unknown-risk-level",
        "holdings",
        lambda: holdings(good_holding().replace(",C2", ",C9")),
        "not one of",
        2,
        "客户风险等级",
    ),
    Bad(
        "unknown-category",
        "holdings",
        lambda: holdings(good_holding().replace("存款", "黄金")),
        "not one of",
        2,
        "产品类别",
    ),
    Bad(
        "two-as-of-dates",
        "holdings",
        lambda: holdings(good_holding(), good_holding("0000000008", as_of="2026-09-30")),
        "holds 2 as-of dates",
    ),
    Bad(
        "not-a-month-end",
        "holdings",
        lambda: holdings(good_holding(as_of="2026-10-30")),
        "not a month-end",
    ),
    Bad(
        "client-under-two-rms",
        "holdings",
        lambda: holdings(
            good_holding(), good_holding().replace("存款", "理财").replace("000101,A1", "000102,A2")
        ),
        "several RMs",
        2,
        "管户经理工号",
    ),
    Bad(
        "200k-character-field",
        "holdings",
        lambda: holdings(good_holding().replace("客户", "长" * 200_000)),
        "longer than 100 characters",
        2,
        "客户姓名",
    ),
    Bad("binary-garbage", "sales", lambda: random.Random(7).randbytes(50_000), "not text"),
    Bad(
        "xlsx-formula",
        "sales",
        lambda: workbook([["T5", "2026-10-20", "0000000005", "000101", "P001", 10]], formula=True),
        "contains formulas",
        suffix=".xlsx",
    ),
    Bad("xlsx-declared-4gb", "sales", declared_huge, "refused as unsafe", suffix=".xlsx"),
    Bad(
        "xlsx-declared-every-cell",
        "sales",
        dimension_huge,
        "1048576 rows × 16384 columns",
        suffix=".xlsx",
    ),
    Bad(
        "xlsx-not-a-zip",
        "sales",
        lambda: b"PK\x03\x04 this is not a workbook",
        "not a valid .xlsx",
        suffix=".xlsx",
    ),
]


def fingerprint() -> dict:
    """Counts and sums of every fact table, and of the org and staff."""
    money = {Holding: "balance", ClientSnapshot: "total_balance", Sale: "amount",
             AnnualTarget: "annual_target", ManualScore: "score"}  # fmt: skip
    models = [Holding, ClientSnapshot, ClientAssignment, Sale, Activity, Survey, Complaint,
              RecordingCheck, Product, AnnualTarget, ManualScore, OrgUnit, Employee]  # fmt: skip
    prints = {}
    for model in models:
        aggregates = {"rows": Count("*")}
        if model in money:
            aggregates["sum"] = Sum(money[model])
        prints[model.__name__] = model.objects.aggregate(**aggregates)
    return prints


@pytest.fixture
def loaded_bank(bank, tmp_path: Path):
    """Facts already in the database, so that "unchanged" compares something."""
    for kind, name, text in [
        ("products", "products.csv", PRODUCTS),
        ("holdings", "holdings_2026-09-30.csv", holdings_csv(30)),
        ("sales", "sales_2026-10.csv", SALES),
    ]:
        batch = services.import_file(path=write(tmp_path / name, text), kind=kind)
        assert batch.status == BatchStatus.LOADED
    before = fingerprint()
    assert before["Holding"]["rows"] == 30 and before["Sale"]["rows"] == 2
    return before


@pytest.mark.parametrize("bad", CORPUS, ids=lambda bad: bad.id)
def test_a_bad_file_is_refused_whole_with_a_clear_reason(
    loaded_bank, tmp_path: Path, bad: Bad
) -> None:
    path = tmp_path / f"{bad.kind}_bad{bad.suffix}"
    path.write_bytes(bad.data())
    batch = services.import_file(path=path, kind=bad.kind, actor_label="test")

    assert batch.status == BatchStatus.REJECTED
    assert batch.error_count >= 1 and batch.rows_loaded == 0
    said = [batch.message] + [error["reason"] for error in batch.errors]
    assert any(bad.reason in text for text in said), said
    if bad.row is not None:
        pinned = [e for e in batch.errors if bad.reason in e["reason"]]
        assert pinned[0]["row"] == bad.row, batch.errors
        if bad.column is not None:
            assert pinned[0]["column"] == bad.column
    assert fingerprint() == loaded_bank
    assert not ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.LOADED).exists()


def test_a_long_value_is_shown_cut_short_in_the_report(loaded_bank, tmp_path: Path) -> None:
    path = tmp_path / "holdings_2026-10-31.csv"
    path.write_bytes(holdings(good_holding().replace("客户", "长" * 200_000)))
    batch = services.import_file(path=path, kind="holdings")
    [error] = [e for e in batch.errors if e["column"] == "客户姓名"]
    assert len(error["value"]) < 300 and "200000 characters" in error["value"]


def test_every_error_is_counted_and_the_first_thousand_are_listed_in_file_order(
    loaded_bank, tmp_path: Path
) -> None:
    rows = [good_sale(f"T{n:05d}", amount="x") for n in range(1500)]
    path = tmp_path / "sales_many.csv"
    path.write_bytes(sales(*rows))
    batch = services.import_file(path=path, kind="sales")
    assert batch.status == BatchStatus.REJECTED
    assert batch.error_count == 1500 and len(batch.errors) == 1000
    assert [e["row"] for e in batch.errors] == list(range(2, 1002))
    assert {(e["column"], e["value"], e["reason"]) for e in batch.errors} == {
        ("金额", "x", "not a number")
    }
    assert "1500 error(s); nothing was loaded" in batch.message
    assert fingerprint() == loaded_bank

    report = services.write_error_report(batch, tmp_path / "report.csv")
    assert report.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    lines = list(csv.reader(report.read_text(encoding="utf-8-sig").splitlines()))
    assert lines[1] == ["2", "金额", "x", "not a number"]
    assert lines[-1][-1] == "… 500 more"


def test_import_crm_exits_1_and_prints_every_error(loaded_bank, tmp_path: Path, capsys) -> None:
    path = tmp_path / "sales_bad.csv"
    path.write_bytes(sales(good_sale("T5", "1.999"), "T6,2026-10-20,0000000005,999999,P001,1"))
    with pytest.raises(SystemExit) as exit_:
        call_command("import_crm", "--kind", "sales", str(path))
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "rejected, 2 error(s); nothing was loaded" in err
    assert "row 2, column 金额, value '1.999': more than 2 decimal places" in err
    assert "row 3, column 经办人工号, value '999999': unknown employee ID" in err
    assert fingerprint() == loaded_bank


def test_a_dry_run_writes_nothing_even_for_a_good_file(loaded_bank, tmp_path: Path) -> None:
    path = tmp_path / "sales_good.csv"
    path.write_bytes(sales(good_sale("T77", "99.00")))
    call_command("import_crm", "--kind", "sales", "--dry-run", str(path))
    assert fingerprint() == loaded_bank
    assert not Sale.objects.filter(txn_id="T77").exists()
    assert Sale.objects.aggregate(s=Sum("amount"))["s"] == Decimal("102500.50")
