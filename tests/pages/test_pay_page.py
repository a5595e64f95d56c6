"""HR's pay and talent page (SPEC §7, §8): /hr/pay/, for HR and admins; anyone else 404.

The page reads the same selectors as the API and must show the API's figures to the fen.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scorecards.models import Period
from scorecards.periods import services as period_services
from tests.conftest import approve_period, make_person
from tests.pages.html import parse
from tests.scorecards.test_pay import add_staff, publish_cards
from wealthscore.kernel.access import Role

URL = "/hr/pay/"
PAY_FIELDS = ["total", "rating", "vetoed", "band", "adjustment_pct", "base_pay",
              "adjusted_pay", "flags"]  # fmt: skip


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def scored(bank):
    """2026-Q2 and 2026-Q3 pay cards and a 2026 year card; 2026-Q4 exists, unscored."""
    staff = add_staff(bank)
    publish_cards("2026-Q2", {"00100": ("55.00", False), "00200": ("80.00", False)})
    publish_cards("2026-Q3", {
        "00100": ("58.00", False),  # failed twice in a row: 调岗或待岗培训
        "00200": ("95.00", True),  # vetoed, the total stays
        "00300": ("89.99", False),
        "00400": ("90.00", False),
        "00500": (None, False),  # no total
        "00600": ("92.00", False),  # no base pay
        "000101": ("75.50", False),
        "000201": ("61.25", False),  # Bob, branch B
    })  # fmt: skip
    publish_cards("2026", {
        "00100": ("50.00", False), "00200": ("99.00", True), "00300": ("88.00", False),
        "00400": ("91.00", False), "00600": ("70.00", False), "000101": ("80.00", False),
        "000201": ("85.00", False),
    })  # fmt: skip
    period_services.period_get_or_create("2026-Q4")
    return staff


def page_client(bank, who: str | None, language: str | None = "en") -> Client:
    """A browser of the pages; in English unless told (the texts tests look for)."""
    client = Client(**({"HTTP_ACCEPT_LANGUAGE": language} if language else {}))
    if who is not None:
        client.force_login(bank.users[who])
    return client


# ---------------------------------------------------------------- who may see it
@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("rm_alice", 404), ("manager_a", 404), ("manager_b", 404),
     ("hr", 200), ("compliance", 404), ("admin", 200)],
)  # fmt: skip
def test_the_page_is_for_hr_and_admins_only(scored, who, expected):
    client = page_client(scored, None if who == "anonymous" else who)
    response = client.get(URL, {"period": "2026-Q3"})
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith("/login/")
    if expected == 200:
        assert parse(response).select("table", data_testid="pay-table")


def test_a_post_is_refused(scored):
    assert page_client(scored, "hr").post(URL).status_code == 405


# ---------------------------------------------------------------- what it shows
def test_the_pay_table_shows_the_apis_figures_exactly(scored):
    api = scored.client("hr").get("/api/v1/pay-adjustments/", {"period": "2026-Q3"})
    assert api.status_code == 200
    response = page_client(scored, "hr").get(URL, {"period": "2026-Q3"})
    assert response.status_code == 200
    table = parse(response).one("table", data_testid="pay-table")
    rows = {tr.attrs["data-employee-id"]: tr for tr in table.select("tr", data_employee_id=None)}
    assert set(rows) == {row["employee_id"] for row in api.data["results"]}
    assert len(rows) == 8
    for row in api.data["results"]:
        tr = rows[row["employee_id"]]
        cells = {td.attrs["data-field"]: td for td in tr.select("td", data_field=None)}
        assert set(PAY_FIELDS) <= set(cells)
        for name in ("total", "adjustment_pct", "base_pay", "adjusted_pay"):
            assert cells[name].attrs["data-value"] == (row[name] or ""), (row["employee_id"], name)
        assert cells["rating"].attrs["data-value"] == row["rating"]
        assert cells["band"].attrs["data-value"] == row["band"]
        assert cells["vetoed"].attrs["data-value"] == ("true" if row["vetoed"] else "false")
        assert cells["flags"].attrs["data-value"] == ",".join(row["flags"])
    # The exact strings, as HR's payroll will read them.
    e1, e2, e5, e6 = (rows[key] for key in ("00100", "00200", "00500", "00600"))
    assert e1.one("td", data_field="adjusted_pay").attrs["data-value"] == "21000.00"
    assert e1.one("td", data_field="adjustment_pct").attrs["data-value"] == "-30.00"
    assert e2.one("td", data_field="band").attrs["data-value"] == "vetoed"
    assert e2.one("td", data_field="total").attrs["data-value"] == "95.00"
    assert e5.one("td", data_field="total").attrs["data-value"] == ""
    assert e6.one("td", data_field="adjusted_pay").attrs["data-value"] == ""
    # Formatted text beside the exact value (pay to the fen, never in 万: issue 18 item 5);
    # flags as words, not codes.
    assert e1.one("td", data_field="adjusted_pay").text == "21,000.00 元"
    assert e1.one("td", data_field="adjustment_pct").text == "−30.00%"
    assert "Reassignment or training" in e1.one("td", data_field="flags").text
    assert "consecutive_failure" not in e1.one("td", data_field="flags").text
    assert "No base pay on record" in e6.one("td", data_field="flags").text
    assert "No total" in e5.one("td", data_field="flags").text


def test_the_totals_count_each_band_and_sum_the_adjusted_pay(scored):
    api = scored.client("hr").get("/api/v1/pay-adjustments/", {"period": "2026-Q3"}).data
    totals = parse(page_client(scored, "hr").get(URL, {"period": "2026-Q3"})).one(
        "ul", data_testid="pay-totals"
    )
    counts = {
        li.attrs["data-band"]: li.attrs["data-count"] for li in totals.select("li", data_band=None)
    }
    # 00400 90.00 and 00600 92.00: top; 00300, Alice, Bob: pass; 00100: fail; 00200: vetoed.
    assert counts == {"all": "8", "top": "2", "pass": "3", "fail": "1", "vetoed": "1",
                      "no_total": "1", "flagged": "1"}  # fmt: skip
    from decimal import Decimal

    expected = sum(
        (Decimal(row["adjusted_pay"]) for row in api["results"] if row["adjusted_pay"]),
        Decimal("0.00"),
    )
    assert totals.one("li", data_testid="adjusted-sum").attrs["data-value"] == str(expected)


def test_the_picker_lists_the_quarters_newest_first_and_defaults_to_the_latest_scored(scored):
    # 2026-Q4 exists but has no run: the page opens on 2026-Q3.
    doc = parse(page_client(scored, "hr").get(URL))
    picker = doc.one("select", id="period-picker")
    assert picker.attrs["name"] == "period"
    options = [option.attrs["value"] for option in picker.select("option")]
    assert options == ["2026-Q4", "2026-Q3", "2026-Q2"]
    assert [o.attrs["value"] for o in picker.select("option", selected=None)] == ["2026-Q3"]
    assert doc.one("span", data_testid="period-status").attrs["data-status"] == "open"
    assert doc.select("tr", data_employee_id="00100")
    assert doc.one("form", data_testid="pay-filters").attrs["method"] == "get"
    assert doc.select("button", id="period-go")
    units = [o.attrs["value"] for o in doc.one("select", id="unit-filter").select("option")]
    assert units == ["", "HO", "A", "A1", "A2", "B", "B1"]  # by path, whole bank first


def test_an_unscored_quarter_shows_no_rows_and_says_so(scored):
    doc = parse(page_client(scored, "hr").get(URL, {"period": "2026-Q4"}))
    assert doc.one("span", data_testid="period-status").attrs["data-status"] == "unscored"
    assert doc.select(data_testid="pay-empty") and not doc.select("table", data_testid="pay-table")


def test_the_provisional_banner_shows_until_the_quarter_is_approved(scored):
    client = page_client(scored, "hr")
    banner = parse(client.get(URL, {"period": "2026-Q3"})).one(data_testid="provisional-banner")
    assert banner.attrs["class"] == "banner provisional"
    assert "PROVISIONAL" in banner.text
    period = Period.objects.get(code="2026-Q3")
    approve_period(period, scored.users["admin"])
    doc = parse(client.get(URL, {"period": "2026-Q3"}))
    assert not doc.select(data_testid="provisional-banner")
    assert doc.one("span", data_testid="period-status").attrs["data-status"] == "approved"
    assert doc.select(data_testid="export-xlsx")


def test_the_export_links_name_the_period_and_carry_the_unit(scored):
    client = page_client(scored, "hr")
    doc = parse(client.get(URL, {"period": "2026-Q3"}))
    assert doc.one("a", data_testid="export-xlsx").attrs["href"] == (
        "/api/v1/pay-adjustments/export/?period=2026-Q3&format=xlsx"
    )
    assert doc.one("a", data_testid="export-csv").attrs["href"] == (
        "/api/v1/pay-adjustments/export/?period=2026-Q3&format=csv"
    )
    assert doc.one("a", data_testid="talent-export-xlsx").attrs["href"] == (
        "/api/v1/talent-lists/export/?year=2026&format=xlsx"
    )
    doc = parse(client.get(URL, {"period": "2026-Q3", "unit": "A1"}))
    links = {
        key: doc.one("a", data_testid=key).attrs["href"]
        for key in ("export-xlsx", "export-csv", "talent-export-xlsx", "talent-export-csv")
    }
    assert links == {
        "export-xlsx": "/api/v1/pay-adjustments/export/?period=2026-Q3&format=xlsx&unit=A1",
        "export-csv": "/api/v1/pay-adjustments/export/?period=2026-Q3&format=csv&unit=A1",
        "talent-export-xlsx": "/api/v1/talent-lists/export/?year=2026&format=xlsx&unit=A1",
        "talent-export-csv": "/api/v1/talent-lists/export/?year=2026&format=csv&unit=A1",
    }
    # The unit filters the table too (Bob of B1 is gone), and the links work for HR.
    ids = {
        tr.attrs["data-employee-id"]
        for tr in doc.one(data_testid="pay-table").select("tr", data_employee_id=None)
    }
    assert "000201" not in ids and "000101" in ids
    selected = doc.one("select", id="unit-filter").select("option", selected=None)
    assert [o.attrs["value"] for o in selected] == ["A1"]
    response = client.get(links["export-csv"])
    assert response.status_code == 200
    assert 'filename="pay_2026-Q3_A1_PROVISIONAL.csv"' in response["Content-Disposition"]


def test_the_talent_lists_of_the_quarters_year(scored):
    api = scored.client("hr").get("/api/v1/talent-lists/", {"year": "2026"}).data["results"]
    doc = parse(page_client(scored, "hr").get(URL, {"period": "2026-Q3"}))
    table = doc.one("table", data_testid="talent-table")
    rows = table.select("tr", data_employee_id=None)
    assert [tr.attrs["data-employee-id"] for tr in rows] == [row["employee_id"] for row in api]
    for tr, row in zip(rows, api, strict=True):
        assert tr.one("td", data_field="rank").attrs["data-value"] == str(row["rank"])
        assert tr.one("td", data_field="total").attrs["data-value"] == (row["total"] or "")
        assert tr.one("td", data_field="list").attrs["data-value"] == row["list"]
    # 7 ranked: ceil(1.4) = 2 promoted; the last ceil(0.7) = 1 place is the vetoed RM's.
    by_id = {tr.attrs["data-employee-id"]: tr for tr in rows}
    assert by_id["00400"].one("td", data_field="list").text == "Promotion priority"
    assert by_id["00200"].one("td", data_field="list").text == "Improvement plan"
    counts = {
        li.attrs["data-list"]: li.attrs["data-count"]
        for li in doc.one(data_testid="talent-counts").select("li", data_list=None)
    }
    expected = {key: str(sum(1 for row in api if row["list"] == key))
                for key in ("promotion", "improvement")}  # fmt: skip
    assert counts == {"all": "7", **expected}
    assert counts["promotion"] == "2" and counts["improvement"] == "1"


def test_a_period_that_is_not_a_quarter_is_shown_next_to_the_picker(scored):
    client = page_client(scored, "hr")
    for bad, words in [("2026-10", "Pay is adjusted by quarter"), ("last", "is not a period")]:
        response = client.get(URL, {"period": bad})
        assert response.status_code == 400
        doc = parse(response)
        error = doc.one(data_testid="period-error")
        assert words in error.text
        picker = doc.one("select", id="period-picker")
        assert picker.attrs["aria-describedby"] == "period-error"
        assert picker.one("option", selected=None).attrs["value"] == bad  # what was asked
        assert not doc.select("table", data_testid="pay-table")


def test_an_unknown_unit_is_404(scored):
    assert page_client(scored, "hr").get(URL, {"unit": "NOPE"}).status_code == 404


def test_the_page_is_in_chinese_by_default(scored):
    client = page_client(scored, "hr", language=None)
    response = client.get(URL, {"period": "2026-Q3"})
    assert response.status_code == 200 and response["Content-Language"] == "zh-hans"
    english = client.get(URL, {"period": "2026-Q3"}, HTTP_ACCEPT_LANGUAGE="en")
    assert english["Content-Language"] == "en"
    assert "Pay adjustments and talent lists" in english.content.decode()


# ---------------------------------------------------------------- bounded SQL
def test_the_number_of_queries_does_not_grow_with_the_rms(scored, django_assert_max_num_queries):
    client = page_client(scored, "hr")
    client.get(URL, {"period": "2026-Q3"})  # sessions, caches
    with CaptureQueriesContext(connection) as few:
        client.get(URL, {"period": "2026-Q3"})
    budget = len(few)  # read now: the next request clears the connection's query log
    assert budget <= 20, [q["sql"] for q in few.captured_queries]
    many = {f"0{n:04d}": (f"{50 + n % 50}.00", n % 7 == 0) for n in range(1000, 1060)}
    for employee_id in many:
        make_person(key=f"x{employee_id}", employee_id=employee_id, unit=scored.sub_a2,
                    role=Role.RM)  # fmt: skip
    publish_cards("2026-Q2", dict.fromkeys(many, ("50.00", False)))
    publish_cards("2026-Q3", many)
    publish_cards("2026", many)
    with django_assert_max_num_queries(budget):
        response = client.get(URL, {"period": "2026-Q3"})
    table = parse(response).one(data_testid="pay-table")
    assert len(table.select("tr", data_employee_id=None)) == 60


# ---------------------------------------------------------------- audit (SPEC §9)
def test_reading_the_pay_page_is_audited_as_the_json_list_is(scored):
    from wealthscore.models import AuditEntry

    response = page_client(scored, "hr").get(URL, {"period": "2026-Q3", "unit": "A"})
    assert response.status_code == 200
    pay = AuditEntry.objects.get(action="export.pay")
    talent = AuditEntry.objects.get(action="export.talent")
    assert pay.actor == scored.users["hr"] and pay.object_id == "2026-Q3"
    assert pay.after["format"] == "page" and pay.after["unit"] == "A"
    table = parse(response).one(data_testid="pay-table")
    assert pay.after["count"] == len(table.select("tr", data_employee_id=None)) > 0
    assert talent.object_id == "2026" and talent.after["format"] == "page"
    # A page that shows no pay (a period that cannot be read) records nothing.
    assert page_client(scored, "hr").get(URL, {"period": "2026-13"}).status_code == 400
    assert AuditEntry.objects.filter(action="export.pay").count() == 1
