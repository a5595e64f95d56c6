"""Scoring (SPEC §5) through its stable interfaces: score_period, the scheme services, the engine.

Every expected number is worked out by hand in the comment beside it, from the facts the test
writes, never copied from a run. Q3 2026 (07-01 .. 09-30) is the period unless said otherwise;
the default scheme ("理财经理考核方案 2026", in force from 2026-01-01) scores it, except where a
test publishes its own version (effective 2026-02-01, so it is the one in force).

Stored line figures carry 4 decimals (ScoreLine's columns), cards' totals 2.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection

from crm.holdings import summarise_holdings
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
from scorecards.engine import Fact, MeasureRule, score_card, score_line
from scorecards.messages import render as render_reason
from scorecards.models import (
    ManualScore,
    Period,
    SchemeVersion,
    Scorecard,
    ScoreLine,
    ScoreRun,
)
from scorecards.rules import ScoringError
from scorecards.runs.services import score_period
from scorecards.schemes.services import (
    scheme_draft_create,
    scheme_preview,
    scheme_problems,
    scheme_publish,
    scheme_version_update,
    version_snapshot,
)
from targets.models import Employee
from targets.plan import services as plan_services
from tests.conftest import approve_period, make_person
from wealthscore.kernel.access import Role
from wealthscore.kernel.errors import ConflictError

D = Decimal
Q3 = "2026-Q3"
ALICE, DAN, BOB = "000101", "000102", "000201"
UNIT_OF = {ALICE: "A1", DAN: "A2", BOB: "B1"}


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# ---------------------------------------------------------------- building facts
class Book:
    """Writes CRM facts straight into the fact tables, as an import would leave them."""

    def __init__(self) -> None:
        self.batch = ImportBatch.objects.create(
            kind="sales", file_name="tests.csv", sha256="0" * 64, status=BatchStatus.LOADED
        )
        self._serial = 0
        self.products: set[str] = set()

    def _next(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}{self._serial:06d}"

    def product(self, code: str, *, risk: int = 2, tag: str = "") -> str:
        if code not in self.products:
            Product.objects.create(
                product_code=code, name=code, category="wealth", risk_level=risk,
                strategic_tag=tag, batch=self.batch,
            )  # fmt: skip
            self.products.add(code)
        return code

    def snapshot(self, client: str, day: str, rm: str, balance: str | int, *, risk: int = 3):
        ClientSnapshot.objects.create(
            client_id=client, as_of_date=d(day), name="客户" + client, rm_id=rm,
            unit_id=UNIT_OF.get(rm, "A1"), total_balance=D(balance), client_risk_level=risk,
            batch_id=self.batch.pk,
        )  # fmt: skip

    def snapshots(self, clients: list[str], day: str, rm: str, balance: str | int = 100_000):
        ClientSnapshot.objects.bulk_create(
            ClientSnapshot(
                client_id=client,
                as_of_date=d(day),
                name="客户",
                rm_id=rm,
                unit_id=UNIT_OF.get(rm, "A1"),
                total_balance=D(balance),
                client_risk_level=3,
                batch_id=self.batch.pk,
            )  # fmt: skip
            for client in clients
        )

    def holding(self, client: str, day: str, category: str, balance: str | int) -> None:
        """A balance, and the month's snapshots summarised again, as an import leaves them
        (the client's snapshot is written first)."""
        Holding.objects.create(
            as_of_date=d(day), client_id=client, category=category, balance=D(balance),
            batch_id=self.batch.pk,
        )  # fmt: skip
        summarise_holdings(connection, d(day))

    def sale(
        self, day: str, client: str, rm: str, amount: str | int, *, product: str = "P_R2",
        fee: str | int | None = None,
    ) -> None:  # fmt: skip
        if product not in self.products:
            self.product(product, risk=int(product[3]) if product.startswith("P_R") else 2)
        Sale.objects.create(
            txn_id=self._next("T"), txn_date=d(day), client_id=client, rm_id=rm,
            product_id=product, amount=D(amount), fee_income=None if fee is None else D(fee),
            batch_id=self.batch.pk,
        )  # fmt: skip

    def activity(self, day: str, rm: str, kind: str, client: str | None = None) -> None:
        Activity.objects.create(
            activity_id=self._next("A"), activity_date=d(day), rm_id=rm, client_id=client,
            activity_type=kind, batch_id=self.batch.pk,
        )  # fmt: skip

    def survey(self, day: str, client: str, rm: str, score: int) -> None:
        Survey.objects.create(
            response_id=self._next("S"), survey_date=d(day), client_id=client, rm_id=rm,
            nps_score=score, batch_id=self.batch.pk,
        )  # fmt: skip

    def complaint(self, received: str, client: str, rm: str, resolved: str | None = None):
        Complaint.objects.create(
            complaint_id=self._next("C"), received_date=d(received), client_id=client, rm_id=rm,
            category="服务", resolved_date=None if resolved is None else d(resolved),
            batch_id=self.batch.pk,
        )  # fmt: skip

    def recordings(self, day: str, rm: str, *, compliant: int, not_compliant: int = 0) -> None:
        RecordingCheck.objects.bulk_create(
            RecordingCheck(
                check_id=self._next("R"),
                check_date=d(day),
                rm_id=rm,
                compliant=ok,
                batch_id=self.batch.pk,
            )  # fmt: skip
            for ok in [True] * compliant + [False] * not_compliant
        )

    def assignment(self, client: str, rm: str, valid_from: str) -> None:
        ClientAssignment.objects.create(
            client_id=client, rm_id=rm, valid_from=d(valid_from), batch_id=self.batch.pk
        )


@pytest.fixture
def book(bank) -> Book:
    return Book()


def employee(employee_id: str) -> Employee:
    return Employee.objects.get(employee_id=employee_id)


def set_target(bank, employee_id: str, measure: str, annual: str | int) -> None:
    plan_services.annual_target_set(
        actor=bank.users["admin"], subject=employee(employee_id), year=2026, measure=measure,
        amount=D(annual),
    )  # fmt: skip


def manual(employee_id: str, measure: str, period: str, score: str | int) -> None:
    ManualScore.objects.update_or_create(
        period=period, employee=employee(employee_id), measure=measure,
        defaults={"score": D(score)},
    )  # fmt: skip


def score(period: str = Q3) -> ScoreRun:
    run = score_period(period_code=period, trigger="test")
    assert run.status == "done", run.error
    return run


def card_of(run: ScoreRun, employee_id: str) -> Scorecard:
    return Scorecard.objects.get(run=run, employee__employee_id=employee_id)


def line_of(run: ScoreRun, employee_id: str, measure: str) -> ScoreLine:
    return ScoreLine.objects.get(
        scorecard__run=run, scorecard__employee__employee_id=employee_id, measure=measure
    )


def num(text: str | int | None) -> Decimal | None:
    return None if text is None else D(text)


def assert_line(line: ScoreLine, *, value, target, points, reason: str = "") -> None:
    """The stored line says this, to the 4 places the expectations are written in (a line
    keeps 10); it is applicable when it has points."""
    kept = tuple(None if v is None else v.quantize(D("0.0001"), ROUND_HALF_UP)
                 for v in (line.value, line.target, line.points))  # fmt: skip
    assert kept == (num(value), num(target), num(points)), (
        line.measure, line.value, line.target, line.points, line.reason,
    )  # fmt: skip
    assert line.applicable is (points is not None)
    if reason:
        assert reason in line.reason
    if points is None:
        assert line.weighted is None


# ---------------------------------------------------------------- schemes of a test's own
def kpi(code: str, weight: str | int, *measures: dict, dimension: str = "performance") -> dict:
    return {"code": code, "name": code, "dimension": dimension, "weight": str(weight),
            "measures": list(measures)}  # fmt: skip


def measure(code: str, share: str | int = 100, method: str = "linear", **params) -> dict:
    return {"measure": code, "share": str(share), "method": method, **params}


def default_version() -> SchemeVersion:
    return SchemeVersion.objects.get(scheme__code="rm-2026", number=1)


def draft(bank, data: dict, *, effective_from: str = "2026-02-01") -> SchemeVersion:
    version = scheme_draft_create(
        base=default_version(), actor=bank.users["admin"], effective_from=d(effective_from)
    )
    return scheme_version_update(version=version, actor=bank.users["admin"], data=data)


def publish(bank, data: dict, *, effective_from: str = "2026-02-01") -> SchemeVersion:
    version = draft(bank, data, effective_from=effective_from)
    return scheme_publish(version=version, actor=bank.users["admin"])


MANUAL_ONLY = [kpi("internal_policy", 100, measure("internal_policy", method="manual"),
                   dimension="compliance")]  # fmt: skip


# ================================================================ 1. every measure of the scheme
def test_sales_attainment_is_credited_sales_over_the_quarter_target_capped_at_120(bank, book):
    # Alice: 1,200,000 on 07-10 and 1,500,000 on 09-30 (the last day counts) = 2,700,000;
    # 800,000 on 06-30 and 900,000 on 10-01 lie outside Q3.
    for day, amount in [("2026-07-10", 1_200_000), ("2026-09-30", 1_500_000),
                        ("2026-06-30", 800_000), ("2026-10-01", 900_000)]:  # fmt: skip
        book.sale(day, "C1", ALICE, amount)
    book.sale("2026-08-01", "C2", BOB, 3_900_000)
    # Annual 12,000,000 spread evenly: 1,000,000 a month, 3,000,000 for Q3.
    set_target(bank, ALICE, "sales_attainment", 12_000_000)
    set_target(bank, BOB, "sales_attainment", 12_000_000)
    run = score()
    # 100 × 2,700,000 / 3,000,000 = 90.
    assert_line(line_of(run, ALICE, "sales_attainment"),
                value="2700000", target="3000000", points="90")  # fmt: skip
    # 100 × 3,900,000 / 3,000,000 = 130, capped at 120.
    assert_line(line_of(run, BOB, "sales_attainment"),
                value="3900000", target="3000000", points="120")  # fmt: skip
    # Dan sold nothing (a flow of 0) and has no target: not applicable.
    assert_line(line_of(run, DAN, "sales_attainment"),
                value="0", target=None, points=None, reason="no target")  # fmt: skip


def aum_book(book: Book) -> None:
    """06-30 is the book before Q3, 09-30 its end (03-31 is older and must not be used)."""
    book.snapshot("C1", "2026-03-31", ALICE, 10_000)
    book.snapshot("C1", "2026-06-30", ALICE, 1_000_000)
    book.snapshot("C3", "2026-06-30", ALICE, 500_000)
    book.snapshot("C4", "2026-06-30", ALICE, 800_000)
    book.snapshot("C1", "2026-09-30", ALICE, 1_020_000)
    book.snapshot("C2", "2026-09-30", ALICE, 200_000)  # new in Q3
    book.snapshot("C3", "2026-09-30", ALICE, 495_000)
    book.snapshot("C4", "2026-09-30", DAN, 900_000)  # moved from Alice to Dan


def test_aum_net_growth_sums_end_minus_start_over_the_clients_managed_at_the_end(bank, book):
    aum_book(book)
    set_target(bank, ALICE, "aum_net_growth", 1_200_000)  # 100,000 a month: Q3 300,000
    run = score()
    # Alice at 09-30: C1 +20,000, C2 new +200,000 (0 at the start), C3 −5,000 = 215,000.
    # 100 × 215,000 / 300,000 = 71.6666… → 71.6667.
    assert_line(line_of(run, ALICE, "aum_net_growth"),
                value="215000", target="300000", points="71.6667")  # fmt: skip
    # C4 is Dan's at the end: all of its growth is his, 900,000 − 800,000; he has no target.
    assert_line(line_of(run, DAN, "aum_net_growth"),
                value="100000", target=None, points=None, reason="no target")  # fmt: skip
    # Bob manages nobody.
    assert_line(line_of(run, BOB, "aum_net_growth"),
                value=None, target=None, points=None, reason="no managed client")  # fmt: skip


def test_aum_existing_uplift_is_over_clients_with_balances_at_both_ends(bank, book):
    aum_book(book)
    run = score()
    # Alice: C1 and C3 have both balances (C2 is new): (1,020,000 + 495,000) /
    # (1,000,000 + 500,000) − 1 = 1.515 / 1.5 − 1 = 1 %. The default target is 5 % a year,
    # prorated: 5 × 3 / 12 = 1.25 for a quarter. 100 × 1 / 1.25 = 80.
    assert_line(line_of(run, ALICE, "aum_existing_uplift"),
                value="1", target="1.25", points="80")  # fmt: skip
    # Dan: C4 900,000 / 800,000 − 1 = 12.5 %; 100 × 12.5 / 1.25 = 1000, capped at 120.
    assert_line(line_of(run, DAN, "aum_existing_uplift"),
                value="12.5", target="1.25", points="120")  # fmt: skip


def test_an_rms_own_uplift_target_is_prorated_like_the_default(bank, book):
    aum_book(book)
    set_target(bank, ALICE, "aum_existing_uplift", 4)  # 4 % a year, hers
    run = score()
    # 4 × 3 / 12 = 1 for the quarter, as the scheme's default would be: 100 × 1 / 1 = 100.
    assert_line(line_of(run, ALICE, "aum_existing_uplift"), value="1", target="1", points="100")


def test_cross_sell_coverage_counts_clients_with_two_non_deposit_categories(bank, book):
    for client in ["X1", "X2", "X3", "X4"]:
        book.snapshot(client, "2026-09-30", ALICE, 1_000_000)
    book.snapshot("Y1", "2026-09-30", BOB, 1_000_000)
    holdings = [
        ("X1", "deposit", 100), ("X1", "fund", 50), ("X1", "insurance", 30),  # 2: yes
        ("X2", "deposit", 500), ("X2", "fund", 20),  # 1 non-deposit: no
        ("X3", "fund", 10), ("X3", "insurance", 0),  # a zero balance is not held: no
        ("X4", "wealth", 1), ("X4", "bond", 1), ("X4", "trust", 1),  # 3: yes
        ("Y1", "deposit", 1_000_000),
    ]  # fmt: skip
    for client, category, balance in holdings:
        book.holding(client, "2026-09-30", category, balance)
    # X2 held two non-deposit categories in June: only the window's end counts.
    book.holding("X2", "2026-06-30", "insurance", 10)
    run = score()
    # Alice 2 of 4 = 50 %; default target 45 % (a rate: not prorated); 100 × 50 / 45 = 111.11…
    assert_line(line_of(run, ALICE, "cross_sell_coverage"),
                value="50", target="45", points="111.1111")  # fmt: skip
    # Bob's one client holds deposits only: 0 %, 0 points, still applicable.
    assert_line(line_of(run, BOB, "cross_sell_coverage"), value="0", target="45", points="0")
    assert_line(line_of(run, DAN, "cross_sell_coverage"),
                value=None, target="45", points=None)  # fmt: skip


def test_nps_is_promoters_minus_detractors_and_not_applicable_under_5_responses(bank, book):
    for score_ in [10, 9, 9, 8, 7, 3]:
        book.survey("2026-08-01", "C1", ALICE, score_)
    book.survey("2026-06-30", "C1", ALICE, 0)  # Q2: not counted
    for score_ in [10, 10, 10, 10, 0]:
        book.survey("2026-09-01", "C2", BOB, score_)
    for _i in range(4):
        book.survey("2026-07-15", "C3", DAN, 10)
    run = score()
    # Alice: 3 promoters, 1 detractor of 6: 100 × 2 / 6 = 33.33…; target 50:
    # 100 × 33.33… / 50 = 66.66… → 66.6667.
    assert_line(line_of(run, ALICE, "nps"), value="33.3333", target="50", points="66.6667")
    # Bob: exactly 5 responses count; (4 − 1) / 5 = 60; 100 × 60 / 50 = 120, capped at 110.
    assert_line(line_of(run, BOB, "nps"), value="60", target="50", points="110")
    # Dan: 4 responses, all 10s: fewer than 5, not applicable.
    assert_line(line_of(run, DAN, "nps"),
                value=None, target="50", points=None, reason="fewer than 5")  # fmt: skip


def test_a_month_card_counts_nps_over_the_quarter_to_date(bank, book):
    for day, score_ in [("2026-07-05", 10), ("2026-07-06", 10), ("2026-07-07", 6),
                        ("2026-08-05", 9), ("2026-08-06", 2)]:  # fmt: skip
        book.survey(day, "C1", ALICE, score_)
    july, august = score("2026-07"), score("2026-08")
    # July: 3 responses so far, not applicable.
    assert_line(line_of(july, ALICE, "nps"), value=None, target="50", points=None)
    # August counts 07-01 .. 08-31: 5 responses, 3 promoters, 2 detractors: 100 × 1 / 5 = 20;
    # 100 × 20 / 50 = 40.
    assert_line(line_of(august, ALICE, "nps"), value="20", target="50", points="40")


def test_hnw_visit_coverage_is_the_share_of_hnw_clients_visited_in_the_quarter(bank, book):
    book.snapshot("H1", "2026-09-30", ALICE, 8_000_000)
    book.snapshot("H2", "2026-09-30", ALICE, "6000000.00")  # exactly the threshold: HNW
    book.snapshot("H3", "2026-09-30", ALICE, 7_000_000)
    book.snapshot("N1", "2026-09-30", ALICE, "5999999.99")  # not HNW
    book.snapshot("M1", "2026-09-30", BOB, 1_000_000)
    book.activity("2026-08-10", ALICE, "visit", "H1")
    book.activity("2026-09-05", ALICE, "visit", "H1")  # a second visit: still one client
    book.activity("2026-06-20", ALICE, "visit", "H3")  # before the quarter
    book.activity("2026-08-01", ALICE, "call", "H3")  # a call is not a visit
    book.activity("2026-09-01", ALICE, "visit", "N1")
    run = score()
    # Alice: H1, H2, H3 are HNW, H1 alone was visited in Q3: 33.33… %; target 80 %:
    # 100 × 33.33… / 80 = 41.66… → 41.6667.
    assert_line(line_of(run, ALICE, "hnw_visit_coverage"),
                value="33.3333", target="80", points="41.6667")  # fmt: skip
    assert_line(line_of(run, BOB, "hnw_visit_coverage"),
                value=None, target="80", points=None, reason="no HNW client")  # fmt: skip


def test_dormant_activation_is_the_share_of_dormant_clients_who_bought_again(bank, book):
    # Dormant at 07-01 = no sale in the 180 days before it, i.e. none since 2026-01-02.
    clients = [f"K{n:02d}" for n in range(1, 25)]  # 24 clients who never bought
    book.snapshots([*clients, "E1", "E2", "W1"], "2026-06-30", ALICE)
    book.sale("2026-01-01", "E1", ALICE, 1_000)  # 181 days before: still dormant
    book.sale("2026-01-02", "E2", ALICE, 1_000)  # 180 days before: not dormant
    book.sale("2026-03-01", "W1", ALICE, 1_000)  # active, and buys again in Q3: not counted
    book.sale("2026-08-05", "K01", ALICE, 5_000)  # activated
    book.sale("2026-09-01", "W1", ALICE, 5_000)
    book.sale("2026-10-02", "K02", ALICE, 5_000)  # after Q3
    book.snapshots(["V1"], "2026-06-30", DAN)
    book.sale("2026-05-01", "V1", DAN, 1_000)  # Dan's only client is active
    run = score()
    # Alice: 24 K clients + E1 = 25 dormant, 1 activated: 4 %. Default target 20 % a year,
    # prorated: 5 % a quarter. 100 × 4 / 5 = 80.
    assert_line(line_of(run, ALICE, "dormant_activation"), value="4", target="5", points="80")
    assert_line(line_of(run, DAN, "dormant_activation"),
                value=None, target="5", points=None, reason="no dormant client")  # fmt: skip


def test_plan_adoption_and_education_events_count_activities_in_the_window(bank, book):
    for _i in range(5):
        book.activity("2026-07-20", ALICE, "plan_proposed")
    book.activity("2026-08-20", ALICE, "plan_adopted")
    book.activity("2026-09-20", ALICE, "plan_adopted")
    book.activity("2026-06-30", ALICE, "plan_adopted")  # Q2
    for day in ["2026-07-01", "2026-08-01", "2026-09-01", "2026-09-30", "2026-10-01"]:
        book.activity(day, ALICE, "education_event")
    book.activity("2026-07-02", DAN, "education_event")
    book.activity("2026-07-03", DAN, "education_event")
    run = score()
    # Alice: 2 adopted of 5 proposed = 40 %; target 60 %: 100 × 40 / 60 = 66.66… → 66.6667.
    assert_line(line_of(run, ALICE, "plan_adoption"), value="40", target="60", points="66.6667")
    # Dan proposed nothing: not applicable.
    assert_line(line_of(run, DAN, "plan_adoption"),
                value=None, target="60", points=None, reason="no plan proposed")  # fmt: skip
    # Events: default target 12 a year, prorated: 3 a quarter.
    # Alice 4 in Q3 (10-01 is not): 100 × 4 / 3 = 133.3, capped at 120.
    assert_line(line_of(run, ALICE, "education_events"), value="4", target="3", points="120")
    # Dan 2: 100 × 2 / 3 = 66.66… → 66.6667; Bob none: 0 events, 0 points, applicable.
    assert_line(line_of(run, DAN, "education_events"), value="2", target="3", points="66.6667")
    assert_line(line_of(run, BOB, "education_events"), value="0", target="3", points="0")


def test_suitability_match_compares_product_risk_with_client_risk_on_the_sale_day(bank, book):
    book.product("P_R2", risk=2)
    book.product("P_R4", risk=4)
    book.product("P_R5", risk=5)
    for day in ["2026-06-30", "2026-07-31", "2026-08-31"]:
        book.snapshot("C1", day, ALICE, 1_000_000, risk=3)
    book.snapshot("C2", "2026-06-30", ALICE, 1_000_000, risk=2)
    book.snapshot("C2", "2026-07-31", ALICE, 1_000_000, risk=4)  # reassessed in July
    book.snapshot("C2", "2026-08-31", ALICE, 1_000_000, risk=4)
    for _i in range(18):
        book.sale("2026-08-05", "C1", ALICE, 10_000, product="P_R2")  # R2 ≤ C3: matched
    book.sale("2026-07-15", "C2", ALICE, 10_000, product="P_R4")  # C2 as of 06-30: not
    book.sale("2026-08-10", "C2", ALICE, 10_000, product="P_R4")  # C4 as of 07-31: matched
    book.sale("2026-08-12", "C9", ALICE, 10_000, product="P_R5")  # no snapshot: unknown
    book.sale("2026-08-12", "Z1", DAN, 10_000, product="P_R2")  # no snapshot: unknown
    run = score()
    # Alice: 21 sales, 1 of unknown client risk, 19 of the other 20 matched = 95 %;
    # linear 90 → 100: 100 × (95 − 90) / 10 = 50.
    assert_line(line_of(run, ALICE, "suitability_match"), value="95", target=None, points="50")
    assert_line(line_of(run, DAN, "suitability_match"),
                value=None, target=None, points=None, reason="known risk")  # fmt: skip
    assert_line(line_of(run, BOB, "suitability_match"),
                value=None, target=None, points=None, reason="no sale to check")  # fmt: skip


def test_script_compliance_is_the_share_of_compliant_recordings(bank, book):
    book.recordings("2026-08-01", ALICE, compliant=39, not_compliant=1)
    book.recordings("2026-10-01", ALICE, compliant=0, not_compliant=5)  # after Q3
    book.recordings("2026-09-01", BOB, compliant=8, not_compliant=2)
    run = score()
    # Alice 39 / 40 = 97.5 %: 100 × (97.5 − 90) / 10 = 75.
    assert_line(line_of(run, ALICE, "script_compliance"), value="97.5", target=None, points="75")
    # Bob 80 %, below 90: 0 points, still applicable.
    assert_line(line_of(run, BOB, "script_compliance"), value="80", target=None, points="0")
    assert_line(line_of(run, DAN, "script_compliance"),
                value=None, target=None, points=None, reason="no recording")  # fmt: skip


def test_complaint_rate_is_lower_is_better_zero_points_at_three_times_the_target(bank, book):
    book.snapshots([f"A{n:03d}" for n in range(250)], "2026-09-30", ALICE)
    book.snapshots([f"B{n:03d}" for n in range(100)], "2026-09-30", BOB)
    book.snapshots([f"D{n:03d}" for n in range(100)], "2026-09-30", DAN)
    book.complaint("2026-08-10", "A001", ALICE)
    book.complaint("2026-09-01", "D001", DAN)
    book.complaint("2026-06-15", "B001", BOB)  # Q2: not counted
    run = score()
    # Default target 2 ‰: 100 points at 2 ‰, 0 points at 3 × 2 = 6 ‰.
    # Alice 1 / 250 = 4 ‰: 100 × (4 − 6) / (2 − 6) = 50.
    assert_line(line_of(run, ALICE, "complaint_rate"), value="4", target="2", points="50")
    # Bob 0 ‰: 100 × (0 − 6) / (2 − 6) = 150, capped at 100.
    assert_line(line_of(run, BOB, "complaint_rate"), value="0", target="2", points="100")
    # Dan 1 / 100 = 10 ‰, beyond 6 ‰: 0 points.
    assert_line(line_of(run, DAN, "complaint_rate"), value="10", target="2", points="0")


def test_complaint_resolution_is_the_share_closed_within_15_days(bank, book):
    book.complaint("2026-07-01", "C1", ALICE, "2026-07-16")  # 15 days: in time
    book.complaint("2026-07-10", "C1", ALICE, "2026-07-26")  # 16 days: late
    book.complaint("2026-08-01", "C2", ALICE)  # still open: late
    book.complaint("2026-09-20", "C3", ALICE, "2026-09-20")  # same day: in time
    book.complaint("2026-06-25", "C4", ALICE, "2026-07-02")  # received in Q2: not counted
    book.complaint("2026-09-01", "C5", BOB, "2026-09-04")
    run = score()
    # Alice 2 of 4 = 50 %; linear 0 → 100: 50 points.
    assert_line(line_of(run, ALICE, "complaint_resolution"),
                value="50", target=None, points="50")  # fmt: skip
    assert_line(line_of(run, BOB, "complaint_resolution"),
                value="100", target=None, points="100")  # fmt: skip
    assert_line(line_of(run, DAN, "complaint_resolution"),
                value=None, target=None, points=None, reason="no complaint")  # fmt: skip


def test_the_three_manual_measures_score_what_was_entered_for_the_quarter(bank, book):
    manual(ALICE, "internal_policy", Q3, "88.50")
    manual(ALICE, "collaboration", Q3, 70)
    manual(BOB, "mentoring", "2026-Q2", 90)  # another quarter
    run = score()
    assert_line(line_of(run, ALICE, "internal_policy"), value="88.5", target=None, points="88.5")
    assert_line(line_of(run, ALICE, "collaboration"), value="70", target=None, points="70")
    assert_line(line_of(run, ALICE, "mentoring"),
                value=None, target=None, points=None, reason="no score entered")  # fmt: skip
    assert_line(line_of(run, BOB, "mentoring"), value=None, target=None, points=None)
    # A month card shows its quarter's committee score.
    august = score("2026-08")
    assert_line(line_of(august, ALICE, "internal_policy"),
                value="88.5", target=None, points="88.5")  # fmt: skip


def test_strategic_sales_add_max_points_times_attainment_capped_at_one(bank, book):
    book.product("P_FIP", tag="fixed_income_plus")
    book.product("P_PEN", tag="pension")
    book.product("P_PLAIN")
    book.sale("2026-07-20", "C1", ALICE, 1_200_000, product="P_FIP")
    book.sale("2026-08-20", "C1", ALICE, 600_000, product="P_PEN")
    book.sale("2026-08-21", "C1", ALICE, 1_000_000, product="P_PLAIN")  # not strategic
    book.sale("2026-08-22", "C2", BOB, 4_500_000, product="P_FIP")
    book.sale("2026-08-23", "C3", DAN, 100_000, product="P_PEN")
    # 12,000,000 a year: 1,000,000 a month, 3,000,000 for Q3.
    set_target(bank, ALICE, "strategic_sales", 12_000_000)
    set_target(bank, BOB, "strategic_sales", 12_000_000)
    run = score()
    # Alice: 1,800,000 of 3,000,000: 5 × 0.6 = 3 points.
    assert_line(line_of(run, ALICE, "strategic_sales"),
                value="1800000", target="3000000", points="3")  # fmt: skip
    # Bob: 1.5 × the target, capped at 1: 5 points.
    assert_line(line_of(run, BOB, "strategic_sales"),
                value="4500000", target="3000000", points="5")  # fmt: skip
    assert_line(line_of(run, DAN, "strategic_sales"),
                value="100000", target=None, points=None, reason="no target")  # fmt: skip
    alice = card_of(run, ALICE)
    # The bonus is added on top: Alice's only weighted line that applies is education_events
    # (0 events of a target of 3: 0 points), so her total is 0 + 3.
    applicable = ScoreLine.objects.filter(scorecard=alice, applicable=True).exclude(method="bonus")
    assert list(applicable.values_list("measure", flat=True)) == ["education_events"]
    assert (alice.bonus, alice.weighted_score, alice.total) == (D(3), D(0), D("3.00"))


# ================================================================ 2. the seed's figures
def linear_to_target(measure: str = "m", *, cap: str = "120", weight: str = "100") -> MeasureRule:
    return MeasureRule(
        measure=measure, kpi=measure, kpi_name=measure, dimension="performance",
        method="linear", window="period", weight=D(weight), cap=D(cap),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("value", "target", "expected"),
    [
        # Net new AUM: 100 × 4,130,000,000 / 3,800,000,000 = 108.684210… → 108.68.
        ("4130000000", "3800000000", "108.68"),
        # Revenue: 100 × 472,000,000 / 450,000,000 = 104.888… → 104.89.
        ("472000000", "450000000", "104.89"),
    ],
)
def test_the_seed_figures_score_as_the_appraisal_rules_say(value, target, expected) -> None:
    line = score_line(linear_to_target("aum_net_growth"), Fact(D(value)), D(target))
    assert line.applicable and line.points.quantize(D("0.01")) == D(expected)
    assert score_card([line]).total == D(expected)


def test_the_seed_aum_figure_through_a_score_run(bank, book):
    # One KPI of aum_net_growth (the default scheme's method: linear 0 → target, cap 120).
    publish(bank, {"kpis": [kpi("aum", 100, measure("aum_net_growth", cap="120"))]})
    book.snapshot("C1", "2026-06-30", ALICE, 1_000_000_000)
    book.snapshot("C1", "2026-09-30", ALICE, 5_130_000_000)  # + 4,130,000,000
    # 15,200,000,000 a year, split to the cent: 1,266,666,666.67 in months 1-8 and .66 in
    # 9-12 (8 cents of remainder, earliest months first). Q3 = .67 + .67 + .66 = 3.8e9.
    set_target(bank, ALICE, "aum_net_growth", 15_200_000_000)
    run = score()
    # 100 × 4.13e9 / 3.8e9 = 108.684210… → 108.6842 on the line, 108.68 on the card.
    assert_line(line_of(run, ALICE, "aum_net_growth"),
                value="4130000000", target="3800000000", points="108.6842")  # fmt: skip
    assert card_of(run, ALICE).total == D("108.68")


# ================================================================ 3. sharing out n/a weight
def rule(name: str, weight: str, *, method: str = "manual", **params) -> MeasureRule:
    return MeasureRule(
        measure=name, kpi=name, kpi_name=name, dimension="performance", method=method,
        window="period", weight=D(weight), **{k: D(v) for k, v in params.items()},
    )  # fmt: skip


def test_the_weight_of_a_not_applicable_measure_is_shared_out_in_proportion() -> None:
    sales = linear_to_target("sales_attainment", weight="21.45")
    aum = linear_to_target("aum_net_growth", weight="17.86")
    cross = linear_to_target("cross_sell_coverage", weight="10.71")
    lines = [
        score_line(sales, Fact(D(2_700_000)), D(3_000_000)),  # 90 points
        score_line(aum, Fact(D(100_000)), None),  # no target: n/a
        score_line(cross, Fact(D(36)), D(45)),  # 80 points
    ]
    card = score_card(lines)
    assert [line.applicable for line in lines] == [True, False, True]
    # (21.45 × 90 + 10.71 × 80) / (21.45 + 10.71) = (1930.5 + 856.8) / 32.16
    # = 2787.3 / 32.16 = 86.66977… → 86.67.
    assert card.total == D("86.67")
    # Each applicable line carries its share: 21.45 × 90 / 32.16 = 60.0279…
    assert lines[0].weighted.quantize(D("0.0001")) == D("60.0280")
    assert lines[1].weighted is None


def test_the_total_is_rounded_half_up_once_at_the_end() -> None:
    # Two equal weights; the points 80.01 and 90.01 weigh 40.005 and 45.005.
    lines = [score_line(rule("a", "50"), Fact(D("80.01")), None),
             score_line(rule("b", "50"), Fact(D("90.01")), None)]  # fmt: skip
    card = score_card(lines)
    # Rounded once: 40.005 + 45.005 = 85.01. Rounding each line first would give
    # 40.01 + 45.01 = 85.02.
    assert card.total == D("85.01")
    assert sum(line.weighted.quantize(D("0.01"), "ROUND_HALF_UP") for line in lines) == D("85.02")
    # Half-up, not to even: (80.00 + 90.01) / 2 = 85.005 → 85.01 (banker's rounding: 85.00).
    tie = score_card([score_line(rule("a", "50"), Fact(D("80.00")), None),
                      score_line(rule("b", "50"), Fact(D("90.01")), None)])  # fmt: skip
    assert tie.total == D("85.01")


def test_a_card_with_no_applicable_measure_has_no_total_and_says_why() -> None:
    lines = [
        score_line(rule("a", "60"), Fact(None, reason="no score entered"), None),
        score_line(linear_to_target("b", weight="40"), Fact(D(5)), None),  # no target
        score_line(rule("bonus", "0", method="bonus", max_points="5"), Fact(D(10)), D(10)),
    ]
    card = score_card(lines)
    assert card.total is None and card.weighted_score is None
    assert render_reason(card.no_total_reason) == "No measure of the card is applicable."


def test_stored_cards_share_out_not_applicable_weight_and_say_why_they_have_no_total(bank, book):
    publish(bank, {"kpis": [
        kpi("sales", 50, measure("sales_attainment")),
        kpi("nps", 30, measure("nps"), dimension="service"),
        kpi("internal_policy", 20, measure("internal_policy", method="manual"),
            dimension="compliance"),
    ]})  # fmt: skip
    book.sale("2026-08-01", "C1", ALICE, 2_700_000)
    set_target(bank, ALICE, "sales_attainment", 12_000_000)  # Q3: 3,000,000 → 90 points
    for _i in range(4):
        book.survey("2026-08-02", "C1", ALICE, 10)  # 4 responses: NPS n/a
    manual(ALICE, "internal_policy", Q3, 80)
    run = score()
    alice, dan = card_of(run, ALICE), card_of(run, DAN)
    # (50 × 90 + 20 × 80) / (50 + 20) = 6100 / 70 = 87.142857… → 87.14.
    # The card keeps 10 places, the total is the exact score rounded once.
    assert alice.total == D("87.14") and alice.weighted_score == D("87.1428571429")
    assert line_of(run, ALICE, "sales_attainment").weighted == D("64.2857142857")  # 4500 / 70
    assert line_of(run, ALICE, "internal_policy").weighted == D("22.8571428571")  # 1600 / 70
    assert line_of(run, ALICE, "nps").weighted is None
    # Dan: no sale target, no survey, no committee score.
    assert dan.total is None and dan.no_total_reason
    assert (dan.rating, dan.rank, dan.unit_rank) == ("", None, None)


# ================================================================ 4. the annual card
def test_the_year_card_blends_the_current_quarters_with_the_annual_review(bank, book):
    publish(bank, {"kpis": MANUAL_ONLY})
    for employee_id, period, value in [
        (ALICE, "2026-Q1", 80), (ALICE, "2026-Q2", 90), (ALICE, "2026-Q3", 70),
        (ALICE, "2026", 85),
        (BOB, "2026-Q1", 77), (BOB, "2026-Q2", 78), (BOB, "2026", "81.33"),
        (DAN, "2026", 70),
    ]:  # fmt: skip
        manual(employee_id, "internal_policy", period, value)
    for quarter in ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]:
        score(quarter)
    # Q1 is corrected and scored again: the year reads the quarters' current cards only.
    manual(ALICE, "internal_policy", "2026-Q1", 86)
    score("2026-Q1")
    year = score("2026")
    alice, bob, dan = card_of(year, ALICE), card_of(year, BOB), card_of(year, DAN)
    # Alice: Q4 has no score (no total), so 3 quarters: (86 + 90 + 70) / 3 = 82.
    # 60 % × 82 + 40 % × 85 = 49.2 + 34 = 83.20.
    assert (alice.quarters_counted, alice.quarters_mean) == (3, D(82))
    assert (alice.weighted_score, alice.total) == (D(85), D("83.20"))
    # Bob: (77 + 78) / 2 = 77.5; 0.6 × 77.5 + 0.4 × 81.33 = 46.5 + 32.532 = 79.032 → 79.03.
    assert (bob.quarters_counted, bob.quarters_mean, bob.total) == (2, D("77.5"), D("79.03"))
    # Dan has no quarter total: the annual review stands alone.
    assert (dan.quarters_counted, dan.quarters_mean, dan.total) == (0, None, D(70))


