"""Every import kind loads the same facts from every format the bank's systems export.

One small table of rows per kind (as the source system writes them) and the facts it must
store. A helper renders each table as CSV (UTF-8, UTF-8 with BOM, GB18030) or XLSX (title
rows above the header, some amounts as numeric cells, some dates as Excel date cells), with
the Chinese headers in a seeded shuffled order, an unknown column and two PII columns.
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
import xlsxwriter
from django.apps import apps
from django.db import connection
from django.db.models import Count, Sum
from openpyxl import load_workbook

from crm import services
from crm.holdings import summarise_holdings
from crm.kinds import KINDS, kind_from_file_name
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
from crm.sample import write_exports
from scorecards.models import ManualScore
from targets.models import AnnualTarget, Employee, OrgUnit

FORMATS = ["utf-8", "utf-8-sig", "gb18030", "xlsx"]
ID_NUMBER, PHONE = "110101199003071234", "13800138000"  # PII: dropped, never stored
# Header (Chinese, English) -> the value every row carries in that column.
EXTRA_COLUMNS = {("身份证号", "id_number"): ID_NUMBER, ("手机号码", "mobile"): PHONE,
                 ("备注", "remark"): "内部备注"}  # fmt: skip
PII_HEADERS = {"身份证号", "id_number", "手机号码", "mobile"}


def fingerprint() -> dict:
    """Counts and sums of every fact table, and of the org and staff (not their batch ids:
    a file that replaces rows by themselves leaves this alone)."""
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


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@dataclass(frozen=True)
class KindTable:
    kind: str
    rows: tuple[tuple[str, ...], ...]  # every column of the kind, in kinds.py order
    stored: Callable[[], list[tuple]]  # the facts read back, in a stable order
    expected: list[tuple]
    needs: tuple[str, ...] = ()  # kinds whose rows this one refers to, loaded first


TABLES = {t.kind: t for t in [
    KindTable(
        "org_units",
        (("0300", "广州分行", "HO", "分行"), ("0301", "天河支行", "0300", "支行"),
         ("030101", "天河财富团队", "0301", "团队")),
        lambda: list(OrgUnit.objects.filter(code__startswith="030").order_by("code")
                     .values_list("code", "name", "parent__code", "level")),
        [("0300", "广州分行", "HO", "branch"), ("0301", "天河支行", "0300", "sub_branch"),
         ("030101", "天河财富团队", "0301", "team")],
    ),
    KindTable(
        "staff",
        (("000301", "赵六", "A1", "理财经理", "2026/05/10", "在职", "12,000.50", "AFP、CFP"),
         ("000302", "钱七", "B1", "负责人", "20200301", "离职", "", ""),
         ("000303", "孙八", "HO", "合规", "2019-07-01", "在职", "8000", "基金从业")),
        lambda: list(Employee.objects.filter(employee_id__startswith="0003")
                     .order_by("employee_id").values_list(
                         "employee_id", "name", "memberships__unit__code", "position",
                         "hire_date", "status", "base_performance_pay", "certifications")),
        [("000301", "赵六", "A1", "rm", d("2026-05-10"), "active", Decimal("12000.50"),
          ["AFP", "CFP"]),
         ("000302", "钱七", "B1", "manager", d("2020-03-01"), "left", None, []),
         ("000303", "孙八", "HO", "compliance", d("2019-07-01"), "active", Decimal("8000.00"),
          ["基金从业"])],
    ),
    KindTable(
        "products",
        (("P001", "稳健1号", "理财", "R2", "固收+"), ("000001", "成长混合", "基金", "R4", ""),
         ("P003", "养老年金", "保险", "r5", "养老")),
        lambda: list(Product.objects.order_by("product_code").values_list(
            "product_code", "name", "category", "risk_level", "strategic_tag")),
        [("000001", "成长混合", "fund", 4, ""), ("P001", "稳健1号", "wealth", 2,
          "fixed_income_plus"), ("P003", "养老年金", "insurance", 5, "pension")],
    ),
    KindTable(
        # One month-end, written three ways; "䶮" is outside GBK, only GB18030 has it.
        "holdings",
        (("2026-10-31", "0000000001", "张三丰", "000101", "A1", "存款", "1,234,567.80", "C3",
          "2025/11/02"),
         ("2026/10/31", "0000000001", "张三丰", "000101", "A1", "理财", "100", "C3",
          "2025/11/02"),
         ("20261031", "0000000002", "李䶮", "000201", "B1", "基金", "0.5", "c5", "")),
        lambda: list(Holding.objects.order_by("client_id", "category").values_list(
            "as_of_date", "client_id", "category", "balance"))
        + list(ClientSnapshot.objects.order_by("client_id").values_list(
            "client_id", "name", "rm_id", "unit_id", "total_balance", "client_risk_level",
            "risk_assessed_on")),
        [(d("2026-10-31"), "0000000001", "deposit", Decimal("1234567.80")),
         (d("2026-10-31"), "0000000001", "wealth", Decimal("100.00")),
         (d("2026-10-31"), "0000000002", "fund", Decimal("0.50")),
         ("0000000001", "张三丰", "000101", "A1", Decimal("1234667.80"), 3, d("2025-11-02")),
         ("0000000002", "李䶮", "000201", "B1", Decimal("0.50"), 5, None)],
    ),
    KindTable(
        "sales",
        (("T0001", "2026-10-12", "0000000001", "000101", "P001", "100,000.00", "1,200.00",
          "手机银行"),
         ("T0002", "20261013", "0000000009", "000201", "000001", "2500.5", "", ""),
         ("T0003", "2026/10/14", "0000000001", "000102", "P003", "1,234,567.80", "0", "柜面")),
        lambda: list(Sale.objects.order_by("txn_id").values_list(
            "txn_id", "txn_date", "client_id", "rm_id", "product_id", "amount", "fee_income",
            "channel")),
        [("T0001", d("2026-10-12"), "0000000001", "000101", "P001", Decimal("100000.00"),
          Decimal("1200.00"), "手机银行"),
         ("T0002", d("2026-10-13"), "0000000009", "000201", "000001", Decimal("2500.50"), None,
          ""),
         ("T0003", d("2026-10-14"), "0000000001", "000102", "P003", Decimal("1234567.80"),
          Decimal("0.00"), "柜面")],
        needs=("products",),
    ),
    KindTable(
        "activities",
        (("A0001", "2026-10-01", "000101", "0000000001", "拜访", "5"),
         ("A0002", "2026/10/02", "000102", "", "投教活动", ""),
         ("A0003", "20261003", "000201", "0000000002", "方案采纳", ""),
         ("A0004", "2026-10-04", "000101", "0000000001", "电话", "")),
        lambda: list(Activity.objects.order_by("activity_id").values_list(
            "activity_id", "activity_date", "rm_id", "client_id", "activity_type", "rating")),
        [("A0001", d("2026-10-01"), "000101", "0000000001", "visit", 5),
         ("A0002", d("2026-10-02"), "000102", None, "education_event", None),
         ("A0003", d("2026-10-03"), "000201", "0000000002", "plan_adopted", None),
         ("A0004", d("2026-10-04"), "000101", "0000000001", "call", None)],
    ),
    KindTable(
        "surveys",
        (("S0001", "2026-10-05", "0000000001", "000101", "9"),
         ("S0002", "2026/10/06", "0000000002", "000201", "0"),
         ("S0003", "20261007", "0000000003", "000102", "10")),
        lambda: list(Survey.objects.order_by("response_id").values_list(
            "response_id", "survey_date", "client_id", "rm_id", "nps_score")),
        [("S0001", d("2026-10-05"), "0000000001", "000101", 9),
         ("S0002", d("2026-10-06"), "0000000002", "000201", 0),
         ("S0003", d("2026-10-07"), "0000000003", "000102", 10)],
    ),
    KindTable(
        "complaints",
        (("K0001", "2026-10-01", "0000000001", "000101", "服务态度", "2026/10/10"),
         ("K0002", "20261020", "0000000002", "000201", "产品收益", "")),
        lambda: list(Complaint.objects.order_by("complaint_id").values_list(
            "complaint_id", "received_date", "client_id", "rm_id", "category",
            "resolved_date")),
        [("K0001", d("2026-10-01"), "0000000001", "000101", "服务态度", d("2026-10-10")),
         ("K0002", d("2026-10-20"), "0000000002", "000201", "产品收益", None)],
    ),
    KindTable(
        "recording_checks",
        (("R0001", "2026-10-03", "000101", "T0001", "是"),
         ("R0002", "2026/10/04", "000201", "", "否"),
         ("R0003", "20261005", "000102", "T0003", "Y"),
         ("R0004", "2026-10-06", "000101", "", "n"), ("R0005", "2026-10-07", "000201", "", "N")),
        lambda: list(RecordingCheck.objects.order_by("check_id").values_list(
            "check_id", "check_date", "rm_id", "txn_id", "compliant")),
        [("R0001", d("2026-10-03"), "000101", "T0001", True),
         ("R0002", d("2026-10-04"), "000201", "", False),
         ("R0003", d("2026-10-05"), "000102", "T0003", True),
         ("R0004", d("2026-10-06"), "000101", "", False),
         ("R0005", d("2026-10-07"), "000201", "", False)],
    ),
    KindTable(
        # A scope is a unit code or an employee ID; "开门红" is a seeded distribution profile.
        "targets",
        (("2026", "A", "sales_attainment", "30,000,000.00", "开门红"),
         ("2026", "000101", "aum_net_growth", "5000000", ""),
         ("2026", "B1", "fee_income", "1,234,567.80", "")),
        lambda: list(AnnualTarget.objects.order_by("measure").values_list(
            "year", "unit__code", "employee__employee_id", "measure", "annual_target",
            "distribution")),
        [(2026, None, "000101", "aum_net_growth", Decimal("5000000.00"), ""),
         (2026, "B1", None, "fee_income", Decimal("1234567.80"), ""),
         (2026, "A", None, "sales_attainment", Decimal("30000000.00"), "开门红")],
    ),
    KindTable(
        "manual_scores",
        (("2026-Q3", "000101", "collaboration", "88.5", "跨部门协作良好"),
         ("2026", "000201", "mentoring", "100", ""),
         ("2026-Q3", "000102", "internal_policy", "0", "")),
        lambda: list(ManualScore.objects.order_by("period", "employee__employee_id").values_list(
            "period", "employee__employee_id", "measure", "score", "comment")),
        [("2026", "000201", "mentoring", Decimal("100.00"), ""),
         ("2026-Q3", "000101", "collaboration", Decimal("88.50"), "跨部门协作良好"),
         ("2026-Q3", "000102", "internal_policy", Decimal("0.00"), "")],
    ),
]}  # fmt: skip


# ---------------------------------------------------------------- rendering
def as_date(text: str) -> dt.date:
    digits = text.replace("-", "").replace("/", "")
    return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def chinese_headers(kind: str) -> list[str]:
    return [column.aliases[0] for column in KINDS[kind].columns]


def shuffled(table: KindTable, english: bool) -> tuple[list[str], list[str], list[list[str]]]:
    """(headers, column types, rows) with the extra columns mixed in, in a seeded order."""
    columns = KINDS[table.kind].columns
    headers = [c.name for c in columns] if english else chinese_headers(table.kind)
    headers += [pair[1] if english else pair[0] for pair in EXTRA_COLUMNS]
    types = [c.type for c in columns] + ["text"] * len(EXTRA_COLUMNS)
    rows = [list(row) + list(EXTRA_COLUMNS.values()) for row in table.rows]
    order = list(range(len(headers)))
    random.Random(table.kind).shuffle(order)

    def pick(values: list) -> list:
        return [values[i] for i in order]

    return pick(headers), pick(types), [pick(row) for row in rows]


def csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)  # quotes "1,234,567.80"
    return buffer.getvalue().encode(encoding)


def render(table: KindTable, file_format: str, english: bool = False) -> tuple[list[str], bytes]:
    headers, types, rows = shuffled(table, english)
    if file_format == "xlsx":
        return headers, xlsx_bytes(headers, rows, types)
    return headers, csv_bytes([headers, *rows], file_format)


def xlsx_bytes(headers: list[str], rows: list[list[str]], types: list[str]) -> bytes:
    """Two title rows above the header. Even rows carry typed cells (numbers, Excel dates,
    one of them in a Chinese date format), odd rows the text a CSV has: both must read."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    iso = book.add_format({"num_format": "yyyy-mm-dd"})
    chinese = book.add_format({"num_format": 'yyyy"年"m"月"d"日"'})
    money = book.add_format({"num_format": "#,##0.00"})
    sheet = book.add_worksheet("明细")
    sheet.write_string(0, 0, "财富管理系统 数据导出")
    sheet.write_string(1, 0, "导出人：系统   单位：元")
    sheet.write_row(2, 0, headers)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            typed = r % 2 == 0 and value != ""
            if typed and types[c] in {"amount", "int"}:
                sheet.write_number(3 + r, c, float(value.replace(",", "")), money)
            elif typed and types[c] == "date":
                sheet.write_datetime(3 + r, c, as_date(value), chinese if r == 2 else iso)
            else:
                sheet.write_string(3 + r, c, value)
    book.close()
    return buffer.getvalue()


