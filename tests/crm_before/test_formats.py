"""Every import kind, in every format a bank's systems produce, lands as the same facts.

One table of rows per kind, rendered into CSV (UTF-8, UTF-8 with BOM, GB18030) and XLSX
(title rows above the header, numbers and dates as real cells), with the Chinese headers in
a shuffled order, an unknown column and a PII column. The stored rows are then read back
and compared with what the file meant.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Sum

from crm import services
from crm.kinds import KINDS
from crm.models import (
    Activity,
    BatchStatus,
    ClientAssignment,
    ClientSnapshot,
    Complaint,
    Holding,
    Product,
    RecordingCheck,
    Sale,
    Survey,
)
from crm.sample import write_exports
from scorecards.models import ManualScore
from targets.models import AnnualTarget, Employee, OrgUnit

FORMATS = ["utf-8", "utf-8-sig", "gb18030", "xlsx"]
PHONE = "13800138000"  # in a PII column: must never be stored


@dataclass
class Case:
    kind: str
    columns: list[str]  # canonical names
    rows: list[list[str]]  # as the source system writes them
    stored: Callable[[], list[tuple]]  # what the database holds afterwards
    expected: list[tuple]


def products_first(tmp_path: Path) -> None:
    render_and_import(tmp_path, PRODUCTS, "utf-8")


CASES = [
    Case(
        "org_units",
        ["unit_code", "unit_name", "parent_code", "level"],
        [["C", "广州分行", "HO", "分行"], ["C1", "天河支行", "C", "支行"],
         ["C11", "天河一队", "C1", "团队"]],
        lambda: list(OrgUnit.objects.filter(code__startswith="C").order_by("code")
                     .values_list("code", "name", "parent__code", "level")),
        [("C", "广州分行", "HO", "branch"), ("C1", "天河支行", "C", "sub_branch"),
         ("C11", "天河一队", "C1", "team")],
    ),
    Case(
        "staff",
        ["employee_id", "name", "unit_code", "position", "hire_date", "status",
         "base_performance_pay", "certifications"],
        [["000301", "赵六", "A1", "理财经理", "2026/05/10", "在职", "12,000.50", "AFP、CFP"],
         ["000302", "钱七", "B1", "负责人", "20200301", "离职", "", ""]],
        lambda: list(Employee.objects.filter(employee_id__startswith="0003").order_by(
            "employee_id").values_list("employee_id", "name", "position", "hire_date",
                                       "status", "base_performance_pay", "certifications")),
        [("000301", "赵六", "rm", dt.date(2026, 5, 10), "active", Decimal("12000.50"),
          ["AFP", "CFP"]),
         ("000302", "钱七", "manager", dt.date(2020, 3, 1), "left", None, [])],
    ),
    Case(
        "holdings",
        ["as_of_date", "client_id", "client_name", "rm_employee_id", "unit_code", "category",
         "balance", "client_risk_level", "risk_assessed_on"],
        [["2026-09-30", "0000000001", "张三丰", "000101", "A1", "存款", "1,234,567.80", "C3",
          "2025/11/02"],
         ["2026-09-30", "0000000001", "张三丰", "000101", "A1", "理财", "100", "C3",
          "2025/11/02"],
         ["2026-09-30", "0000000002", "李四", "000201", "B1", "基金", "0.50", "c5", ""]],
        lambda: list(Holding.objects.order_by("client_id", "category").values_list(
            "as_of_date", "client_id", "category", "balance"))
        + list(ClientSnapshot.objects.order_by("client_id").values_list(
            "client_id", "name", "rm_id", "unit_id", "total_balance", "client_risk_level",
            "risk_assessed_on")),
        [(dt.date(2026, 9, 30), "0000000001", "deposit", Decimal("1234567.80")),
         (dt.date(2026, 9, 30), "0000000001", "wealth", Decimal("100.00")),
         (dt.date(2026, 9, 30), "0000000002", "fund", Decimal("0.50")),
         ("0000000001", "张三丰", "000101", "A1", Decimal("1234667.80"), 3,
          dt.date(2025, 11, 2)),
         ("0000000002", "李四", "000201", "B1", Decimal("0.50"), 5, None)],
    ),
    Case(
        "sales",
        ["txn_id", "txn_date", "client_id", "rm_employee_id", "product_code", "amount",
         "fee_income", "channel"],
        [["T0001", "2026-10-12", "0000000001", "000101", "P001", "100,000.00", "1,200.00",
          "手机银行"],
         ["T0002", "20261013", "0000000009", "000201", "P002", "2500.5", "", ""]],
        lambda: list(Sale.objects.order_by("txn_id").values_list(
            "txn_id", "txn_date", "client_id", "rm_id", "product_id", "amount", "fee_income",
            "channel")),
        [("T0001", dt.date(2026, 10, 12), "0000000001", "000101", "P001", Decimal("100000.00"),
          Decimal("1200.00"), "手机银行"),
         ("T0002", dt.date(2026, 10, 13), "0000000009", "000201", "P002", Decimal("2500.50"),
          None, "")],
    ),
    Case(
        "activities",
        ["activity_id", "activity_date", "rm_employee_id", "client_id", "activity_type",
         "rating"],
        [["A1", "2026/10/01", "000101", "0000000001", "拜访", "5"],
         ["A2", "2026-10-02", "000102", "", "投教活动", ""],
         ["A3", "20261003", "000201", "0000000002", "方案采纳", ""]],
        lambda: list(Activity.objects.order_by("activity_id").values_list(
            "activity_id", "activity_date", "rm_id", "client_id", "activity_type", "rating")),
        [("A1", dt.date(2026, 10, 1), "000101", "0000000001", "visit", 5),
         ("A2", dt.date(2026, 10, 2), "000102", None, "education_event", None),
         ("A3", dt.date(2026, 10, 3), "000201", "0000000002", "plan_adopted", None)],
    ),
    Case(
        "surveys",
        ["response_id", "survey_date", "client_id", "rm_employee_id", "nps_score"],
        [["S1", "2026-10-05", "0000000001", "000101", "9"],
         ["S2", "2026-10-06", "0000000002", "000201", "0"]],
        lambda: list(Survey.objects.order_by("response_id").values_list(
            "response_id", "survey_date", "client_id", "rm_id", "nps_score")),
        [("S1", dt.date(2026, 10, 5), "0000000001", "000101", 9),
         ("S2", dt.date(2026, 10, 6), "0000000002", "000201", 0)],
    ),
    Case(
        "complaints",
        ["complaint_id", "received_date", "client_id", "rm_employee_id", "category",
         "resolved_date"],
        [["K1", "2026-10-01", "0000000001", "000101", "服务态度", "2026-10-10"],
         ["K2", "2026-10-20", "0000000002", "000201", "产品收益", ""]],
        lambda: list(Complaint.objects.order_by("complaint_id").values_list(
            "complaint_id", "received_date", "client_id", "rm_id", "category",
            "resolved_date")),
        [("K1", dt.date(2026, 10, 1), "0000000001", "000101", "服务态度", dt.date(2026, 10, 10)),
         ("K2", dt.date(2026, 10, 20), "0000000002", "000201", "产品收益", None)],
    ),
    Case(
        "recording_checks",
        ["check_id", "check_date", "rm_employee_id", "txn_id", "compliant"],
        [["R1", "2026-10-03", "000101", "T0001", "是"], ["R2", "2026-10-04", "000201", "", "N"]],
        lambda: list(RecordingCheck.objects.order_by("check_id").values_list(
            "check_id", "check_date", "rm_id", "txn_id", "compliant")),
        [("R1", dt.date(2026, 10, 3), "000101", "T0001", True),
         ("R2", dt.date(2026, 10, 4), "000201", "", False)],
    ),
    Case(
        "targets",
        ["year", "scope", "measure", "annual_target", "distribution"],
        [["2026", "A", "sales_attainment", "30,000,000.00", "开门红"],
         ["2026", "000101", "aum_net_growth", "5000000", ""]],
        lambda: list(AnnualTarget.objects.order_by("measure").values_list(
            "year", "unit__code", "employee__employee_id", "measure", "annual_target",
            "distribution")),
        [(2026, None, "000101", "aum_net_growth", Decimal("5000000.00"), ""),
         (2026, "A", None, "sales_attainment", Decimal("30000000.00"), "开门红")],
    ),
    Case(
        "manual_scores",
        ["period", "employee_id", "measure", "score", "comment"],
        [["2026-Q3", "000101", "collaboration", "88.5", "跨部门协作良好"],
         ["2026", "000201", "mentoring", "100", ""]],
        lambda: list(ManualScore.objects.order_by("period").values_list(
            "period", "employee__employee_id", "measure", "score", "comment")),
        [("2026", "000201", "mentoring", Decimal("100.00"), ""),
         ("2026-Q3", "000101", "collaboration", Decimal("88.50"), "跨部门协作良好")],
    ),
]  # fmt: skip
PRODUCTS = Case(
    "products",
    ["product_code", "product_name", "category", "risk_level", "strategic_tag"],
    [["P001", "稳健1号", "理财", "R2", "固收+"], ["P002", "成长基金", "基金", "r4", ""],
     ["P003", "养老目标2040", "基金", "R3", "养老"]],
    lambda: list(Product.objects.order_by("product_code").values_list(
        "product_code", "name", "category", "risk_level", "strategic_tag")),
    [("P001", "稳健1号", "wealth", 2, "fixed_income_plus"), ("P002", "成长基金", "fund", 4, ""),
     ("P003", "养老目标2040", "fund", 3, "pension")],
)  # fmt: skip
CASES.append(PRODUCTS)
NEEDS_PRODUCTS = {"sales"}


def render(case: Case, file_format: str, seed: int = 0) -> tuple[str, bytes]:
    """The case as a file: Chinese headers shuffled, plus an unknown and a PII column."""
    spec = KINDS[case.kind]
    headers = [spec.column(name).aliases[0] for name in case.columns] + ["备注", "手机号码"]
    rows = [row + ["内部备注", PHONE] for row in case.rows]
    order = list(range(len(headers)))
    random.Random(f"{case.kind}-{seed}").shuffle(order)
    headers = [headers[i] for i in order]
    rows = [[row[i] for i in order] for row in rows]
    types = [spec.column(n).type for n in case.columns] + ["text", "text"]
    types = [types[i] for i in order]
    if file_format == "xlsx":
        return f"{spec.file_prefix}.xlsx", xlsx_bytes(headers, rows, types)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return f"{spec.file_prefix}.csv", buffer.getvalue().encode(file_format)


def xlsx_bytes(headers: list[str], rows: list[list[str]], types: list[str]) -> bytes:
    """Two title rows, then the header; amounts as numbers, dates as date cells."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("明细")
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_string(0, 0, "某银行财富管理部 数据导出")
    sheet.write_string(1, 0, "导出时间：2026-11-01 08:00")
    sheet.write_row(3, 0, headers)
    for r, row in enumerate(rows, start=4):
        for c, value in enumerate(row):
            if value == "":
                continue
            if types[c] == "amount":
                sheet.write_number(r, c, float(value.replace(",", "")))
            elif types[c] == "date":
                text = value.replace("/", "-")
                day = dt.date.fromisoformat(text if "-" in text else
                                            f"{text[:4]}-{text[4:6]}-{text[6:]}")  # fmt: skip
                sheet.write_datetime(r, c, day, dates)
            else:
                sheet.write_string(r, c, value)
    workbook.close()
    return buffer.getvalue()


