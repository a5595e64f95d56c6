"""The two rules that were written twice and had come apart (issue 16), each now one function,
each held here on every path that uses it:

- a strategic product (SPEC §5, strategic_sales) is one tagged 固收+ or 养老 — not any product
  with a tag: the score and the prior-year base of its targets count the same sales;
- a case belongs to the RM's unit on its day (SPEC §2, §6): a move leaves earlier days where
  they were, whether the case was recorded by hand or raised by an import (sales, recording
  checks); a day before her first membership belongs to her first unit, never to the unit she
  moved to later.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from compliance.models import Incident, SaleCheck
from compliance.services import incident_create
from crm import services as imports
from crm.models import BatchStatus, Product
from targets.org import services
from targets.plan import services as plan_services
from tests.compliance.test_warnings import write
from tests.scorecards.test_scoring import ALICE, BOB, DAN, Book, line_of, score, set_target
from wealthscore.kernel.errors import DomainError

D = Decimal


# ---------------------------------------------------------------- strategic product
@pytest.fixture
def tagged(bank) -> Book:
    """Q3 2026 sales: Alice 1,000,000 of 固收+ and 500,000 of a product an admin tagged
    'green_bond' in the table (no file can: the column's choices are the catalog's); Dan
    1,000,000 of 固收+; Bob 300,000 of the other tag only."""
    book = Book()
    book.product("P_FIP", tag="fixed_income_plus")
    book.product("P_GREEN")
    Product.objects.filter(product_code="P_GREEN").update(strategic_tag="green_bond")
    book.sale("2026-07-15", "C1", ALICE, 1_000_000, product="P_FIP")
    book.sale("2026-08-15", "C1", ALICE, 500_000, product="P_GREEN")
    book.sale("2026-08-16", "C2", DAN, 1_000_000, product="P_FIP")
    book.sale("2026-08-17", "C3", BOB, 300_000, product="P_GREEN")
    return book


def test_another_tag_is_no_strategic_product_in_the_score(bank, tagged):
    set_target(bank, ALICE, "strategic_sales", 12_000_000)
    set_target(bank, BOB, "strategic_sales", 12_000_000)
    run = score()
    assert line_of(run, ALICE, "strategic_sales").value == D("1000000")
    assert line_of(run, BOB, "strategic_sales").value == D("0")


def test_another_tag_is_no_strategic_product_in_the_prior_year_target_base(bank, tagged):
    # 2027's 2,000,000 for 北京分行, pro rata to 2026's strategic sales: A1 (Alice) 1,000,000,
    # A2 (Dan) 1,000,000 -> half each. Counting 'green_bond' would give A1 1,500,000: 60 %.
    admin = bank.users["admin"]
    plan_services.annual_target_set(
        actor=admin, subject=bank.branch_a, year=2027, measure="strategic_sales",
        amount=D("2000000"),
    )  # fmt: skip
    children = plan_services.targets_decompose(
        actor=admin, unit=bank.branch_a, year=2027, measure="strategic_sales",
        method="prior_year",
    )  # fmt: skip
    assert [(c.unit.code, c.annual_target) for c in children] == [
        ("A1", D("1000000.00")),
        ("A2", D("1000000.00")),
    ]
    # Down to the RMs of B1: Bob's only sales carry the other tag, so there is no base at all.
    plan_services.annual_target_set(
        actor=admin, subject=bank.sub_b1, year=2027, measure="strategic_sales",
        amount=D("500000"),
    )  # fmt: skip
    with pytest.raises(DomainError, match="Every base is zero"):
        plan_services.targets_decompose(
            actor=admin, unit=bank.sub_b1, year=2027, measure="strategic_sales",
            method="prior_year",
        )  # fmt: skip


# ---------------------------------------------------------------- the RM's unit on a day
BEFORE_MOVE, AFTER_MOVE, BEFORE_HIRE = "2026-08-05", "2026-08-10", "2020-02-15"


def load(path: Path, kind: str) -> None:
    batch = imports.import_file(path=path, kind=kind, actor_label="test")
    assert batch.status == BatchStatus.LOADED, batch.errors


@pytest.fixture
def moved(bank):
    """Alice: A1 from her hire (2020-03-01), B1 from 2026-08-08."""
    alice = bank.employees["rm_alice"]
    services.employee_move(
        employee=alice, unit=bank.sub_b1, effective_date=dt.date(2026, 8, 8),
        actor=bank.users["admin"],
    )  # fmt: skip
    return alice


def test_the_unit_of_a_day_is_the_membership_of_that_day_else_the_nearest_earlier(bank, moved):
    assert moved.unit_on(dt.date.fromisoformat(BEFORE_MOVE)).code == "A1"
    assert moved.unit_on(dt.date(2026, 8, 7)).code == "A1"  # valid_to is exclusive
    assert moved.unit_on(dt.date(2026, 8, 8)).code == "B1"
    assert moved.unit_on(dt.date.fromisoformat(BEFORE_HIRE)).code == "A1"  # her first
    # After she left (her last membership closed): the last unit she belonged to.
    moved.memberships.filter(valid_to__isnull=True).update(valid_to=dt.date(2026, 9, 1))
    assert moved.unit_on(dt.date(2026, 9, 15)).code == "B1"


def test_a_case_hand_recorded_belongs_to_the_unit_of_its_day(bank, moved):
    units = {}
    for day in (BEFORE_MOVE, AFTER_MOVE, BEFORE_HIRE):
        incident = incident_create(
            actor=bank.users["compliance"], employee=moved, type_code="misleading_sales",
            occurred_on=dt.date.fromisoformat(day), description="复核发现",
        )  # fmt: skip
        units[day] = incident.unit.code
    assert units == {BEFORE_MOVE: "A1", AFTER_MOVE: "B1", BEFORE_HIRE: "A1"}


def test_a_case_an_import_raises_belongs_to_the_unit_of_its_day(bank, moved, tmp_path):
    load(write(tmp_path / "products.csv",
               ["product_code", "product_name", "category", "risk_level"],
               [("P4", "权益基金", "fund", "R4")]), "products")  # fmt: skip
    holdings = ["as_of_date", "client_id", "client_name", "rm_employee_id", "unit_code",
                "category", "balance", "client_risk_level", "risk_assessed_on"]  # fmt: skip
    for day, unit in (("2020-01-31", "A1"), ("2026-07-31", "A1")):
        load(write(tmp_path / f"holdings_{day}.csv", holdings,
                   [(day, "0000000001", "张三丰", "000101", unit, "deposit", "100000", "C2",
                     day[:4] + "-01-10")]), "holdings")  # fmt: skip
    # Every sale is R4 to a C2 client: unsuitable, so each raises a warning on its day.
    sales = ["txn_id", "txn_date", "client_id", "rm_employee_id", "product_code", "amount",
             "channel"]  # fmt: skip
    load(write(tmp_path / "sales.csv", sales, [
        (f"T_{day}", day, "0000000001", "000101", "P4", "10000", "柜面")
        for day in (BEFORE_MOVE, AFTER_MOVE, BEFORE_HIRE)
    ]), "sales")  # fmt: skip
    checks = ["check_id", "check_date", "rm_employee_id", "txn_id", "compliant"]
    load(write(tmp_path / "recording_checks.csv", checks, [
        (f"R_{day}", day, "000101", "", "N") for day in (BEFORE_MOVE, AFTER_MOVE, BEFORE_HIRE)
    ]), "recording_checks")  # fmt: skip

    expected = {BEFORE_MOVE: "A1", AFTER_MOVE: "B1", BEFORE_HIRE: "A1"}
    by_day = {
        (type_code, day.isoformat()): unit
        for type_code, day, unit in Incident.objects.values_list(
            "type_id", "occurred_on", "unit__code"
        )
    }
    assert by_day == {
        **{("unsuitable_sale", day): unit for day, unit in expected.items()},
        **{("non_compliant_recording", day): unit for day, unit in expected.items()},
    }
    assert dict(SaleCheck.objects.values_list("txn_id", "unit_code")) == {
        f"T_{day}": unit for day, unit in expected.items()
    }