def load(tmp_path: Path, table: KindTable, file_format: str, *, english: bool = False,
         name: str | None = None) -> ImportBatch:  # fmt: skip
    suffix = "xlsx" if file_format == "xlsx" else "csv"
    path = tmp_path / (name or f"{table.kind}-{file_format}.{suffix}")
    path.write_bytes(render(table, file_format, english)[1])
    return services.import_file(path=path, kind=table.kind, actor_label="test")


def exact(rows: list[tuple]) -> list[tuple]:
    """Decimals as text: Decimal("100") == Decimal("100.00"), but only one has 2 places."""
    return [tuple(str(v) if isinstance(v, Decimal) else v for v in row) for row in rows]


def rows_holding(*needles: str) -> list[str]:
    """Every stored row, of any model, with one of `needles` in a concrete field."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = [f.attname for f in model._meta.concrete_fields]
        for values in model._base_manager.values_list(*names):
            if any(n in str(v) for v in values for n in needles):
                found.append(f"{model.__name__}: {values}")
    return found


# ---------------------------------------------------------------- every kind, every format
@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("kind", list(TABLES))
def test_every_kind_in_every_format_stores_what_the_file_says(
    bank, tmp_path: Path, kind: str, file_format: str
) -> None:
    table = TABLES[kind]
    for needed in table.needs:
        assert load(tmp_path, TABLES[needed], file_format).status == BatchStatus.LOADED
    headers, _ = render(table, file_format)
    chinese = chinese_headers(kind)
    assert [h for h in headers if h in chinese] != chinese  # the order really is shuffled

    batch = load(tmp_path, table, file_format)

    assert batch.status == BatchStatus.LOADED, (batch.message, batch.errors)
    assert batch.rows_loaded == len(table.rows)
    assert batch.encoding == file_format  # detected from the bytes, not told
    assert batch.dropped_columns == [h for h in headers if h in PII_HEADERS]
    assert exact(table.stored()) == exact(table.expected)
    assert rows_holding(ID_NUMBER, PHONE) == []


@pytest.mark.parametrize("kind", list(TABLES))
def test_english_headers_are_read_too(bank, tmp_path: Path, kind: str) -> None:
    table = TABLES[kind]
    for needed in table.needs:
        assert load(tmp_path, TABLES[needed], "utf-8", english=True).status == BatchStatus.LOADED
    batch = load(tmp_path, table, "utf-8", english=True)
    assert batch.status == BatchStatus.LOADED, (batch.message, batch.errors)
    assert sorted(batch.dropped_columns) == ["id_number", "mobile"]
    assert exact(table.stored()) == exact(table.expected)


# ---------------------------------------------------------------- re-imports and corrections
@pytest.mark.parametrize("kind", list(TABLES))
def test_the_identical_file_again_is_a_duplicate_and_changes_nothing(
    bank, tmp_path: Path, kind: str
) -> None:
    table = TABLES[kind]
    for needed in table.needs:
        load(tmp_path, TABLES[needed], "gb18030")
    first = load(tmp_path, table, "gb18030")
    assert first.status == BatchStatus.LOADED
    before, totals = table.stored(), fingerprint()

    # The same bytes under another name, as a resent export arrives.
    again = load(tmp_path, table, "gb18030", name=f"{kind}-resent.csv")
    assert again.status == BatchStatus.DUPLICATE and again.duplicate_of_id == first.pk
    assert again.rows_loaded == 0
    assert table.stored() == before and fingerprint() == totals

    # The same rows exported again as XLSX are a new file, but replace each row by itself.
    assert load(tmp_path, table, "xlsx").status == BatchStatus.LOADED
    assert exact(table.stored()) == exact(before) and fingerprint() == totals


def csv_file(tmp_path: Path, name: str, rows: list[list[str]], encoding: str = "gb18030") -> Path:
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows, encoding))
    return path


def holdings_file(tmp_path: Path, name: str, as_of: str, rows: list[tuple]) -> Path:
    """rows: (client_id, rm_employee_id, unit_code, 产品类别, 余额)."""
    header = ["客户风险等级", "余额", "产品类别", "管户机构号", "管户经理工号", "客户姓名",
              "客户号", "数据日期"]  # fmt: skip
    body = [["C2", balance, category, unit, rm, "客户", client, as_of]
            for client, rm, unit, category, balance in rows]  # fmt: skip
    return csv_file(tmp_path, name, [header, *body])


SALES_HEADER = ["交易流水号", "交易日期", "客户号", "经办人工号", "产品代码", "金额"]


def month(as_of: str) -> list[tuple]:
    holdings = Holding.objects.filter(as_of_date=as_of).order_by("client_id", "category")
    clients = ClientSnapshot.objects.filter(as_of_date=as_of).order_by("client_id")
    return exact(list(holdings.values_list("client_id", "category", "balance"))
                 + list(clients.values_list("client_id", "rm_id", "total_balance")))  # fmt: skip


def test_a_corrected_holdings_month_replaces_that_month_only(bank, tmp_path: Path) -> None:
    september = holdings_file(tmp_path, "holdings_2026-09-30.csv", "2026-09-30", [
        ("0000000001", "000101", "A1", "存款", "50.00"), ("0000000002", "000201", "B1", "基金", "7")
    ])  # fmt: skip
    october = holdings_file(tmp_path, "holdings_2026-10-31.csv", "2026-10-31", [
        ("0000000001", "000101", "A1", "存款", "100.00"),
        ("0000000001", "000101", "A1", "理财", "1,000.00"),
        ("0000000002", "000201", "B1", "基金", "20.00"),
    ])  # fmt: skip
    for path in (september, october):
        assert services.import_file(path=path, kind="holdings").status == BatchStatus.LOADED
    september_before = month("2026-09-30")
    assert len(september_before) == 4  # two balances, two clients

    # Client 1 moved to rm_dan and sold her wealth product; client 2 was never ours.
    corrected = holdings_file(tmp_path, "holdings_2026-10-31_v2.csv", "2026-10-31", [
        ("0000000001", "000102", "A2", "存款", "120.00"),
        ("0000000003", "000201", "B1", "保险", "3,000.00"),
    ])  # fmt: skip
    batch = services.import_file(path=corrected, kind="holdings")

    assert batch.status == BatchStatus.LOADED and batch.rows_replaced == 3
    assert month("2026-10-31") == [
        ("0000000001", "deposit", "120.00"), ("0000000003", "insurance", "3000.00"),
        ("0000000001", "000102", "120.00"), ("0000000003", "000201", "3000.00"),
    ]  # fmt: skip
    assert month("2026-09-30") == september_before


def test_a_client_first_seen_in_a_sale_is_managed_by_its_rm_until_a_snapshot(
    bank, tmp_path: Path
) -> None:
    load(tmp_path, TABLES["products"], "utf-8")
    # Listed out of date order: her earliest sale names her RM, not the file's first row.
    first = csv_file(tmp_path, "sales_1.csv", [SALES_HEADER,
        ["T9", "2026-10-15", "0000000555", "000201", "P001", "100"],
        ["T8", "2026-10-09", "0000000555", "000102", "P001", "100"]])  # fmt: skip
    assert services.import_file(path=first, kind="sales").status == BatchStatus.LOADED
    assignments = ClientAssignment.objects.order_by("client_id")
    assert list(assignments.values_list("client_id", "rm_id", "valid_from")) == [
        ("0000000555", "000102", d("2026-10-09"))
    ]

    snapshot = holdings_file(tmp_path, "holdings_2026-10-31.csv", "2026-10-31",
                             [("0000000555", "000101", "A1", "存款", "9")])  # fmt: skip
    assert services.import_file(path=snapshot, kind="holdings").status == BatchStatus.LOADED
    assert ClientSnapshot.objects.get(client_id="0000000555").rm_id == "000101"

    # After her snapshot, another RM's sale to her assigns nothing; a new client still is.
    later = csv_file(tmp_path, "sales_2.csv", [SALES_HEADER,
        ["T10", "2026-11-05", "0000000555", "000201", "P001", "100"],
        ["T11", "2026-11-06", "0000000666", "000201", "P001", "100"]])  # fmt: skip
    assert services.import_file(path=later, kind="sales").status == BatchStatus.LOADED
    assert list(assignments.values_list("client_id", "rm_id", "valid_from")) == [
        ("0000000555", "000102", d("2026-10-09")), ("0000000666", "000201", d("2026-11-06"))
    ]  # fmt: skip


def test_a_corrected_sale_replaces_its_row_and_the_clients_assignment(bank, tmp_path: Path) -> None:
    load(tmp_path, TABLES["products"], "utf-8")
    first = csv_file(tmp_path, "sales_1.csv", [SALES_HEADER,
        ["T1", "2026-10-09", "0000000777", "000101", "P001", "100"],
        ["T2", "2026-10-15", "0000000888", "000201", "P001", "100"],
        ["T3", "2026-10-20", "0000000888", "000102", "P001", "100"]])  # fmt: skip
    assert services.import_file(path=first, kind="sales").status == BatchStatus.LOADED
    # T1 was keyed under the wrong RM; T2 was on a later day, for more, than first reported.
    fixed = csv_file(tmp_path, "sales_2.csv", [SALES_HEADER,
        ["T1", "2026-10-09", "0000000777", "000102", "P001", "100"],
        ["T2", "2026-10-25", "0000000888", "000201", "P001", "2,500.00"]], "utf-8-sig")  # fmt: skip
    batch = services.import_file(path=fixed, kind="sales")

    assert batch.status == BatchStatus.LOADED and batch.rows_replaced == 2
    sales = Sale.objects.order_by("txn_id").values_list("txn_id", "txn_date", "rm_id", "amount")
    assert exact(list(sales)) == [
        ("T1", d("2026-10-09"), "000102", "100.00"), ("T2", d("2026-10-25"), "000201", "2500.00"),
        ("T3", d("2026-10-20"), "000102", "100.00"),
    ]  # fmt: skip
    # Each client is managed by the RM on her first sale as the sales now stand.
    assignments = ClientAssignment.objects.order_by("client_id")
    assert list(assignments.values_list("client_id", "rm_id", "valid_from")) == [
        ("0000000777", "000102", d("2026-10-09")), ("0000000888", "000102", d("2026-10-20"))
    ]  # fmt: skip


# ---------------------------------------------------------------- the sample generator
def summaries(as_of: str) -> list[tuple]:
    return list(
        ClientSnapshot.objects.filter(as_of_date=as_of)
        .order_by("client_id")
        .values_list("client_id", "non_deposit_categories", "holds_trust")
    )


def test_each_snapshot_keeps_its_clients_holdings_summary(bank, tmp_path: Path) -> None:
    path = holdings_file(tmp_path, "holdings_2026-10-31.csv", "2026-10-31", [
        ("0000000001", "000101", "A1", "存款", "100.00"),  # deposits are not counted
        ("0000000001", "000101", "A1", "理财", "1.00"),
        ("0000000001", "000101", "A1", "信托", "5.00"),
        ("0000000002", "000201", "B1", "基金", "0.00"),  # a zero balance is not held
        ("0000000002", "000201", "B1", "保险", "3.00"),
        ("0000000003", "000201", "B1", "存款", "9.00"),
        ("0000000004", "000102", "A2", "信托", "0"),
    ])  # fmt: skip
    assert services.import_file(path=path, kind="holdings").status == BatchStatus.LOADED
    imported = summaries("2026-10-31")
    assert imported == [
        ("0000000001", 2, True), ("0000000002", 1, False),
        ("0000000003", 0, False), ("0000000004", 0, False),
    ]  # fmt: skip
    # The same rule in SQL over the stored balances (crm.holdings) agrees.
    summarise_holdings(connection, d("2026-10-31"))
    assert summaries("2026-10-31") == imported


def data_rows(path: Path, encoding: str) -> int:
    """Rows below the header, counted without the importer's own reader."""
    if path.suffix == ".xlsx":
        sheet = load_workbook(path, read_only=True).worksheets[0]
        filled = [row for row in sheet.iter_rows(values_only=True) if set(row) - {None, ""}]
        return len(filled) - 2  # the title row and the header (the blank row is not filled)
    with open(path, encoding=encoding, newline="") as handle:
        return sum(1 for row in csv.reader(handle) if row) - 1


