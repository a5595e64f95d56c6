"""The forecast of a running period on a bank built by hand: every figure is worked out in
the comment beside it from the facts the test writes (SPEC §5 "Periods"; the method is in
scorecards/cards/forecast.py).

Q4 2026 runs: facts to 2026-11-30 (a holdings snapshot of that day), October and November
scored. One measure, sales_attainment, linear 0 → target, cap 120, weight 100.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scorecards.cards.forecast import month_fractions, project_line
from tests.pages.html import parse as html
from tests.scorecards.test_scoring import (
    ALICE,
    BOB,
    DAN,
    Book,
    kpi,
    measure,
    publish,
    score,
    set_target,
)
from wealthscore.kernel.periods import parse_period

D = Decimal
Q4 = "2026-Q4"


@pytest.fixture
def running(bank):
    """Every RM's annual sales target 1,200,000 (even: 100,000 a month, 300,000 a quarter).
    To date (Oct + Nov): Alice 60,000 + 90,000; Dan 20,000 + 40,000; Bob 150,000 + 150,000."""
    publish(bank, {"kpis": [kpi("sales", 100, measure("sales_attainment", cap="120"))]})
    book = Book()
    for rm in (ALICE, DAN, BOB):
        set_target(bank, rm, "sales_attainment", 1_200_000)
    for rm, october, november in ((ALICE, 60_000, 90_000), (DAN, 20_000, 40_000),
                                  (BOB, 150_000, 150_000)):  # fmt: skip
        book.sale("2026-10-15", f"C{rm}", rm, october)
        book.sale("2026-11-10", f"C{rm}", rm, november)
    # The last day with facts is the snapshot's, 2026-11-30 (the last sale is 11-10).
    book.snapshot("C999", "2026-11-30", ALICE, 1_000)
    for code in ("2026-10", "2026-11", Q4):
        score(code)
    return bank


def _card(client: Client, employee_id: str) -> dict:
    # In English: the API answers in the request's language (Chinese by default).
    response = client.get(
        f"/api/v1/scorecards/?period={Q4}&employee={employee_id}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    (card,) = response.json()["results"] if "results" in response.json() else response.json()
    return card


def test_the_projection_is_the_hand_computation(running):
    client = Client()
    client.force_login(running.users["admin"])
    alice = _card(client, ALICE)
    # Two of three months have facts: 66.67 %.
    assert alice["as_of"] == "2026-11-30" and alice["elapsed_share"] == "66.67"
    assert alice["total"] == "50.00"  # 150,000 ÷ 300,000, to date
    (line,) = alice["lines"]
    # Due by 11-30: 100,000 + 100,000; pace 150,000 ÷ 200,000 = 75 %.
    assert line["target_to_date"] == "200000.00" and line["pace"] == "75.00"
    # Expected share S = 2/3 (the even profile): 150,000 ÷ 2/3 = 225,000 → 75 points.
    assert line["projected_value"] == "225000.00"
    assert alice["projected_total"] == "75.00" and alice["projected_rating"] == "B"  # B ≥ 75
    # October implies 60,000 ÷ 1/3 = 180,000, November 270,000: December at 60,000 or
    # 90,000 → 210,000 (70 points) to 240,000 (80 points).
    assert (line["projected_low"], line["projected_high"]) == ("210000.00", "240000.00")
    assert (alice["projected_low"], alice["projected_high"]) == ("70.00", "80.00")
    assert alice["forecast_method"] == "seasonal_run_rate"
    assert "distribution" in alice["forecast_method_text"]

    dan = _card(client, DAN)
    # 60,000 ÷ 2/3 = 90,000 → 30 points, D.
    assert dan["total"] == "20.00" and dan["projected_total"] == "30.00"
    assert dan["projected_rating"] == "D"
    bob = _card(client, BOB)
    # 300,000 ÷ 2/3 = 450,000 → 150 points, capped at 120 by the same rule as the card's.
    assert bob["total"] == "100.00" and bob["projected_total"] == "120.00"
    assert bob["lines"][0]["projected_value"] == "450000.00"


def test_a_completed_period_carries_nulls(running):
    client = Client()
    client.force_login(running.users["admin"])
    response = client.get(f"/api/v1/scorecards/?period=2026-10&employee={ALICE}")
    (card,) = response.json()["results"] if "results" in response.json() else response.json()
    assert card["total"] == "60.00"  # 60,000 ÷ 100,000
    for field in ("as_of", "elapsed_share", "projected_total", "projected_low",
                  "projected_high", "forecast_method"):  # fmt: skip
        assert card[field] is None, field
    assert card["lines"][0]["pace"] is None and card["lines"][0]["projected_value"] is None


def test_the_team_page_lists_who_is_projected_below_60(running):
    client = Client()
    client.force_login(running.users["admin"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/team/?period={Q4}")
    assert response.status_code == 200
    page = html(response)
    assert "2026-11-30" in page.one(data_testid="team-running").text
    failing = page.one(data_testid="projected-failing")
    # Dan alone: 30.00 (Alice 75.00, Bob 120.00).
    assert [a.attrs["data-employee-id"] for a in failing.select("a")] == [DAN]
    assert "30.00" in failing.text
    assert len(queries.captured_queries) <= 32, len(queries.captured_queries)


def test_the_card_page_shows_as_of_pace_and_projection(running):
    client = Client()
    client.force_login(running.users["rm_alice"])
    page = html(client.get(f"/me/?period={Q4}"))
    assert "2026-11-30" in page.one(data_testid="card-as-of").text
    assert "66.67%" in page.one(data_testid="card-elapsed").text
    assert page.one(data_testid="card-projected-total").text == "75.00"
    assert "75.00%" in page.one(data_testid="pace-sales_attainment").text
    assert page.one(data_testid="card-forecast-method").attrs["data-method"] == (
        "seasonal_run_rate"
    )
    # A completed month: no running block.
    assert not html(client.get("/me/?period=2026-10")).select(data_testid="running")


# ---------------------------------------------------------------- the method, by hand
def test_last_years_months_blend_with_the_profile():
    # Even plan (1/3 a month) and last year 100, 100, 200 (1/4, 1/4, 1/2): shares 7/24,
    # 7/24, 10/24; after two months S = 14/24, so 140 to date projects to 240.
    fractions = month_fractions(parse_period(Q4), dt.date(2026, 11, 30))
    line = project_line(
        value=D(140), target=D(300), fractions=fractions,
        plan={10: D(100), 11: D(100), 12: D(100)}, last_year={10: D(100), 11: D(100), 12: D(200)},
    )  # fmt: skip
    assert line.expected_share.quantize(D("0.0001")) == (D(14) / 24).quantize(D("0.0001"))
    assert line.projected_value.quantize(D("0.01")) == D("240.00")
    assert line.pace.quantize(D("0.01")) == D("70.00")  # 140 ÷ 200 due
    assert line.seasonal


def test_without_a_target_or_last_year_it_is_the_plain_run_rate_by_months():
    # 2026-11-15: October whole, half of November: 1.5 of 3 months, 50 %; 90 → 180.
    fractions = month_fractions(parse_period(Q4), dt.date(2026, 11, 15))
    assert fractions == {10: D(1), 11: D(15) / D(30), 12: D(0)}
    line = project_line(value=D(90), target=None, fractions=fractions)
    assert line.projected_value == D(180) and line.pace is None and not line.seasonal
    assert line.projected_low is None  # one whole month only: no range


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_the_forecast_costs_the_same_queries_for_one_card_or_many(running):
    client = Client()
    client.force_login(running.users["admin"])
    one = _count(client, f"/api/v1/scorecards/?period={Q4}&employee={ALICE}")
    three = _count(client, f"/api/v1/scorecards/?period={Q4}")
    completed = _count(client, "/api/v1/scorecards/?period=2026-10")
    # The last day with facts, the targets (3), last year's and the RMs' months: 6 more.
    assert one == three <= completed + 6, (one, three, completed)
    team_one = _count(client, f"/team/?period={Q4}&unit=B")  # Bob
    team_two = _count(client, f"/team/?period={Q4}&unit=A")  # Alice and Dan
    assert team_one == team_two, (team_one, team_two)


def test_early_in_a_period_the_months_before_it_steady_the_rate():
    # As of 10-31, one month of Q4: the rate is read over three months, August and
    # September too (no target, no last year: a third of the quarter each). Window: 90 + 120
    # + 60 = 270 over 1/3 + 1/3 + 1/3 = 1 quarter; the rest (2/3) at 270 → 60 + 180 = 240
    # (the run rate of October alone would say 180). Range: August implies 270, September
    # 360, October 180 → 60 + 2/3 × 180 = 180 to 60 + 2/3 × 360 = 300.
    fractions = month_fractions(parse_period(Q4), dt.date(2026, 10, 31))
    line = project_line(
        value=D(60), target=None, fractions=fractions,
        month_values={7: D(999), 8: D(90), 9: D(120), 10: D(60)},
    )  # fmt: skip
    assert line.projected_value == D(240)
    assert (line.projected_low, line.projected_high) == (D(180), D(300))


def test_a_running_year_blends_its_running_quarter_as_projected(running):
    score("2026")
    client = Client()
    client.force_login(running.users["admin"])
    response = client.get(f"/api/v1/scorecards/?period=2026&employee={ALICE}")
    (card,) = response.json()["results"] if "results" in response.json() else response.json()
    # Stored: 60 % × Q4's 50.00 + 40 % × the year line's 150,000 ÷ 1,200,000 = 12.5 → 35.00.
    assert card["total"] == "35.00" and card["elapsed_share"] == "91.67"
    # Projected: Q4 at its projected 75.00, the year line at 150,000 ÷ 11/12 = 163,636.36
    # (13.6364 points): 0.6 × 75 + 0.4 × 13.6364 = 50.45.
    assert card["projected_total"] == "50.45"