def render_and_import(tmp_path: Path, case: Case, file_format: str):
    name, data = render(case, file_format)
    path = tmp_path / f"{file_format}-{name}"
    path.write_bytes(data)
    return services.import_file(path=path, kind=case.kind, actor_label="test")


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.kind)
def test_every_kind_in_every_format_stores_what_the_file_says(
    bank, tmp_path: Path, case: Case, file_format: str
) -> None:
    if case.kind in NEEDS_PRODUCTS:
        products_first(tmp_path)
    batch = render_and_import(tmp_path, case, file_format)
    assert batch.status == BatchStatus.LOADED, (batch.message, batch.errors)
    assert batch.rows_loaded == len(case.rows)
    assert batch.dropped_columns == ["手机号码"]
    if file_format != "xlsx":
        assert batch.encoding == file_format  # detected, not told
    stored = case.stored()
    assert stored == case.expected
    assert not any(PHONE in str(value) for row in stored for value in row)


def test_english_headers_in_any_order_are_read_too(bank, tmp_path: Path) -> None:
    lines = [
        "balance,category,unit_code,rm_employee_id,client_name,client_id,as_of_date,client_risk_level",
        "10.00,deposit,A2,000102,王五,0000000077,2026-09-30,C1",
    ]
    path = tmp_path / "holdings_2026-09-30.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batch = services.import_file(path=path, kind="holdings")
    assert batch.status == BatchStatus.LOADED
    assert list(Holding.objects.values_list("client_id", "category", "balance")) == [
        ("0000000077", "deposit", Decimal("10.00"))
    ]


