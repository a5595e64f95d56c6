"""Pay adjustments, talent lists and HR's files (SPEC §7)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pandas as pd
import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from compliance import services as compliance
from scorecards.models import (
    ManualScore,
    Period,
    PeriodStatus,
    SchemeVersion,
    Scorecard,
    ScoreRun,
)
from scorecards.pay.outcomes import talent_placings
from scorecards.periods import services as period_services
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from targets.models import Employee
from tests.conftest import WHO, make_person
from wealthscore.kernel.access import Role
from wealthscore.models import AuditEntry

D = Decimal


def publish_cards(code: str, cards: dict[str, tuple[str | None, bool]]) -> Period:
    """A done run of the period with these (total, vetoed) cards, made current: what a
    score run leaves for pay to read."""
    scheme_services.install_default_scheme()
    period = period_services.period_get_or_create(code)
    run = ScoreRun.objects.create(
        period=period, version=SchemeVersion.objects.filter(status="published").first(),
        trigger="test",
        status="done",
    )  # fmt: skip
    for employee_id, (total, vetoed) in cards.items():
        employee = Employee.objects.get(employee_id=employee_id)
        Scorecard.objects.create(
            run=run, employee=employee, unit=employee.unit_on(period.last_day),
            total=None if total is None else D(total), vetoed=vetoed,
            veto_reasons=["误导销售 2026-08-14 (#1)"] if vetoed else [],
            rating="D" if vetoed else "B", no_total_reason="" if total else "no measure",
        )  # fmt: skip
    period.current_run = run
    period.save(update_fields=["current_run"])
    return period


def add_staff(bank):
    """Alice and six more RMs of A1 (E1…E6); E6 has no base pay on record."""
    for n in range(1, 7):
        make_person(key=f"e{n}", employee_id=f"00{n}00", unit=bank.sub_a1, role=Role.RM)
    Employee.objects.filter(employee_id="00600").update(base_performance_pay=None)
    return bank


@pytest.fixture
def staff(bank):
    return add_staff(bank)


def rows_by_id(response) -> dict[str, dict]:
    return {row["employee_id"]: row for row in response.data["results"]}


def test_the_pay_bands_at_their_boundaries(staff):
    publish_cards("2026-Q3", {
        "00100": ("59.99", False), "00200": ("60.00", False), "00300": ("89.99", False),
        "00400": ("90.00", False), "00500": ("95.00", True), "00600": ("92.00", False),
    })  # fmt: skip
    response = staff.client("hr").get("/api/v1/pay-adjustments/?period=2026-Q3")
    assert response.status_code == 200
    assert (response.data["period"], response.data["provisional"]) == ("2026-Q3", True)
    got = {
        key: (row["total"], row["band"], row["adjustment_pct"], row["base_pay"],
              row["adjusted_pay"], row["flags"])
        for key, row in rows_by_id(response).items()
    }  # fmt: skip
    assert got == {
        "00100": ("59.99", "fail", "-30.00", "30000.00", "21000.00", []),
        "00200": ("60.00", "pass", "0.00", "30000.00", "30000.00", []),
        "00300": ("89.99", "pass", "0.00", "30000.00", "30000.00", []),
        "00400": ("90.00", "top", "20.00", "30000.00", "36000.00", []),
        # Vetoed: the failing band whatever the total, which stays shown.
        "00500": ("95.00", "vetoed", "-30.00", "30000.00", "21000.00", []),
        # No base pay on record: no adjusted pay, and the row says why.
        "00600": ("92.00", "top", "20.00", None, None, ["no_base_pay"]),
    }


def test_adjusted_pay_is_to_the_fen_rounded_half_up_once(staff):
    Employee.objects.filter(employee_id="00100").update(base_performance_pay=D("12345.67"))
    Employee.objects.filter(employee_id="00200").update(base_performance_pay=D("0.05"))
    publish_cards("2026-Q3", {"00100": ("91", False), "00200": ("50", False)})
    rows = rows_by_id(staff.client("admin").get("/api/v1/pay-adjustments/?period=2026-Q3"))
    assert rows["00100"]["adjusted_pay"] == "14814.80"  # 12345.67 × 1.2 = 14814.804
    assert rows["00200"]["adjusted_pay"] == "0.04"  # 0.05 × 0.7 = 0.035 → 0.04


def test_two_failing_quarters_in_a_row_are_flagged_across_the_year_end(staff):
    publish_cards("2025-Q4", {"00100": ("55", False), "00200": ("95", True),
                              "00300": ("75", False), "00400": ("40", False)})  # fmt: skip
    publish_cards("2026-Q1", {"00100": ("58", False), "00200": ("40", False),
                              "00300": ("30", False), "00400": ("90", False),
                              "00500": ("10", False)})  # fmt: skip
    rows = rows_by_id(staff.client("hr").get("/api/v1/pay-adjustments/?period=2026-Q1"))
    flagged = {key for key, row in rows.items() if "consecutive_failure" in row["flags"]}
    # 00100 failed both; 00200 was vetoed then failed; 00300 passed before; 00400 passes
    # now; 00500 has no card for 2025-Q4.
    assert flagged == {"00100", "00200"}
    assert rows["00200"]["previous_period"] == "2025-Q4" and rows["00200"]["previous_vetoed"]


def test_pay_bands_are_effective_dated(staff):
    from scorecards.models import PayPolicy

    PayPolicy.objects.create(
        effective_from=dt.date(2026, 7, 1), top_from=D("95"), top_pct=D("25"),
        pass_from=D("65"), pass_pct=D("0"), fail_pct=D("-20"),
    )  # fmt: skip
    publish_cards("2026-Q2", {"00100": ("92", False), "00200": ("62", False)})
    publish_cards("2026-Q3", {"00100": ("92", False), "00200": ("62", False)})
    q2 = rows_by_id(staff.client("hr").get("/api/v1/pay-adjustments/?period=2026-Q2"))
    q3 = rows_by_id(staff.client("hr").get("/api/v1/pay-adjustments/?period=2026-Q3"))
    assert (q2["00100"]["adjustment_pct"], q2["00200"]["adjustment_pct"]) == ("20.00", "0.00")
    assert (q3["00100"]["adjustment_pct"], q3["00200"]["adjustment_pct"]) == ("0.00", "-20.00")


# ---------------------------------------------------------------- talent lists
def lists(totals: list[str | tuple[str, bool]]) -> tuple[list[int], list[int]]:
    """(promotion, improvement) as 1-based positions of the input."""
    entries = [
        (str(i), D(t[0]), t[1]) if isinstance(t, tuple) else (str(i), D(t), False)
        for i, t in enumerate(totals, start=1)
    ]
    placings = talent_placings(entries)
    promotion = sorted(int(k) for k, p in placings.items() if p.promotion)
    improvement = sorted(int(k) for k, p in placings.items() if p.improvement)
    return promotion, improvement


@pytest.mark.parametrize(
    ("totals", "promotion", "improvement"),
    [
        # N = 1: one place is both the first 20 % and the last 10 %; promotion stands.
        (["80"], [1], []),
        # N = 3: ceil(0.6) = 1 first place, ceil(0.3) = 1 last place.
        (["90", "80", "70"], [1], [3]),
        # N = 10: 2 first places, 1 last.
        ([str(100 - i) for i in range(10)], [1, 2], [10]),
        # N = 11: ceil(2.2) = 3 first places, ceil(1.1) = 2 last.
        ([str(100 - i) for i in range(11)], [1, 2, 3], [10, 11]),
        # A tie across the 20 % boundary (2nd and 3rd of 10) takes both in.
        (["99", "95", "95", "90", "89", "88", "87", "86", "85", "84"], [1, 2, 3], [10]),
        # A tie across the 10 % boundary (9th and 10th of 10) takes both in.
        (["99", "98", "97", "96", "95", "94", "93", "92", "80", "80"], [1, 2], [9, 10]),
        # A vetoed RM ranks last, is never promoted, and is always on the improvement plan.
        ([("99", True), "98", "97", "96", "95", "94", "93", "92", "91", "90"], [2, 3], [1]),
        # Every vetoed RM, however many: the last 10 % and the vetoed together.
        (["99", ("98", True), "97", ("96", True), "95", "94", "93", "92", "91", "90"],
         [1, 3], [2, 4]),
    ],
)  # fmt: skip
def test_talent_lists_take_the_first_20_and_last_10_per_cent_with_ties(
    totals, promotion, improvement
):
    assert lists(totals) == (promotion, improvement)


def test_talent_lists_bank_wide_and_per_branch(staff):
    publish_cards("2026", {
        "000101": ("88", False), "000102": ("70", False), "000201": ("95", False),
        "00100": ("60", True), "00200": ("91", False),
    })  # fmt: skip
    bank_wide = staff.client("hr").get("/api/v1/talent-lists/?year=2026")
    assert bank_wide.status_code == 200
    ranking = [(r["rank"], r["employee_id"], r["list"]) for r in bank_wide.data["results"]]
    # N = 5: 1 first place, 1 last place; the vetoed RM is last and on the plan.
    assert ranking == [(1, "000201", "promotion"), (2, "00200", ""), (3, "000101", ""),
                       (4, "000102", ""), (5, "00100", "improvement")]  # fmt: skip
    branch_a = staff.client("hr").get("/api/v1/talent-lists/?year=2026&unit=A")
    ranking = [(r["rank"], r["employee_id"], r["list"]) for r in branch_a.data["results"]]
    assert ranking == [(1, "00200", "promotion"), (2, "000101", ""), (3, "000102", ""),
                       (4, "00100", "improvement")]  # fmt: skip


# ---------------------------------------------------------------- files
def read_xlsx(content: bytes):
    return load_workbook(io.BytesIO(content)).active


def test_the_xlsx_holds_numbers_as_numbers_no_formula_and_the_apis_figures(staff):
    Employee.objects.filter(employee_id="00100").update(name='=HYPERLINK("http://x")')
    Employee.objects.filter(employee_id="00200").update(
        name="+86 张三", base_performance_pay=D("12345.67")
    )
    publish_cards("2026-Q3", {"00100": ("59.99", False), "00200": ("91.50", False),
                              "00300": ("75", True), "00600": (None, False)})  # fmt: skip
    client = staff.client("hr")
    api = rows_by_id(client.get("/api/v1/pay-adjustments/?period=2026-Q3"))
    response = client.get("/api/v1/pay-adjustments/export/?period=2026-Q3&format=xlsx")
    assert response.status_code == 200
    assert 'filename="pay_2026-Q3_PROVISIONAL.xlsx"' in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    sheet = read_xlsx(content)
    assert sheet["A1"].value.startswith("PROVISIONAL")
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref == "A3:O7"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    header = [cell.value for cell in sheet[3]]
    assert not any("客户" in h for h in header)  # no client-level data in an HR file
    for row in sheet.iter_rows(min_row=4):
        record = dict(zip(header, row, strict=True))
        ours = api[record["员工号"].value]
        for column, field, scale in [("季度总分", "total", 1), ("调整比例", "adjustment_pct", 100),
                                     ("绩效工资基数", "base_pay", 1),
                                     ("调整后绩效工资", "adjusted_pay", 1)]:  # fmt: skip
            cell = record[column]
            if ours[field] is None:
                assert cell.value is None, (column, ours)
                continue
            assert cell.data_type == "n", column
            assert D(str(cell.value)) * scale == D(ours[field]), (column, cell.value, ours)
        assert record["员工号"].data_type == "s"
    names = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=4)}
    assert names["00100"] == '\'=HYPERLINK("http://x")' and names["00200"] == "'+86 张三"
    assert sheet["K4"].number_format == "0.00%" and sheet["L4"].number_format == "#,##0.00"

    # pandas with calamine reads the same numbers, and IDs keep their leading zeros.
    frame = pd.read_excel(io.BytesIO(content), engine="calamine", header=2, dtype={"员工号": str})
    by_id = frame.set_index("员工号")
    assert D(str(by_id.loc["00200", "调整后绩效工资"])) == D(api["00200"]["adjusted_pay"])
    assert D(str(by_id.loc["00100", "调整比例"])) * 100 == D("-30.00")

    # The JSON list read above is audited under the same action, as format "json".
    listed, audit = AuditEntry.objects.filter(action="export.pay").order_by("id")
    assert (listed.after["format"], listed.after["rows"], listed.after["count"]) == ("json", 4, 4)
    assert (audit.actor, audit.object_id) == (staff.users["hr"], "2026-Q3")
    assert audit.after["rows"] == 4 and audit.after["format"] == "xlsx"
    assert audit.after["provisional"] is True


def test_the_csv_is_for_systems_header_first_codes_and_a_status_column(staff):
    Employee.objects.filter(employee_id="00100").update(name="@SUM(1)")
    period = publish_cards("2026-Q3", {"00100": ("59.99", False), "00200": ("91.50", False)})
    Period.objects.filter(pk=period.pk).update(status=PeriodStatus.APPROVED)
    client = staff.client("admin")
    api = rows_by_id(client.get("/api/v1/pay-adjustments/?period=2026-Q3"))
    response = client.get("/api/v1/pay-adjustments/export/?period=2026-Q3&format=csv")
    assert 'filename="pay_2026-Q3.csv"' in response["Content-Disposition"]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = b"".join(response.streaming_content)
    assert not raw.startswith(b"\xef\xbb\xbf")  # a BOM would become part of the first name
    lines = raw.decode("utf-8").splitlines()
    assert lines[0] == (
        "employee_id,name,unit_code,unit_name,period,total,rating,vetoed,veto_reasons,band,"
        "adjustment_pct,base_pay,adjusted_pay,previous_total,flags,period_status,status"
    )
    assert lines[1] == (
        "00100,'@SUM(1),A1,朝阳支行,2026-Q3,59.99,B,false,,fail,-30.00,30000.00,21000.00,,,"
        "approved,final"
    )
    # What a loader does with it: every ID keeps its zeros, every figure is the API's.
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    assert list(frame["employee_id"]) == sorted(api) and len(frame) == len(api)
    for record in frame.to_dict("records"):
        ours = api[record["employee_id"]]
        for field in ("total", "adjustment_pct", "base_pay", "adjusted_pay"):
            assert record[field] == (ours[field] or ""), (field, record, ours)


def test_the_csv_in_gb18030_says_provisional_on_every_row(staff):
    Employee.objects.filter(employee_id="00200").update(name="𠀀张三")  # outside the BMP too
    publish_cards("2026-Q3", {"00100": ("59.99", False), "00200": ("91.50", False)})
    response = staff.client("hr").get(
        "/api/v1/pay-adjustments/export/?period=2026-Q3&format=csv&encoding=gb18030"
    )
    assert response["Content-Type"] == "text/csv; charset=gb18030"
    raw = b"".join(response.streaming_content)
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, encoding="gb18030", keep_default_na=False)
    assert set(frame["status"]) == {"provisional"} and set(frame["period_status"]) == {"open"}
    assert dict(zip(frame["employee_id"], frame["name"], strict=True))["00200"] == "𠀀张三"
    bad = staff.client("hr").get(
        "/api/v1/pay-adjustments/export/?period=2026-Q3&format=csv&encoding=latin-1"
    )
    assert bad.status_code == 400


def test_the_commands_write_the_path_asked_for_and_say_provisional(staff, tmp_path):
    publish_cards("2026-Q3", {"00100": ("70", False)})
    publish_cards("2026", {"00100": ("70", False), "00200": ("80", False)})
    out = io.StringIO()
    call_command("export_pay", period="2026-Q3", out=str(tmp_path / "pay_q3.xlsx"), stdout=out)
    assert "Wrote 1 rows" in out.getvalue() and "PROVISIONAL" in out.getvalue()
    sheet = read_xlsx((tmp_path / "pay_q3.xlsx").read_bytes())
    assert sheet["A1"].value.startswith("PROVISIONAL") and sheet["A4"].value == "00100"
    call_command(
        "export_pay", period="2026-Q3", out=str(tmp_path / "pay_q3.csv"), encoding="gb18030",
        stdout=out,
    )  # fmt: skip
    frame = pd.read_csv(tmp_path / "pay_q3.csv", dtype=str, encoding="gb18030")
    assert list(frame["employee_id"]) == ["00100"] and list(frame["status"]) == ["provisional"]
    call_command("export_talent", year=2026, out=str(tmp_path / "talent.csv"), stdout=out)
    talent = pd.read_csv(tmp_path / "talent.csv", dtype=str, keep_default_na=False)
    assert list(talent["employee_id"]) == ["00200", "00100"] and list(talent["rank"]) == ["1", "2"]
    assert talent["list"][0] == "promotion" and set(talent["status"]) == {"provisional"}
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "pay_q3.csv", "pay_q3.xlsx", "talent.csv"
    ]  # fmt: skip
    assert AuditEntry.objects.filter(action__in=["export.pay", "export.talent"],
                                     actor_label__startswith="command:").count() == 3  # fmt: skip


def test_bad_requests_say_what_is_wrong(staff):
    client = staff.client("hr")
    for url, field in [
        ("/api/v1/pay-adjustments/", "period"),
        ("/api/v1/pay-adjustments/?period=2026-09", "period"),
        ("/api/v1/pay-adjustments/?period=nonsense", "period"),
        ("/api/v1/pay-adjustments/export/?period=2026-Q3&format=pdf", "format"),
        ("/api/v1/talent-lists/?year=26", "year"),
    ]:
        response = client.get(url)
        assert response.status_code == 400 and field in response.data["fields"], url
    assert not AuditEntry.objects.filter(action__startswith="export.").exists()


# ---------------------------------------------------------------- scope and vetoes


@pytest.mark.parametrize("who", WHO)
def test_pay_and_talent_are_for_hr_and_admins_only(staff, who):
    publish_cards("2026-Q3", {"000101": ("80", False)})
    publish_cards("2026", {"000101": ("80", False)})
    client = staff.client(None if who == "anonymous" else who)
    expected = {"anonymous": 401, "hr": 200, "admin": 200}.get(who, 404)
    for url in ["/api/v1/pay-adjustments/?period=2026-Q3",
                "/api/v1/pay-adjustments/export/?period=2026-Q3&format=xlsx",
                "/api/v1/pay-adjustments/export/?period=2026-Q3&format=csv",
                "/api/v1/talent-lists/?year=2026",
                "/api/v1/talent-lists/export/?year=2026&format=xlsx"]:  # fmt: skip
        assert client.get(url).status_code == expected, url
        # A role the endpoint is not for gets 404 whatever the method, OPTIONS included.
        for method in ("options", "post", "put", "delete"):
            other = getattr(client, method)(url).status_code
            assert other == {200: 200 if method == "options" else 405}.get(expected, expected)
    # Three files and two JSON lists (the same data a page at a time): all audited.
    exports = AuditEntry.objects.filter(action__startswith="export.")
    assert exports.count() == (5 if expected == 200 else 0)
    assert exports.filter(after__format="json").count() == (2 if expected == 200 else 0)


def test_a_confirmed_veto_puts_her_quarter_in_the_failing_band(bank):
    scheme_services.install_default_scheme()
    for key in ("rm_alice", "rm_dan", "rm_bob"):
        ManualScore.objects.create(period="2026-Q3", employee=bank.employees[key],
                                   measure="mentoring", score=D("95"))  # fmt: skip
    run_services.score_period(period_code="2026-Q3", trigger="test")
    before = rows_by_id(bank.client("hr").get("/api/v1/pay-adjustments/?period=2026-Q3"))
    assert before["000101"]["band"] != "vetoed"
    incident = compliance.incident_create(
        actor=bank.users["compliance"], employee=bank.employees["rm_alice"],
        type_code="misleading_sales", occurred_on=dt.date(2026, 8, 14), description="误导",
    )  # fmt: skip
    compliance.incident_decide(incident=incident, actor=bank.users["compliance"],
                               decision="confirm", reason="属实")  # fmt: skip
    after = rows_by_id(bank.client("hr").get("/api/v1/pay-adjustments/?period=2026-Q3"))
    alice = after["000101"]
    assert (alice["band"], alice["adjustment_pct"], alice["vetoed"]) == ("vetoed", "-30.00", True)
    assert alice["total"] == before["000101"]["total"]
    assert alice["adjusted_pay"] == "21000.00"
    assert after["000102"] == before["000102"]