# ================================================================ 5. ties in rank
def test_ties_share_a_rank_and_the_next_rank_skips_in_the_bank_and_in_the_unit(bank, book):
    for key, employee_id in [("rm_eve", "000103"), ("rm_fay", "000104"), ("rm_gus", "000105")]:
        make_person(key=key, employee_id=employee_id, unit=bank.sub_a1, role=Role.RM)
    publish(bank, {"kpis": MANUAL_ONLY})
    # A1: Alice 95, Eve 88, Fay 88, Gus 70; B1: Bob 70; A2: Dan has no score (no total).
    for employee_id, value in [(ALICE, 95), ("000103", 88), ("000104", 88), ("000105", 70),
                               (BOB, 70)]:  # fmt: skip
        manual(employee_id, "internal_policy", Q3, value)
    run = score()
    cards = {
        c.employee.employee_id: (c.total, c.rank, c.rank_of, c.unit_rank, c.unit_rank_of, c.rating)
        for c in Scorecard.objects.filter(run=run).select_related("employee")
    }
    # The bank: 95 → 1; 88, 88 → 2, 2; 70, 70 → 4, 4 (five ranked cards). The unit A1:
    # 95 → 1; 88, 88 → 2, 2; 70 → 4 (four cards); B1: Bob alone.
    assert cards == {
        ALICE: (D(95), 1, 5, 1, 4, "A"),
        "000103": (D(88), 2, 5, 2, 4, "B"),
        "000104": (D(88), 2, 5, 2, 4, "B"),
        "000105": (D(70), 4, 5, 4, 4, "C"),
        BOB: (D(70), 4, 5, 1, 1, "C"),
        DAN: (None, None, None, None, None, ""),
    }