def holdings_file(tmp_path: Path, name: str, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["数据日期,客户号,客户姓名,管户经理工号,管户机构号,产品类别,余额,客户风险等级"]
    lines += [
        f"{as_of},{client},客户,000101,A1,存款,{balance},C2" for as_of, client, balance in rows
    ]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="gb18030")
    return path


def facts() -> tuple:
    return (
        Holding.objects.count(),
        Holding.objects.aggregate(s=Sum("balance"))["s"],
        ClientSnapshot.objects.count(),
        Sale.objects.count(),
        Sale.objects.aggregate(s=Sum("amount"))["s"],
    )


def test_the_same_file_twice_changes_nothing_and_a_corrected_month_replaces_it(
    bank, tmp_path: Path
) -> None:
    august = holdings_file(tmp_path, "holdings_2026-08-31.csv", [("2026-08-31", "0000000001", "5")])
    sept = [("2026-09-30", "0000000001", "10"), ("2026-09-30", "0000000002", "20")]
    first = holdings_file(tmp_path, "holdings_2026-09-30.csv", sept)
    for path in (august, first):
        assert services.import_file(path=path, kind="holdings").status == BatchStatus.LOADED
    before = facts()
    again = services.import_file(path=first, kind="holdings")
    assert again.status == BatchStatus.DUPLICATE and facts() == before

    fixed = [("2026-09-30", "0000000002", "25"), ("2026-09-30", "0000000003", "1")]
    corrected = holdings_file(tmp_path, "holdings_2026-09-30_v2.csv", fixed)
    batch = services.import_file(path=corrected, kind="holdings")
    assert batch.status == BatchStatus.LOADED and batch.rows_replaced == 2
    september = Holding.objects.filter(as_of_date="2026-09-30").order_by("client_id")
    assert list(september.values_list("client_id", "balance")) == [
        ("0000000002", Decimal("25.00")), ("0000000003", Decimal("1.00"))
    ]  # fmt: skip
    assert list(Holding.objects.filter(as_of_date="2026-08-31").values_list("balance")) == [
        (Decimal("5.00"),)
    ]


