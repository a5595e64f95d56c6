"""The "why" of every line (issue 18): for each measure, the facts API lists exactly the rows
the line's value was computed from, and its summary recomputes the stored value from them.

Each test builds a small bank by hand (tests/scorecards/test_scoring.py's `Book`), scores
Q3 2026 with the default scheme (or a scheme of the library measures), opens the line's facts
as the RM would, and checks: the listed rows are the expected ones (by their IDs), the count
adds up, and summary.value equals the line's stored value, to its 10 places.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scorecards.models import ScoreRun
from scorecards.rules import rules_of
from scorecards.runs.facts import line_facts
from tests.scorecards.test_scoring import (
    ALICE,
    BOB,
    DAN,
    Book,
    aum_book,
    card_of,
    kpi,
    line_of,
    manual,
    measure,
    publish,
    score,
)
from wealthscore.kernel.periods import parse_period
from wealthscore.models import AuditEntry

D = Decimal


@pytest.fixture
def book(bank) -> Book:
    return Book()


def facts(bank, run: ScoreRun, code: str, employee_id: str = ALICE) -> dict:
    """The line's facts through the API, as its RM opens them."""
    who = {ALICE: "rm_alice", BOB: "rm_bob", DAN: "rm_dan"}[employee_id]
    card = card_of(run, employee_id)
    response = bank.client(who).get(
        f"/api/v1/scorecards/{card.pk}/lines/{code}/facts/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200, response.content
    return response.json()


def adds_up(bank, run: ScoreRun, code: str, key: str, expected: list, employee_id=ALICE):
    """The rows are exactly `expected` (values of `key`, in order), the count is theirs, and
    the summary's value is the line's."""
    body = facts(bank, run, code, employee_id)
    assert [row[key] for row in body["rows"]] == expected, body["rows"]
    assert body["count"] == len(expected) and body["truncated"] is False
    stored = line_of(run, employee_id, code).value
    summary = body["summary"]
    recomputed = None if summary["value"] is None else D(summary["value"])
    assert recomputed == stored, (code, summary, stored)
    assert summary["formula"]
    return body


# ================================================================ sales
def sales_book(book: Book) -> None:
    book.product("FIP", risk=2, tag="fixed_income_plus")
    book.product("PEN", risk=3, tag="pension")
    book.product("ODD", risk=2, tag="固收")  # free text that is no strategic tag
    book.snapshot("C1", "2026-06-30", ALICE, 1_000_000, risk=3)
    book.snapshot("C5", "2026-06-30", ALICE, 1_000_000, risk=2)
    book.sale("2026-07-10", "C1", ALICE, 1_200_000, product="FIP", fee=1_000)  # T000001
    book.sale("2026-09-30", "C1", ALICE, 1_500_000, product="P_R4", fee="250.50")  # T000002
    book.sale("2026-06-30", "C1", ALICE, 800_000)  # T000003: before Q3
    book.sale("2026-10-01", "C1", ALICE, 900_000)  # T000004: after Q3
    book.sale("2026-08-01", "C2", BOB, 3_900_000, product="PEN")  # T000005: Bob's
    # Dan keys a sale for Alice's client: under the managing-RM basis it is Alice's.
    book.sale("2026-08-05", "C5", DAN, 300_000, product="ODD")  # T000006
    # A client no snapshot knows: Alice's own sale, of unknown client risk.
    book.sale("2026-09-01", "C9", ALICE, 100_000, product="PEN")  # T000007


def test_sales_attainment_lists_the_credited_sales_with_product_names(bank, book):
    sales_book(book)
    run = score()
    body = adds_up(bank, run, "sales_attainment", "txn_id",
                   ["T000001", "T000006", "T000007", "T000002"])  # fmt: skip
    # 1,200,000 + 300,000 + 100,000 + 1,500,000.
    assert body["summary"]["value"] == "3100000.0000000000"
    assert body["summary"]["method"] == "sum"
    assert body["rows"][0]["product_name"] == "FIP" and body["rows"][1]["keyed_by"] == DAN
    assert body["rows"][0]["client_name"] == "客**1"  # 客户C1, masked


def test_fee_income_sums_the_fees_of_the_credited_sales(bank, book):
    sales_book(book)
    publish(bank, {"kpis": [kpi("fees", 100, measure("fee_income"))]})
    run = score()
    body = adds_up(bank, run, "fee_income", "txn_id", ["T000001", "T000006", "T000007", "T000002"])
    assert D(body["summary"]["value"]) == D("1250.50")  # a sale with no fee counts 0
    assert body["rows"][0]["fee_income"] == "1000.00" and body["rows"][1]["fee_income"] is None


def test_suitability_match_compares_product_and_client_risk_sale_by_sale(bank, book):
    sales_book(book)
    run = score()
    body = adds_up(bank, run, "suitability_match", "txn_id",
                   ["T000001", "T000006", "T000007", "T000002"])  # fmt: skip
    # R2 to C3 matched, R2 to C2 matched, C9 of unknown risk not checked, R4 to C3 not: 2 / 3.
    assert [row["matched"] for row in body["rows"]] == [True, True, None, False]
    summary = body["summary"]
    assert (summary["numerator"], summary["denominator"]) == ("2.00", "3.00")
    assert summary["formula"].endswith("= 66.67%")


def test_strategic_sales_lists_only_the_strategic_sales(bank, book):
    sales_book(book)
    run = score()
    # The untagged R4 sale and the 固收 one (a tag outside the catalog) are absent.
    body = adds_up(bank, run, "strategic_sales", "txn_id", ["T000001", "T000007"])
    assert [row["strategic_tag"] for row in body["rows"]] == ["fixed_income_plus", "pension"]
    assert D(body["summary"]["value"]) == D(1_300_000)


# ================================================================ balances
def test_aum_net_growth_lists_the_clients_managed_at_the_end(bank, book):
    aum_book(book)
    run = score()
    body = adds_up(bank, run, "aum_net_growth", "client_id", ["C1", "C3", "C2"])
    # C1 +20,000, C3 −5,000, C2 new +200,000 = 215,000 (C4 moved to Dan: his).
    assert [row["balance_change"] for row in body["rows"]] == ["20000.00", "-5000.00", "200000.00"]
    assert body["as_of"] == "2026-09-30"
    adds_up(bank, run, "aum_net_growth", "client_id", ["C4"], employee_id=DAN)


def test_aum_existing_uplift_lists_the_clients_with_balances_at_both_ends(bank, book):
    aum_book(book)
    run = score()
    body = adds_up(bank, run, "aum_existing_uplift", "client_id", ["C1", "C3"])  # C2 is new
    summary = body["summary"]
    # (1,020,000 + 495,000) / (1,000,000 + 500,000) − 1 = 1 %.
    assert (summary["numerator"], summary["denominator"]) == ("1515000.00", "1500000.00")
    assert summary["method"] == "uplift"


def test_new_hnw_clients_lists_those_hnw_at_the_end_only(bank, book):
    book.snapshot("N1", "2026-06-30", ALICE, 5_000_000)
    book.snapshot("N1", "2026-09-30", ALICE, 6_500_000)  # new HNW
    book.snapshot("N2", "2026-09-30", ALICE, 7_000_000)  # new client, HNW: new HNW
    book.snapshot("N3", "2026-06-30", ALICE, 8_000_000)
    book.snapshot("N3", "2026-09-30", ALICE, 9_000_000)  # HNW already
    book.snapshot("N4", "2026-09-30", ALICE, 100_000)
    publish(bank, {"kpis": [kpi("new_hnw", 100, measure("new_hnw_clients"))]})
    run = score()
    body = adds_up(bank, run, "new_hnw_clients", "client_id", ["N2", "N1"])
    assert D(body["summary"]["value"]) == 2 and all(row["new_hnw"] for row in body["rows"])


def test_client_points_lists_every_client_with_its_tier_and_points(bank, book):
    book.snapshot("P1", "2026-06-30", ALICE, 1)
    book.snapshot("P1", "2026-09-30", ALICE, 6_000_000)  # HNW: 3
    book.snapshot("P2", "2026-09-30", ALICE, 500_000)  # affluent: 2
    book.snapshot("P3", "2026-09-30", ALICE, 499_999)  # mass: 1
    book.snapshot("P4", "2026-09-30", ALICE, 10)  # mass: 1
    publish(bank, {"kpis": [kpi("points", 100, measure("client_points"))]})
    run = score()
    body = adds_up(bank, run, "client_points", "client_id", ["P1", "P2", "P3", "P4"])
    assert [row["points"] for row in body["rows"]] == [3, 2, 1, 1]
    assert D(body["summary"]["value"]) == 7
    assert [p["value"] for p in body["summary"]["parts"]] == ["1.00", "1.00", "2.00"]


def test_family_trust_clients_lists_the_clients_holding_a_trust(bank, book):
    for client in ("F1", "F2", "F3"):
        book.snapshot(client, "2026-09-30", ALICE, 1_000_000)
    book.holding("F1", "2026-09-30", "trust", 100)
    book.holding("F2", "2026-09-30", "trust", 0)  # a zero balance is not held
    book.holding("F3", "2026-09-30", "fund", 100)
    publish(bank, {"kpis": [kpi("trust", 100, measure("family_trust_clients"))]})
    run = score()
    adds_up(bank, run, "family_trust_clients", "client_id", ["F1"])


def test_cross_sell_coverage_lists_each_client_with_the_categories_held(bank, book):
    for client in ["X1", "X2", "X3", "X4"]:
        book.snapshot(client, "2026-09-30", ALICE, 1_000_000)
    holdings = [
        ("X1", "deposit", 100), ("X1", "fund", 50), ("X1", "insurance", 30),  # 2: counts
        ("X2", "deposit", 500), ("X2", "fund", 20),  # 1 non-deposit: no
        ("X3", "fund", 10), ("X3", "insurance", 0),  # a zero balance is not held: no
        ("X4", "wealth", 1), ("X4", "bond", 1), ("X4", "trust", 1),  # 3: counts
    ]  # fmt: skip
    for client, category, balance in holdings:
        book.holding(client, "2026-09-30", category, balance)
    run = score()
    body = adds_up(bank, run, "cross_sell_coverage", "client_id", ["X4", "X1", "X2", "X3"])
    rows = {row["client_id"]: row for row in body["rows"]}
    assert rows["X4"]["categories"] == ["bond", "trust", "wealth"]
    assert rows["X1"]["categories"] == ["fund", "insurance"] and rows["X1"]["cross_sold"]
    assert rows["X3"]["non_deposit_categories"] == 1 and not rows["X3"]["cross_sold"]
    summary = body["summary"]
    assert (summary["numerator"], summary["denominator"]) == ("2.00", "4.00")


def test_hnw_visit_coverage_lists_the_hnw_clients_and_their_visits(bank, book):
    book.snapshot("H1", "2026-09-30", ALICE, 8_000_000)
    book.snapshot("H2", "2026-09-30", ALICE, "6000000.00")  # exactly the threshold: HNW
    book.snapshot("H3", "2026-09-30", ALICE, 7_000_000)
    book.snapshot("N1", "2026-09-30", ALICE, "5999999.99")  # not HNW: not listed
    book.activity("2026-08-10", ALICE, "visit", "H1")
    book.activity("2026-09-05", BOB, "visit", "H1")  # anyone's visit covers her
    book.activity("2026-06-20", ALICE, "visit", "H3")  # before the quarter
    book.activity("2026-08-01", ALICE, "call", "H3")  # a call is not a visit
    book.activity("2026-09-01", ALICE, "visit", "N1")
    run = score()
    body = adds_up(bank, run, "hnw_visit_coverage", "client_id", ["H1", "H3", "H2"])
    assert [(row["visits"], row["covered"]) for row in body["rows"]] == [
        (2, True), (0, False), (0, False)
    ]  # fmt: skip
    assert all(row["tier"] == "hnw" for row in body["rows"])


def test_dormant_activation_lists_the_dormant_clients_and_the_sale_that_woke_them(bank, book):
    book.snapshots(["K1", "K2", "E1", "E2", "W1"], "2026-06-30", ALICE)
    book.sale("2026-01-01", "E1", ALICE, 1_000)  # 181 days before 07-01: still dormant
    book.sale("2026-01-02", "E2", ALICE, 1_000)  # 180 days before: not dormant
    book.sale("2026-03-01", "W1", ALICE, 1_000)  # active: not listed
    book.sale("2026-08-05", "K1", DAN, 5_000)  # T000004 activates K1 (whoever keyed it)
    book.sale("2026-09-01", "K1", ALICE, 5_000)
    book.sale("2026-09-01", "W1", ALICE, 5_000)
    book.sale("2026-10-02", "K2", ALICE, 5_000)  # after Q3: K2 stays dormant
    run = score()
    body = adds_up(bank, run, "dormant_activation", "client_id", ["K1", "E1", "K2"])
    k1, e1, k2 = body["rows"]
    assert (k1["activated"], k1["activating_txn_id"], k1["activating_date"]) == (
        True, "T000004", "2026-08-05"
    )  # fmt: skip
    assert e1["last_sale_before"] == "2026-01-01" and not e1["activated"]
    assert k2["last_sale_before"] is None and k2["activating_date"] is None
    assert body["as_of"] == "2026-06-30"


# ================================================================ activities, surveys, checks
def test_nps_lists_the_surveys_with_their_group(bank, book):
    for score_ in [10, 9, 9, 8, 7, 3]:
        book.survey("2026-08-01", "C1", ALICE, score_)  # S000001 .. S000006
    book.survey("2026-06-30", "C1", ALICE, 0)  # Q2: not listed
    run = score()
    body = adds_up(bank, run, "nps", "response_id", [f"S{n:06d}" for n in range(1, 7)])
    assert [row["nps_group"] for row in body["rows"]] == [
        "promoter", "promoter", "promoter", "passive", "passive", "detractor"
    ]  # fmt: skip
    assert [p["value"] for p in body["summary"]["parts"]] == ["3.00", "2.00", "1.00"]


def test_nps_under_5_responses_has_no_value_and_says_why(bank, book):
    for score_ in [10, 10, 10, 10]:
        book.survey("2026-07-15", "C3", ALICE, score_)
    run = score()
    body = adds_up(bank, run, "nps", "response_id", [f"S{n:06d}" for n in range(1, 5)])
    assert body["summary"]["value"] is None and "fewer than 5" in body["summary"]["reason"]


def test_plan_adoption_lists_proposals_and_adoptions(bank, book):
    for kind in ["plan_proposed"] * 4 + ["plan_adopted"] * 3 + ["visit"]:
        book.activity("2026-08-01", ALICE, kind)
    run = score()
    body = adds_up(bank, run, "plan_adoption", "activity_id", [f"A{n:06d}" for n in range(1, 8)])
    summary = body["summary"]
    assert (summary["numerator"], summary["denominator"]) == ("3.00", "4.00")


def test_education_events_lists_the_events(bank, book):
    book.activity("2026-07-01", ALICE, "education_event")
    book.activity("2026-09-30", ALICE, "education_event")
    book.activity("2026-08-01", ALICE, "plan_proposed")  # not an event
    book.activity("2026-10-01", ALICE, "education_event")  # after Q3
    run = score()
    body = adds_up(bank, run, "education_events", "activity_id", ["A000001", "A000002"])
    assert body["summary"]["method"] == "count"


def test_script_compliance_lists_the_checks(bank, book):
    book.recordings("2026-08-01", ALICE, compliant=3, not_compliant=1)  # R000001 .. R000004
    book.recordings("2026-08-01", BOB, compliant=1)  # Bob's: not listed
    run = score()
    body = adds_up(bank, run, "script_compliance", "check_id", [f"R{n:06d}" for n in range(1, 5)])
    assert [row["compliant"] for row in body["rows"]] == [True, True, True, False]


def test_complaint_rate_lists_the_complaints_and_counts_the_managed_clients(bank, book):
    book.snapshots(["M1", "M2", "M3", "M4"], "2026-09-30", ALICE)
    book.complaint("2026-07-05", "M1", ALICE)  # C000001
    book.complaint("2026-09-20", "M2", ALICE, "2026-09-25")  # C000002
    book.complaint("2026-06-20", "M2", ALICE)  # Q2: not listed
    run = score()
    body = adds_up(bank, run, "complaint_rate", "complaint_id", ["C000001", "C000002"])
    summary = body["summary"]
    # 1000 × 2 / 4 = 500 per thousand clients.
    assert (summary["numerator"], summary["denominator"]) == ("2.00", "4.00")
    assert summary["method"] == "per_thousand"


def test_complaint_resolution_lists_the_complaints_and_whether_closed_in_15_days(bank, book):
    book.complaint("2026-07-01", "M1", ALICE, "2026-07-16")  # 15 days: in time
    book.complaint("2026-08-01", "M2", ALICE, "2026-08-17")  # 16 days: late
    book.complaint("2026-09-01", "M3", ALICE)  # still open
    run = score()
    body = adds_up(bank, run, "complaint_resolution", "complaint_id",
                   ["C000001", "C000002", "C000003"])  # fmt: skip
    assert [(row["days_to_close"], row["closed_in_time"]) for row in body["rows"]] == [
        (15, True), (16, False), (None, False)
    ]  # fmt: skip


def test_facts_stay_masked_scoped_and_audited(bank, book):
    book.snapshot("M1", "2026-06-30", ALICE, 100_000)
    book.complaint("2026-07-01", "M1", ALICE, "2026-07-16")
    run = score()
    card = card_of(run, ALICE)
    url = f"/api/v1/scorecards/{card.pk}/lines/complaint_resolution/facts/"
    # Another branch's RM and HR: the facts do not exist for them.
    assert bank.client("rm_bob").get(url).status_code == 404
    assert bank.client("hr").get(url).status_code == 404
    body = facts(bank, run, "complaint_resolution")
    assert body["rows"][0]["client_name"] == "客**1"  # 客户M1
    entry = AuditEntry.objects.get(action="scorecard.facts", actor=bank.users["rm_alice"])
    assert entry.after["measure"] == "complaint_resolution" and entry.after["rows"] == 1


# ================================================================ manual scores
@pytest.mark.parametrize("code", ["internal_policy", "collaboration", "mentoring"])
def test_a_manual_line_shows_its_entered_score(bank, book, code):
    manual(ALICE, code, "2026-Q3", "87.5")
    run = score()
    body = adds_up(bank, run, code, "score", ["87.50"])
    assert body["summary"]["method"] == "manual"
    # Bob has none: no value, and the footer says why.
    assert adds_up(bank, run, code, "score", [], employee_id=BOB)["summary"]["reason"]


# ================================================================ limits and queries
def test_a_truncated_list_still_gives_the_whole_summary(bank, book):
    for n in range(7):
        book.sale("2026-08-01", f"Z{n}", ALICE, 1_000 + n)
    run = score()
    period = parse_period("2026-Q3")
    rules = rules_of(run.version)
    shown = line_facts(period, rules, "sales_attainment", ALICE, limit=3)
    assert shown["truncated"] and len(shown["rows"]) == 3 and shown["count"] == 7
    # 7 × 1,000 + (0 + 1 + … + 6) = 7,021, from every row, not the 3 shown.
    assert shown["summary"]["value"] == line_of(run, ALICE, "sales_attainment").value == 7_021


def _queries(bank, run: ScoreRun, code: str) -> int:
    card = card_of(run, ALICE)
    with CaptureQueriesContext(connection) as queries:
        response = bank.client("rm_alice").get(f"/api/v1/scorecards/{card.pk}/lines/{code}/facts/")
        assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("code", ["sales_attainment", "cross_sell_coverage", "complaint_rate",
                                  "complaint_resolution", "dormant_activation"])  # fmt: skip
def test_the_facts_endpoint_runs_as_many_queries_for_many_rows_as_for_few(
    bank, book, code, django_assert_max_num_queries
):
    def grow(first: int, last: int) -> None:
        for n in range(first, last):
            client = f"G{n:03d}"
            book.snapshot(client, "2026-06-30", ALICE, 100_000)
            book.snapshot(client, "2026-09-30", ALICE, 200_000)
            book.holding(client, "2026-09-30", "fund", 10)
            book.sale("2026-08-01", client, ALICE, 1_000)
            book.complaint("2026-08-02", client, ALICE, "2026-08-05")

    grow(0, 2)
    run = score()
    _queries(bank, run, code)  # the first look reads what a process keeps (the rules)
    few = _queries(bank, run, code)
    grow(2, 12)
    run = score()
    _queries(bank, run, code)
    assert _queries(bank, run, code) == few
    with django_assert_max_num_queries(20):
        bank.client("rm_alice").get(
            f"/api/v1/scorecards/{card_of(run, ALICE).pk}/lines/{code}/facts/"
        )


# ================================================================ the page
def test_the_facts_page_shows_the_footer(bank, book):
    from django.test import Client

    from tests.conftest import PASSWORD

    for client in ["X1", "X2", "X3"]:
        book.snapshot(client, "2026-09-30", ALICE, 1_000_000)
    book.holding("X1", "2026-09-30", "fund", 50)
    book.holding("X1", "2026-09-30", "insurance", 30)
    run = score()
    client = Client()
    assert client.login(username="rm_alice", password=PASSWORD)
    card = card_of(run, ALICE)
    response = client.get(
        f"/cards/{card.pk}/lines/cross_sell_coverage/facts/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="facts-summary"' in page
    # 1 of 3 clients holds two non-deposit categories.
    assert "1 / " in page and " 3 = 33.33%" in page
    # Categories by their names in the reader's language, not their codes.
    assert "Fund, Insurance" in page
    chinese = client.get(
        f"/cards/{card.pk}/lines/cross_sell_coverage/facts/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "基金、保险" in chinese and "fund" not in chinese
    complaints = client.get(
        f"/cards/{card.pk}/lines/complaint_rate/facts/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    # No complaint, 3 managed clients: the footer still recomputes the line (0 per thousand).
    assert 'data-testid="facts-summary"' in complaints and "3 × 1000 = 0" in complaints


# ================================================================ every line of every card
def mixed_book(book: Book) -> None:
    """A bit of everything, over three RMs, with clients that change hands."""
    aum_book(book)
    book.product("FIP", risk=2, tag="fixed_income_plus")
    book.snapshot("C5", "2026-06-30", ALICE, 1_000_000, risk=2)
    book.sale("2026-07-10", "C1", ALICE, 1_200_000, product="FIP", fee=1_000)
    book.sale("2026-09-30", "C3", DAN, 1_500_000, product="P_R4", fee="250.50")  # Alice's C3
    book.sale("2026-08-01", "C2", BOB, 3_900_000)
    book.sale("2026-09-01", "C9", ALICE, 100_000)  # a client no snapshot knows
    book.snapshot("H1", "2026-06-30", BOB, 5_000_000)
    book.snapshot("H1", "2026-08-31", BOB, 6_100_000)
    book.snapshot("H1", "2026-09-30", BOB, 7_000_000)
    book.snapshot("C5", "2026-08-31", DAN, 900_000)  # Alice's C5 moves to Dan in September
    book.snapshot("C5", "2026-09-30", DAN, 950_000)
    book.sale("2026-09-15", "C5", ALICE, 50_000, product="FIP")  # credited to Dan
    book.activity("2026-08-10", BOB, "visit", "H1")
    for client, category in [("C1", "fund"), ("C1", "insurance"), ("C3", "fund"), ("H1", "trust")]:
        book.holding(client, "2026-09-30", category, 100)
    for day, client, rm, points in [
        ("2026-07-02", "C1", ALICE, 10),
        ("2026-08-02", "C5", DAN, 3),
        ("2026-09-20", "C5", ALICE, 9),
        ("2026-09-21", "H1", BOB, 6),
    ]:
        for _n in range(3):
            book.survey(day, client, rm, points)
    for kind in ["plan_proposed", "plan_adopted", "education_event"]:
        book.activity("2026-08-03", ALICE, kind, "C1")
        book.activity("2026-09-03", DAN, kind, "C5")
    book.recordings("2026-07-20", ALICE, compliant=2, not_compliant=1)
    book.recordings("2026-09-20", BOB, compliant=1)
    book.complaint("2026-07-03", "C1", ALICE, "2026-07-10")
    book.complaint("2026-09-10", "C5", ALICE, "2026-09-30")  # Dan's client by then
    book.complaint("2026-08-10", "H1", BOB)
    for key in ("internal_policy", "collaboration", "mentoring"):
        manual(ALICE, key, "2026-Q3", 90)
        manual(BOB, key, "2026-Q3", "75.25")


@pytest.mark.parametrize(
    ("period", "filled"), [("2026-Q3", True), ("2026-09", True), ("2026", True), ("2026-Q3", False)]
)
def test_every_line_of_every_card_is_recomputed_by_its_facts(bank, book, period, filled):
    """…and every facts payload is what the OpenAPI schema documents."""
    import jsonschema

    from tests.wealthscore.test_api_types import _json_schema

    # As test_api_types.conforms, with the schema converted once for the 51 bodies.
    schema = bank.client("admin").get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/scorecards/{id}/lines/{measure}/facts/"]["get"]
    documented = operation["responses"]["200"]["content"]["application/json"]["schema"]
    definitions = {
        name: _json_schema(node) for name, node in schema["components"]["schemas"].items()
    }
    validator = jsonschema.Draft7Validator({**_json_schema(documented), "definitions": definitions})
    assert not validator.is_valid({"kind": "sales", "truncated": False, "rows": [{"tier": "x"}]})
    if filled:
        mixed_book(book)
    else:  # no month-end at all: no balance, no book, no complaint rate, and the footers say so
        book.sale("2026-08-01", "C1", ALICE, 1_000)
    run = score(period)
    checked = 0
    for employee_id, who in ((ALICE, "rm_alice"), (DAN, "rm_dan"), (BOB, "rm_bob")):
        card = card_of(run, employee_id)
        for line in card.lines.all():
            response = bank.client(who).get(
                f"/api/v1/scorecards/{card.pk}/lines/{line.measure}/facts/"
            )
            assert response.status_code == 200, (line.measure, response.content)
            body = response.json()
            validator.validate(body)
            value = body["summary"]["value"]
            assert (None if value is None else D(value)) == line.value, (
                employee_id, line.measure, body["summary"], line.value,
            )  # fmt: skip
            assert body["count"] == len(body["rows"])
            checked += 1
    assert checked == 3 * 17


def test_every_category_a_file_may_name_has_a_name_for_readers() -> None:
    from crm.kinds import CATEGORIES
    from crm.models import ProductCategory

    assert set(CATEGORIES.values()) == set(ProductCategory.values)