# ================================================================ 6. attribution bases
def attribution_book(bank, book: Book) -> None:
    """Client X moves from Alice (07-31) to Dan (08-31); client Y is in no snapshot: first
    seen in a sale keyed by Dan, then one keyed by Bob (SPEC §4: each to the RM on it)."""
    book.snapshot("X", "2026-07-31", ALICE, 1_000_000)
    book.snapshot("X", "2026-08-31", DAN, 1_000_000)
    book.sale("2026-08-15", "X", ALICE, 100_000)  # managed by Alice (07-31)
    book.sale("2026-09-05", "X", ALICE, 200_000)  # managed by Dan (08-31), keyed by Alice
    book.sale("2026-08-20", "X", BOB, 50_000)  # keyed by a colleague; managed by Alice
    book.sale("2026-07-01", "Y", DAN, 10_000)  # no snapshot names Y's manager: Dan's
    book.assignment("Y", DAN, "2026-07-01")  # what the sales loader records of a first sale
    book.sale("2026-07-20", "Y", BOB, 30_000)  # still none: Bob's, never the first seller's
    for employee_id in (ALICE, DAN, BOB):
        set_target(bank, employee_id, "sales_attainment", 1_200_000)  # Q3: 300,000


def test_a_figure_is_shown_as_its_exact_value_rounded_once(bank, book):
    """SPEC §5: 100 × 170,849.01 / 3,000,000 = 5.694967 points show as 5.69 on the card page
    and in the API (kept to 4 places, 5.6950, it showed 5.70)."""
    from django.test import Client

    book.snapshot("X", "2026-06-30", ALICE, 1_000_000)
    book.sale("2026-08-15", "X", ALICE, "170849.01")
    set_target(bank, ALICE, "sales_attainment", 12_000_000)  # Q3: 3,000,000
    run = score()
    line = line_of(run, ALICE, "sales_attainment")
    assert line.points == D("5.6949670000")
    page = Client(headers={"accept-language": "en"})
    page.force_login(bank.users["rm_alice"])
    html = page.get("/me/", {"period": Q3}).content.decode()
    row = html.split('data-measure="sales_attainment"')[1].split("</tr>")[0]
    points_cell = row.split('data-field="points"')[1].split(">", 1)[1].split("<")[0]
    assert points_cell.strip() == "5.69", row
    card = bank.client("rm_alice").get(f"/api/v1/scorecards/{card_of(run, ALICE).pk}/").data
    points = next(x["points"] for x in card["lines"] if x["measure"] == "sales_attainment")
    assert points == "5.69"


