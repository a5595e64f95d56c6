"""The RM's scorecard page (SPEC §8): /me/, /cards/<employee_id>/ and the facts partial.

Who sees which card is the cards' own scope (Scorecard.objects.visible_to): the RM herself,
managers for their subtree, HR, compliance and admins for all; anything else is 404.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from compliance import services as compliance_services
from crm.models import BatchStatus, ClientSnapshot, ImportBatch, Product, Sale
from scorecards.models import ManualScore, Scorecard
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from tests.conftest import WHO
from tests.pages.html import parse as html
from wealthscore.models import AuditEntry

ALICE, DAN, BOB = "000101", "000102", "000201"


# ---------------------------------------------------------------- a small HTML reader
# ---------------------------------------------------------------- fixtures
def page_client(bank, who: str) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(bank.users[who])
    return client


def manual(bank, key: str, period: str, measure: str = "mentoring", score: str = "80") -> None:
    ManualScore.objects.create(
        period=period, employee=bank.employees[key], measure=measure, score=Decimal(score)
    )


@pytest.fixture
def scored(bank):
    """August and September 2026 and Q3 scored for the three RMs (manual scores only).

    With no facts, two measures apply: mentoring 80 and education events (0 held):
    3.57 × 80 / (3.57 + 2.856) = 44.44, rating D (tests/scorecards/test_scope_matrix.py).
    """
    scheme_services.install_default_scheme()
    for key in ("rm_alice", "rm_dan", "rm_bob"):
        manual(bank, key, "2026-Q3")
    for code in ("2026-08", "2026-09", "2026-Q3"):
        run_services.score_period(period_code=code, trigger="test")
    return bank


def card_id(employee_id: str, period: str) -> int:
    return (
        Scorecard.objects.current()
        .get(employee__employee_id=employee_id, run__period__code=period)
        .pk
    )


# ---------------------------------------------------------------- role × scope
ME = {"anonymous": 302, "rm_alice": 200, "manager_a": 404, "manager_b": 404, "hr": 404,
      "compliance": 404, "admin": 404}  # fmt: skip
ALICE_CARD = {"anonymous": 302, "rm_alice": 200, "manager_a": 200, "manager_b": 404, "hr": 200,
              "compliance": 200, "admin": 200}  # fmt: skip
BOB_CARD = {"anonymous": 302, "rm_alice": 404, "manager_a": 404, "manager_b": 200, "hr": 200,
            "compliance": 200, "admin": 200}  # fmt: skip
ALICE_FACTS = {"anonymous": 302, "rm_alice": 200, "manager_a": 200, "manager_b": 404,
               "hr": 404, "compliance": 200, "admin": 200}  # fmt: skip


@pytest.mark.parametrize("who", WHO)
def test_who_sees_which_card(scored, who):
    client = page_client(scored, who)
    me = client.get("/me/")
    alice = client.get(f"/cards/{ALICE}/")
    bob = client.get(f"/cards/{BOB}/")
    assert (me.status_code, alice.status_code, bob.status_code) == (
        ME[who],
        ALICE_CARD[who],
        BOB_CARD[who],
    )
    if who == "anonymous":
        for response in (me, alice, bob):
            assert response["Location"].startswith("/login/")
        return
    # Out of scope is the same 404 as a person who does not exist or is no RM.
    assert client.get("/cards/999999/").status_code == 404
    assert client.get("/cards/000100/").status_code == 404  # manager_a: not an RM
    if who == "rm_alice":
        # Her own card, by either address, is the same page.
        assert html(me).one(data_testid="card-total").text == "44.44"
        assert html(alice).one(data_testid="card-total").text == "44.44"


@pytest.mark.parametrize("who", WHO)
def test_who_may_open_the_facts_of_a_line(scored, who):
    client = page_client(scored, who)
    url = f"/cards/{card_id(ALICE, '2026-09')}/lines/mentoring/facts/"
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == ALICE_FACTS[who], response.content
    if who == "anonymous":
        assert response["Location"].startswith("/login/")
        return
    if who == "hr":  # the facts do not exist for HR (SPEC §1: 404, never 403)
        return
    if response.status_code == 200:
        assert html(response).one("table", data_testid="facts-table")
        # A line the card does not have, and a card that does not exist, are 404.
        bad = f"/cards/{card_id(ALICE, '2026-09')}/lines/no_such/facts/"
        assert client.get(bad).status_code == 404
    assert client.get("/cards/999999/lines/mentoring/facts/").status_code == 404


# ---------------------------------------------------------------- what the page shows
def test_the_card_shows_total_rating_status_ranks_and_every_line(scored):
    response = page_client(scored, "rm_alice").get("/me/?period=2026-09", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = html(response)
    assert page.one(data_testid="card-total").text == "44.44"
    assert page.one(data_testid="card-rating").text == "D"
    assert page.one(data_testid="card-period").text == "2026-09"
    assert page.one(data_testid="card-status").text == "Open"
    assert not page.select(data_testid="veto-banner")
    # Three RMs with the same total share rank 1; she is alone in her unit.
    assert page.one(data_testid="card-rank").text == "1 / 3"
    assert page.one(data_testid="card-unit-rank").text == "1 / 1"
    assert "张晓三" in page.text and ALICE in page.text and "朝阳支行" in page.text
    assert "理财经理考核方案 2026" in page.text

    card = Scorecard.objects.current().get(employee__employee_id=ALICE, run__period__code="2026-09")
    table = page.one("table", data_testid="lines")
    rows = {row.attrs["data-measure"]: row for row in table.select("tr", data_measure=None)}
    assert list(rows) == [line.measure for line in card.lines.order_by("position")]
    assert len(rows) == 17
    mentoring = [cell.text for cell in rows["mentoring"].select("td")]
    # KPI, measure, value, target, points, weight, weighted, why
    assert mentoring[2:7] == ["80.00", "—", "80.00", "3.57", "44.44"]
    assert "Knowledge sharing and mentoring" in mentoring[1]
    # A line that does not apply says why.
    assert "Not applicable" in rows["nps"].text
    headers = [th.text for th in table.one("thead").select("th")]
    assert headers[:7] == ["KPI", "Measure", "Value", "Target", "Points", "Weight (%)", "Weighted"]
    # One why button per line, each loading its facts into #facts.
    buttons = page.select("button", data_why=None)
    assert [b.attrs["data-why"] for b in buttons] == list(rows)
    assert buttons[0].attrs["hx-target"] == "#facts"
    assert (
        buttons[0].attrs["hx-get"]
        == f"/cards/{card.pk}/lines/{buttons[0].attrs['data-why']}/facts/"
    )
    assert page.one(id="facts")
    # Charts: the containers and their data.
    assert "chart" in page.one(id="trend-chart").attrs["class"]
    assert "chart" in page.one(id="radar-chart").attrs["class"]
    charts = json.loads(page.one("script", id="card-charts").text)
    assert charts["trend"]["months"] == [f"2025-{m:02d}" for m in range(10, 13)] + [
        f"2026-{m:02d}" for m in range(1, 10)
    ]
    totals = dict(zip(charts["trend"]["months"], charts["trend"]["totals"], strict=True))
    assert totals["2026-09"] == "44.44" and totals["2026-08"] is not None
    assert [v for m, v in totals.items() if m not in ("2026-08", "2026-09")] == [None] * 10
    # Radar: only mentoring (teamwork, 80 points) and education events (service, 0) apply.
    assert charts["radar"]["values"] == [None, "0.00", None, "80.00"]


def test_the_page_speaks_chinese_by_default(scored):
    page = html(page_client(scored, "rm_alice").get("/me/?period=2026-09"))
    mentoring = page.one("tr", data_measure="mentoring")
    assert "知识分享与带教" in mentoring.text and "mentoring" in mentoring.text


def test_hr_sees_the_card_but_no_why_button(scored):
    page = html(page_client(scored, "hr").get(f"/cards/{ALICE}/?period=2026-09"))
    assert page.one(data_testid="card-total").text == "44.44"
    assert not page.select("button", data_why=None)
    assert not page.select(id="facts")


def test_a_manager_drills_into_the_same_page(scored):
    mine = html(page_client(scored, "rm_alice").get("/me/?period=2026-Q3"))
    hers = html(page_client(scored, "manager_a").get(f"/cards/{ALICE}/?period=2026-Q3"))
    for hook in ("card-total", "card-rating", "card-period", "card-rank"):
        assert mine.one(data_testid=hook).text == hers.one(data_testid=hook).text
    measures = [r.attrs["data-measure"] for r in hers.select("tr", data_measure=None)]
    assert measures == [r.attrs["data-measure"] for r in mine.select("tr", data_measure=None)]


def test_the_period_picker_lists_her_periods_newest_first_by_kind(scored):
    page = html(page_client(scored, "rm_alice").get("/me/", HTTP_ACCEPT_LANGUAGE="en"))
    form = page.one("form", id="period-form")
    assert form.attrs["method"] == "get" and form.attrs["action"] == "/me/"
    picker = form.one("select", id="period-picker")
    assert picker.attrs["name"] == "period"
    assert form.one("button", id="period-go").attrs["type"] == "submit"
    groups = {g.attrs["label"]: [o.attrs["value"] for o in g.select("option")]
              for g in picker.select("optgroup")}  # fmt: skip
    assert groups == {"Quarters": ["2026-Q3"], "Months": ["2026-09", "2026-08"]}
    assert [o.attrs["value"] for o in picker.select("option", selected=None)] == ["2026-Q3"]


def test_the_default_period_is_her_latest_quarter_else_her_latest_card(bank):
    scheme_services.install_default_scheme()
    client = page_client(bank, "rm_alice")
    # Nothing scored yet: the page says so.
    page = html(client.get("/me/"))
    assert page.one(data_testid="no-card") and not page.select(data_testid="card-total")
    run_services.score_period(period_code="2026-05", trigger="test")
    run_services.score_period(period_code="2026-04", trigger="test")
    assert html(client.get("/me/")).one(data_testid="card-period").text == "2026-05"
    # A quarter card wins over newer months: quarterly scores are the assessment.
    run_services.score_period(period_code="2026-Q1", trigger="test")
    run_services.score_period(period_code="2026-09", trigger="test")
    run_services.score_period(period_code="2026", trigger="test")
    assert html(client.get("/me/")).one(data_testid="card-period").text == "2026-Q1"
    run_services.score_period(period_code="2026-Q2", trigger="test")
    assert html(client.get(f"/cards/{ALICE}/")).one(data_testid="card-period").text == "2026-Q2"
    # An explicit period is shown as asked.
    assert html(client.get("/me/?period=2026-04")).one(data_testid="card-period").text == (
        "2026-04"
    )


@pytest.mark.parametrize("period", ["2025-01", "2026-Q4", "garbage", "2026-13"])
def test_a_period_without_a_card_says_so_with_the_picker(scored, period):
    response = page_client(scored, "rm_alice").get(f"/me/?period={period}")
    assert response.status_code == 200
    page = html(response)
    assert period in page.one(data_testid="no-card").text
    assert page.one("select", id="period-picker").select("option", value="2026-Q3")
    assert not page.select(data_testid="card-total")


def test_a_year_card_shows_the_mean_of_its_quarters_and_the_annual_review(scored):
    for key in ("rm_alice", "rm_dan", "rm_bob"):
        manual(scored, key, "2026", score="90")
    run_services.score_period(period_code="2026", trigger="test")
    card = Scorecard.objects.current().get(employee__employee_id=ALICE, run__period__code="2026")
    page = html(page_client(scored, "rm_alice").get("/me/?period=2026", HTTP_ACCEPT_LANGUAGE="en"))
    assert page.one(data_testid="card-total").text == f"{card.total:.2f}"
    assert page.one(data_testid="card-quarters-mean").text == "44.44"
    review = (card.weighted_score + card.bonus).quantize(Decimal("0.01"))
    assert page.one(data_testid="card-annual-review").text == f"{review:.2f}"
    # The blend is stated beside them (its arithmetic is the engine's, tested there).
    assert "Year total = 60% × mean of the quarters + 40% × annual review score." in page.text


def test_a_vetoed_card_shows_the_banner_its_reason_and_the_computed_total(scored):
    incident = compliance_services.incident_create(
        actor=scored.users["compliance"], employee=scored.employees["rm_alice"],
        type_code="misleading_sales", occurred_on=dt.date(2026, 8, 14),
        description="向C3客户推荐R5产品并承诺保本",
    )  # fmt: skip
    compliance_services.incident_decide(
        incident=incident, actor=scored.users["compliance"], decision="confirm",
        reason="录音证实误导",
    )  # fmt: skip
    client = page_client(scored, "manager_a")
    page = html(client.get(f"/cards/{ALICE}/?period=2026-08", HTTP_ACCEPT_LANGUAGE="en"))
    banner = page.one(data_testid="veto-banner")
    # Its type, date and case number (tests/pages/test_card_veto.py: the rest of the case).
    assert f"Misleading sales 2026-08-14 Case #{incident.pk}" in banner.text
    assert "rated D" in banner.text and "computed total" in banner.text
    assert page.one(data_testid="card-rating").text == "D"
    assert page.one(data_testid="card-total").text == "44.44"  # still shown
    assert page.one(data_testid="card-rank").text == "3 / 3"
    # September is not vetoed; Dan's August card neither.
    assert not html(client.get(f"/cards/{ALICE}/?period=2026-09")).select(data_testid="veto-banner")
    assert not html(client.get(f"/cards/{DAN}/?period=2026-08")).select(data_testid="veto-banner")


# ---------------------------------------------------------------- the facts of a line
def test_the_facts_of_a_line_are_masked_and_the_look_is_audited(scored):
    batch = ImportBatch.objects.create(
        kind="sales", file_name="t.csv", sha256="1" * 64, status=BatchStatus.LOADED
    )
    Product.objects.create(
        product_code="WM01", name="稳健理财", category="wealth", risk_level=2, batch=batch
    )
    ClientSnapshot.objects.create(
        client_id="C0001", as_of_date=dt.date(2026, 8, 31), name="赵钱孙", rm_id=ALICE,
        unit_id="A1", total_balance=Decimal("800000"), client_risk_level=3, batch_id=batch.pk,
    )  # fmt: skip
    Sale.objects.create(
        txn_id="T0001", txn_date=dt.date(2026, 9, 10), client_id="C0001", rm_id=ALICE,
        product_id="WM01", amount=Decimal("150000"), batch_id=batch.pk,
    )  # fmt: skip
    card = card_id(ALICE, "2026-09")
    client = page_client(scored, "rm_alice")
    response = client.get(
        f"/cards/{card}/lines/sales_attainment/facts/",
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert b"<html" not in response.content  # a fragment for the panel
    fragment = html(response)
    table = fragment.one("table", data_testid="facts-table")
    headers = [th.text for th in table.select("th")]
    assert "Client" in headers and "Amount" in headers
    cells = [td.text for td in table.one("tbody").select("td")]
    assert "T0001" in cells and "赵*孙" in cells and "150.00 K" in cells  # English money
    assert "赵钱孙" not in response.content.decode()
    entry = AuditEntry.objects.get(action="scorecard.facts", actor=scored.users["rm_alice"])
    assert entry.object_id == str(card)
    assert entry.after["measure"] == "sales_attainment" and entry.after["rows"] == 1

    # A line with nothing behind it says so.
    empty = html(client.get(f"/cards/{card}/lines/nps/facts/"))
    assert empty.one(data_testid="facts-empty") and not empty.select(data_testid="facts-table")


def test_hr_is_refused_the_facts_and_nothing_is_audited(scored):
    response = page_client(scored, "hr").get(
        f"/cards/{card_id(ALICE, '2026-09')}/lines/sales_attainment/facts/"
    )
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="scorecard.facts").exists()


# ---------------------------------------------------------------- queries
def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["rm_alice", "manager_a", "admin"])
def test_the_page_runs_a_bounded_number_of_queries(scored, who, django_assert_max_num_queries):
    client = page_client(scored, who)
    url = "/me/?period=2026-09" if who == "rm_alice" else f"/cards/{ALICE}/?period=2026-09"
    client.get(url)  # warm the session
    before = _queries(client, url)
    # More months scored: more trend points and more periods in the picker, same queries.
    for code in ("2026-05", "2026-06", "2026-07"):
        run_services.score_period(period_code=code, trigger="test")
    assert _queries(client, url) == before
    # 12, the lines' inquiries and, on the RM's own card, her inquiry window (issue 17),
    # and the last day with facts (is the period running? issue 18).
    with django_assert_max_num_queries(15):
        client.get(url)
    # The facts partial: the card, the service's reads (a handful per measure) and the audit.
    for measure in ("mentoring", "sales_attainment", "nps", "cross_sell_coverage"):
        with django_assert_max_num_queries(20):
            client.get(f"/cards/{card_id(ALICE, '2026-09')}/lines/{measure}/facts/")