GENERATOR = dict(rms=6, clients_per_rm=4, months=2, year=2025, seed=7)


@pytest.mark.parametrize(("encoding", "file_format"),
                         [("utf-8", "csv"), ("gb18030", "csv"), ("utf-8", "xlsx")])  # fmt: skip
def test_the_generated_exports_load_whole_into_an_empty_database(
    db, tmp_path: Path, encoding: str, file_format: str
) -> None:
    inbox = tmp_path / "inbox"
    files = write_exports(inbox, encoding=encoding, file_format=file_format, **GENERATOR)
    expected = {path.name: data_rows(path, encoding) for path in files}
    # Every kind but manual scores, which are per quarter: two months complete none.
    assert {kind_from_file_name(name) for name in expected} == set(KINDS) - {"manual_scores"}
    if file_format == "csv":
        again = write_exports(tmp_path / "again", encoding=encoding, **GENERATOR)
        assert [p.read_bytes() for p in again] == [p.read_bytes() for p in files]

    result = services.run_nightly(inbox=inbox, actor_label="test")

    assert result.rejected == [] and sorted(result.loaded) == sorted(expected)
    batches = ImportBatch.objects.values_list("file_name", "status", "rows_loaded")
    assert {name: (status, rows) for name, status, rows in batches} == {
        name: (BatchStatus.LOADED, rows) for name, rows in expected.items()
    }
    assert Employee.objects.filter(position="rm").count() == GENERATOR["rms"]
    assert OrgUnit.objects.filter(level="branch").count() == 3
    # Each month's holdings summary, as the import computed it, is the SQL rule's.
    for as_of in ClientSnapshot.objects.dates("as_of_date", "day"):
        imported = summaries(as_of)
        assert any(categories for _client, categories, _trust in imported)
        summarise_holdings(connection, as_of)
        assert summaries(as_of) == imported


def test_the_same_seed_writes_the_same_files_and_another_seed_others(tmp_path: Path) -> None:
    first = write_exports(tmp_path / "a", rms=3, clients_per_rm=2, months=1, year=2025, seed=3)
    second = write_exports(tmp_path / "b", rms=3, clients_per_rm=2, months=1, year=2025, seed=3)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    other = write_exports(tmp_path / "c", rms=3, clients_per_rm=2, months=1, year=2025, seed=4)
    assert [p.read_bytes() for p in first] != [p.read_bytes() for p in other]