def test_the_managing_rm_basis_credits_the_rm_of_the_latest_snapshot(bank, book):
    attribution_book(bank, book)
    run = score()
    # Alice 100,000 + 50,000 = 150,000: 50 points; Dan 200,000 + 10,000 = 210,000: 70; Bob
    # the 30,000 he keyed for a client no snapshot knows: 100 × 30 / 300 = 10.
    assert_line(line_of(run, ALICE, "sales_attainment"),
                value="150000", target="300000", points="50")  # fmt: skip
    assert_line(line_of(run, DAN, "sales_attainment"),
                value="210000", target="300000", points="70")  # fmt: skip
    assert_line(line_of(run, BOB, "sales_attainment"),
                value="30000", target="300000", points="10")  # fmt: skip


def test_the_transaction_basis_credits_the_rm_on_the_sale(bank, book):
    attribution_book(bank, book)
    publish(bank, {"attribution_basis": "transaction"})
    run = score()
    assert run.version.attribution_basis == "transaction"
    # Alice keyed 100,000 + 200,000 = 300,000: 100 points; Bob 50,000 + 30,000 = 80,000:
    # 100 × 80 / 300 = 26.66… → 26.6667; Dan 10,000: 3.33… → 3.3333.
    assert_line(line_of(run, ALICE, "sales_attainment"),
                value="300000", target="300000", points="100")  # fmt: skip
    assert_line(line_of(run, BOB, "sales_attainment"),
                value="80000", target="300000", points="26.6667")  # fmt: skip
    assert_line(line_of(run, DAN, "sales_attainment"),
                value="10000", target="300000", points="3.3333")  # fmt: skip