def test_a_corrected_sale_replaces_the_row_with_its_txn_id(bank, tmp_path: Path) -> None:
    products_first(tmp_path)
    header = "交易流水号,交易日期,客户号,经办人工号,产品代码,金额\n"
    first = tmp_path / "sales_1.csv"
    first.write_text(header + "T1,2026-10-01,0000000001,000101,P001,100\n"
                     "T2,2026-10-02,0000000001,000101,P001,200\n", encoding="utf-8")  # fmt: skip
    fixed = tmp_path / "sales_2.csv"
    fixed.write_text(header + "T2,2026-10-02,0000000001,000102,P002,250.00\n", encoding="utf-8")
    for path in (first, fixed):
        assert services.import_file(path=path, kind="sales").status == BatchStatus.LOADED
    assert list(Sale.objects.order_by("txn_id").values_list("txn_id", "rm_id", "amount")) == [
        ("T1", "000101", Decimal("100.00")), ("T2", "000102", Decimal("250.00"))
    ]  # fmt: skip


def test_a_client_first_seen_in_a_sale_is_managed_by_the_rm_on_the_sale(
    bank, tmp_path: Path
) -> None:
    products_first(tmp_path)
    header = "交易流水号,交易日期,客户号,经办人工号,产品代码,金额\n"
    sales = tmp_path / "sales.csv"
    sales.write_text(header + "T9,2026-10-15,0000000555,000201,P001,100\n"
                     "T8,2026-10-09,0000000555,000102,P001,100\n", encoding="utf-8")  # fmt: skip
    assert services.import_file(path=sales, kind="sales").status == BatchStatus.LOADED
    # Her first sale (by date) names her RM until a holdings snapshot says otherwise.
    assert list(ClientAssignment.objects.values_list("client_id", "rm_id", "valid_from")) == [
        ("0000000555", "000102", dt.date(2026, 10, 9))
    ]
    snapshot = holdings_file(
        tmp_path, "holdings_2026-10-31.csv", [("2026-10-31", "0000000555", "9")]
    )
    assert services.import_file(path=snapshot, kind="holdings").status == BatchStatus.LOADED
    assert ClientSnapshot.objects.get(client_id="0000000555").rm_id == "000101"


@pytest.mark.parametrize(("encoding", "file_format"), [("utf-8", "csv"), ("gb18030", "csv"),
                                                      ("utf-8", "xlsx")])  # fmt: skip
def test_the_sample_exports_import_whole_into_an_empty_bank(
    db, tmp_path: Path, encoding: str, file_format: str
) -> None:
    inbox = tmp_path / "inbox"
    files = write_exports(inbox, rms=6, clients_per_rm=4, months=2, year=2025, seed=7,
                          encoding=encoding, file_format=file_format)  # fmt: skip
    expected = {path.name: data_rows(path) for path in files}
    result = services.run_nightly(inbox=inbox, actor_label="test")
    assert result.rejected == []
    assert sorted(result.loaded) == sorted(expected)
    loaded = {b.file_name: b.rows_loaded for b in services.ImportBatch.objects.all()}
    assert loaded == expected
    assert Employee.objects.filter(position="rm").count() == 6
    assert OrgUnit.objects.filter(level="branch").count() == 3


def data_rows(path: Path) -> int:
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return len(sheet) - 3  # title, blank, header
    return len(path.read_bytes().strip().splitlines()) - 1  # less the header


def test_the_same_seed_writes_the_same_files(tmp_path: Path) -> None:
    first = write_exports(tmp_path / "a", rms=3, clients_per_rm=2, months=1, year=2025, seed=3)
    second = write_exports(tmp_path / "b", rms=3, clients_per_rm=2, months=1, year=2025, seed=3)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    other = write_exports(tmp_path / "c", rms=3, clients_per_rm=2, months=1, year=2025, seed=4)
    assert [p.read_bytes() for p in first] != [p.read_bytes() for p in other]
