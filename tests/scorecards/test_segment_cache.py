"""A recompute reads back the months no import has changed and computes the others afresh
(scorecards.runs.measures.SegmentCache under crm.FactMonth versions): never a stale figure."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.models import FactMonth
from scorecards.models import MeasureSegment, Scorecard
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from tests.compliance.test_warnings import HOLDINGS, SALES, load, write

PRODUCTS = ["product_code", "product_name", "category", "risk_level"]


@pytest.fixture
def bank_with_facts(bank, tmp_path):
    scheme_services.install_default_scheme()
    load(write(tmp_path / "products.csv", PRODUCTS, [("P2", "稳健理财", "wealth", "R2")]),
         "products")  # fmt: skip
    for day in ("2026-06-30", "2026-07-31", "2026-08-31"):
        load(write(tmp_path / f"holdings_{day}.csv", HOLDINGS, [
            (day, "0000000001", "张三丰", "000101", "A1", "deposit", "100000", "C3", "2026-03-01"),
            (day, "0000000003", "王重阳", "000201", "B1", "deposit", "100000", "C3", "2026-02-01"),
        ]), "holdings")  # fmt: skip
    load(sales(tmp_path, "sales_07.csv", "2026-07-10", "1000"), "sales")
    load(sales(tmp_path, "sales_08.csv", "2026-08-10", "2000"), "sales")
    return tmp_path


def sales(folder, name: str, day: str, amount: str):
    return write(folder / name, SALES, [
        (f"T{day}A", day, "0000000001", "000101", "P2", amount, "柜面"),
        (f"T{day}B", day, "0000000003", "000201", "P2", amount, "柜面"),
    ])  # fmt: skip


def amount(period: str, employee_id: str) -> Decimal:
    card = Scorecard.objects.current().get(
        run__period__code=period, employee__employee_id=employee_id
    )
    return card.lines.get(measure="sales_attainment").value


def test_months_unchanged_are_read_back_and_a_corrected_month_is_computed_again(
    bank_with_facts,
):
    run_services.score_period(period_code="2026-Q3", trigger="test")
    assert amount("2026-Q3", "000101") == Decimal("3000")
    kept = {row.key: row.computed_at for row in MeasureSegment.objects.all()}
    assert {key.split(":")[1] for key in kept} >= {"2026-07", "2026-08"}

    # Scored again with nothing imported: every stretch is read back, the cards identical.
    run_services.score_period(period_code="2026-Q3", trigger="test")
    assert {row.key: row.computed_at for row in MeasureSegment.objects.all()} == kept
    assert amount("2026-Q3", "000101") == Decimal("3000")

    # August corrected (every amount changed): August's version rises, July's does not.
    july, august = (FactMonth.objects.get(month=m).version for m in ("2026-07", "2026-08"))
    load(sales(bank_with_facts, "sales_08_fixed.csv", "2026-08-10", "2500"), "sales")
    assert FactMonth.objects.get(month="2026-07").version == july
    assert FactMonth.objects.get(month="2026-08").version == august + 1
    run_services.score_period(period_code="2026-Q3", trigger="test")
    assert amount("2026-Q3", "000101") == Decimal("3500")
    assert amount("2026-Q3", "000201") == Decimal("3500")
    after = {row.key: row.computed_at for row in MeasureSegment.objects.all()}
    july_keys = [key for key in kept if key.split(":")[1] == "2026-07"]
    assert july_keys and all(after[key] == kept[key] for key in july_keys)
    august_keys = [key for key in kept if key.split(":")[1] == "2026-08"]
    assert august_keys and all(after[key] > kept[key] for key in august_keys)


def test_a_month_no_import_touched_is_never_cached(bank):
    """Facts written some other way (no version) are always read live."""
    scheme_services.install_default_scheme()
    run_services.score_period(period_code="2026-09", trigger="test")
    assert not MeasureSegment.objects.exists()