def test_a_client_absent_from_a_month_end_stays_with_her_last_managing_rm(bank, book):
    book.snapshot("X", "2026-06-30", ALICE, 1_000_000)  # Alice manages X
    book.snapshot("OTHER", "2026-07-31", DAN, 1_000)  # X redeemed all: not in the 07-31 file
    book.sale("2026-08-15", "X", BOB, 100_000)  # keyed by a colleague
    run = score()
    # X's latest snapshot on or before 08-15 is 06-30 (Alice): the sale is hers.
    assert line_of(run, ALICE, "sales_attainment").value == D(100_000)
    assert line_of(run, BOB, "sales_attainment").value == D(0)


# ================================================================ 7. repeatable, and locked
def rich_book(bank, book: Book) -> None:
    aum_book(book)
    attribution_book(bank, book)
    for score_ in [10, 9, 9, 8, 7, 3]:
        book.survey("2026-08-01", "C1", ALICE, score_)
    book.recordings("2026-08-01", ALICE, compliant=39, not_compliant=1)
    book.complaint("2026-07-01", "C1", ALICE, "2026-07-16")
    book.activity("2026-08-01", DAN, "education_event")
    manual(ALICE, "internal_policy", Q3, 90)
    manual(BOB, "internal_policy", Q3, 90)  # ties with Alice on that line only
    set_target(bank, ALICE, "aum_net_growth", 1_200_000)


CARD_FIELDS = ["employee__employee_id", "unit_id", "weighted_score", "bonus", "quarters_mean",
               "quarters_counted", "total", "rating", "vetoed", "veto_reasons",
               "no_total_reason", "rank", "rank_of", "unit_rank", "unit_rank_of"]  # fmt: skip
LINE_FIELDS = ["scorecard__employee__employee_id", "measure", "kpi", "dimension", "method",
               "value", "target", "points", "weight", "weighted", "applicable", "reason_code",
               "reason_params", "inputs", "position"]  # fmt: skip


def cards_of(run: ScoreRun) -> tuple[list[dict], list[dict]]:
    cards = Scorecard.objects.filter(run=run).order_by("employee__employee_id")
    lines = ScoreLine.objects.filter(scorecard__run=run).order_by(
        "scorecard__employee__employee_id", "position"
    )
    return list(cards.values(*CARD_FIELDS)), list(lines.values(*LINE_FIELDS))


def test_recomputing_gives_identical_cards(bank, book):
    rich_book(bank, book)
    first, second = score(), score()
    assert first.pk != second.pk
    assert Period.objects.get(code=Q3).current_run_id == second.pk
    cards, lines = cards_of(first)
    assert len(cards) == 3 and len(lines) == 3 * 17
    assert any(c["total"] is not None for c in cards)
    assert cards_of(second) == (cards, lines)


def stored_rows(run: ScoreRun) -> tuple[list[dict], list[dict]]:
    """Every column of the run's cards and lines, ids included."""
    return (
        list(Scorecard.objects.filter(run=run).order_by("id").values()),
        list(ScoreLine.objects.filter(scorecard__run=run).order_by("id").values()),
    )


def test_an_approved_period_is_not_recomputed_even_under_a_new_version(bank, book):
    rich_book(bank, book)
    run = score()
    period = Period.objects.get(code=Q3)
    approve_period(period, bank.users["admin"])
    every_row = stored_rows(run)
    runs = ScoreRun.objects.count()
    # A new version moves 10 points from sales to AUM: it would change every total.
    data = version_snapshot(default_version())
    data["kpis"][0]["weight"], data["kpis"][1]["weight"] = "11.45", "27.86"
    new = publish(bank, {"kpis": data["kpis"]})
    assert SchemeVersion.objects.in_force_on(period.last_day).first() == new
    with pytest.raises(ConflictError, match="approved"):
        score_period(period_code=Q3, trigger="test")
    period.refresh_from_db()
    assert (period.status, period.current_run_id) == ("approved", run.pk)
    assert ScoreRun.objects.count() == runs
    assert stored_rows(run) == every_row


# ================================================================ 8. weights total 100.00
@pytest.mark.parametrize(("sales_weight", "total"), [("21.44", "99.99"), ("21.46", "100.01")])
def test_weights_that_do_not_total_100_are_refused_naming_the_total(bank, sales_weight, total):
    data = version_snapshot(default_version())
    data["kpis"][0]["weight"] = sales_weight  # 21.45 in the default scheme
    version = draft(bank, {"kpis": data["kpis"]})
    assert f"KPI weights total {total}, not 100.00." in scheme_problems(version)
    with pytest.raises(ScoringError, match=total.replace(".", r"\.")):
        scheme_publish(version=version, actor=bank.users["admin"])
    version.refresh_from_db()
    assert version.status == SchemeVersion.Status.DRAFT


def test_weights_that_total_exactly_100_publish(bank):
    data = version_snapshot(default_version())
    # 21.45 − 0.01 and 17.86 + 0.01: still 100.00.
    data["kpis"][0]["weight"], data["kpis"][1]["weight"] = "21.44", "17.87"
    version = draft(bank, {"kpis": data["kpis"]})
    assert scheme_problems(version) == []
    published = scheme_publish(version=version, actor=bank.users["admin"])
    assert published.status == SchemeVersion.Status.PUBLISHED


# ================================================================ 10. what-if preview
def test_the_preview_scores_a_draft_beside_the_current_cards_and_writes_nothing(bank, book):
    publish(bank, {"kpis": [
        kpi("internal_policy", 50, measure("internal_policy", method="manual"),
            dimension="compliance"),
        kpi("collaboration", 50, measure("collaboration", method="manual"),
            dimension="teamwork"),
    ]})  # fmt: skip
    manual(ALICE, "internal_policy", Q3, 90)
    manual(ALICE, "collaboration", Q3, 60)
    manual(BOB, "internal_policy", Q3, 60)
    manual(BOB, "collaboration", Q3, 100)
    score()
    what_if = draft(bank, {"kpis": [
        kpi("internal_policy", 80, measure("internal_policy", method="manual"),
            dimension="compliance"),
        kpi("collaboration", 20, measure("collaboration", method="manual"),
            dimension="teamwork"),
    ]})  # fmt: skip

    def counts() -> tuple[int, int, int, int]:
        return (ScoreRun.objects.count(), Scorecard.objects.count(), ScoreLine.objects.count(),
                Period.objects.count())  # fmt: skip

    before = counts()
    preview = scheme_preview(version=what_if, period_code=Q3)
    assert counts() == before
    rows = {row["employee_id"]: row for row in preview["rows"]}
    # Now: Alice (90 + 60) / 2 = 75, Bob (60 + 100) / 2 = 80: Bob 1st, Alice 2nd.
    # With 80/20: Alice 0.8 × 90 + 0.2 × 60 = 84, Bob 0.8 × 60 + 0.2 × 100 = 68.
    picked = ["total_before", "rank_before", "total_after", "rank_after", "change"]
    assert [rows[ALICE][k] for k in picked] == [D(75), 2, D(84), 1, D(9)]
    assert [rows[BOB][k] for k in picked] == [D(80), 1, D(68), 2, D(-12)]
    assert [rows[DAN][k] for k in picked] == [None, None, None, None, None]
