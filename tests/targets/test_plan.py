"""Targets (SPEC §3): splitting to the cent, profiles, probation, scope, reconciliation."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm import services as crm_services
from crm.models import BatchStatus
from crm.sample import write_exports
from targets.models import AnnualTarget, DistributionProfile, OrgUnit
from targets.plan import services as plan_services
from targets.plan.amounts import monthly_amounts, split_to_cent, target_for
from tests.conftest import WHO
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.periods import parse_period
from wealthscore.models import AuditEntry

cents = st.integers(min_value=0, max_value=10**13).map(lambda c: Decimal(c) / 100)
weights = st.lists(
    st.integers(min_value=0, max_value=10**9).map(Decimal), min_size=1, max_size=40
).filter(lambda w: sum(w) > 0)


@given(total=cents, weights=weights)
def test_a_split_always_adds_up_to_the_parent_to_the_cent(total, weights) -> None:
    parts = split_to_cent(total, weights)
    assert sum(parts) == total
    assert all(part == part.quantize(Decimal("0.01")) and part >= 0 for part in parts)
    # Largest remainder: no part is a cent or more away from its exact share.
    exact = [total * w / sum(weights) for w in weights]
    assert all(abs(p - e) < Decimal("0.01") for p, e in zip(parts, exact, strict=True))


trees = st.recursive(
    st.just([]), lambda children: st.lists(children, min_size=1, max_size=4), max_leaves=30
)


@given(total=cents, tree=trees, data=st.data())
def test_decomposing_down_any_tree_conserves_every_parent(total, tree, data) -> None:
    def decompose(amount: Decimal, children: list) -> Decimal:
        if not children:
            return amount
        shares = data.draw(
            st.lists(
                st.integers(1, 1000).map(Decimal), min_size=len(children), max_size=len(children)
            )
        )
        parts = split_to_cent(amount, shares)
        assert sum(parts) == amount
        return sum(decompose(p, c) for p, c in zip(parts, children, strict=True))

    assert decompose(total, tree) == total


class Shares:
    def __init__(self, shares: list[Decimal]):
        self.shares = shares


@given(annual=cents, raw=st.lists(st.integers(0, 5000), min_size=12, max_size=12).filter(any))
def test_months_sum_to_the_year_and_quarters_to_their_months(annual, raw) -> None:
    months = monthly_amounts(annual, Shares([Decimal(r) for r in raw]))
    assert len(months) == 12 and sum(months) == annual
    quarters = [sum(months[q * 3 : q * 3 + 3]) for q in range(4)]
    assert sum(quarters) == annual


def test_periods_parse() -> None:
    assert parse_period("2026-Q3").months == (7, 8, 9)
    assert parse_period("2026-10").first_day == dt.date(2026, 10, 1)
    assert parse_period("2026").last_day == dt.date(2026, 12, 31)
    with pytest.raises(ValueError, match="not a period"):
        parse_period("2026-13")


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ([Decimal("8.33")] * 11, "a share for each of the 12 months; 11 given"),
        ([Decimal("8.33")] * 11 + [Decimal("8.36")], "total 99.99%; they must total exactly 100"),
        ([Decimal("8.333")] * 12, "at most 2 decimals"),
    ],
)
def test_a_profile_that_is_not_12_shares_of_100_is_refused(bank, shares, message) -> None:
    with pytest.raises(DomainError, match=message):
        plan_services.distribution_profile_save(actor=bank.users["admin"], name="x", shares=shares)
    assert not DistributionProfile.objects.filter(name="x").exists()


def test_profiles_ship_and_an_admin_saves_a_new_one_audited(bank) -> None:
    assert sum(DistributionProfile.objects.get(name="开门红").shares) == 100
    assert sum(DistributionProfile.objects.get(name="开门红").shares[:3]) == 30
    shares = [Decimal(10)] * 4 + [Decimal(7.5)] * 8
    plan_services.distribution_profile_save(
        actor=bank.users["admin"], name="前高后低", shares=shares
    )
    assert DistributionProfile.objects.get(name="前高后低").shares == shares
    assert AuditEntry.objects.filter(action="profile.save", object_id="前高后低").exists()


def test_probation_halves_flow_targets_until_six_months_of_tenure(bank) -> None:
    rm = bank.employees["rm_dan"]
    rm.hire_date = dt.date(2026, 5, 10)
    rm.save()
    admin = bank.users["admin"]
    plan_services.annual_target_set(
        actor=admin, subject=rm, year=2026, measure="sales_attainment", amount=Decimal("1200000")
    )
    plan_services.annual_target_set(
        actor=admin, subject=rm, year=2026, measure="nps", amount=Decimal("60")
    )
    months = {m: target_for(rm, "sales_attainment", f"2026-{m:02d}") for m in range(1, 13)}
    for month in range(5, 12):
        assert months[month].amount == Decimal("50000.00"), month
        assert any("probation factor 0.5" in step for step in months[month].steps)
    assert months[4].amount == Decimal("50000.00")  # before she was hired: tenure below 6
    assert months[12].amount == Decimal("100000.00")
    assert not any("probation" in step for step in months[12].steps)
    quarter = target_for(rm, "sales_attainment", "2026-Q4")
    assert quarter.amount == Decimal("200000.00")  # 50,000 + 50,000 + 100,000
    # A rate is not spread over the months, nor halved on probation: NPS 60 in every period.
    for period in ("2026-10", "2026-Q4", "2026"):
        nps = target_for(rm, "nps", period)
        assert nps.amount == Decimal("60.00"), period
        assert not any("probation" in step for step in nps.steps)


def test_a_personal_factor_and_an_override_are_explained(bank) -> None:
    alice = bank.employees["rm_alice"]
    manager = bank.users["manager_a"]
    plan_services.annual_target_set(
        actor=manager, subject=alice, year=2026, measure="fee_income", amount=Decimal("120000")
    )
    plan_services.target_adjustment_set(
        actor=manager,
        employee=alice,
        year=2026,
        measure="fee_income",
        factor=Decimal("0.8"),
        reason="产假三个月",
    )
    target = target_for(alice, "fee_income", "2026-Q1")
    assert target.amount == Decimal("24000.00")
    assert any("Personal factor 0.8: 产假三个月" in step for step in target.steps)
    plan_services.target_adjustment_set(
        actor=manager,
        employee=alice,
        year=2026,
        measure="fee_income",
        override=Decimal("60000"),
        reason="调岗",
    )
    assert target_for(alice, "fee_income", "2026").amount == Decimal("60000.00")
    assert AuditEntry.objects.filter(action="target.adjust").count() == 2


def test_a_manager_sets_targets_in_his_subtree_only_never_his_own_unit(bank) -> None:
    manager = bank.users["manager_a"]
    plan_services.annual_target_set(
        actor=manager,
        subject=bank.sub_a1,
        year=2026,
        measure="sales_attainment",
        amount=Decimal("1"),
    )
    plan_services.annual_target_set(
        actor=manager,
        subject=bank.employees["rm_alice"],
        year=2026,
        measure="sales_attainment",
        amount=Decimal("1"),
    )
    with pytest.raises(DomainError, match="set by the level above"):
        plan_services.annual_target_set(
            actor=manager,
            subject=bank.branch_a,
            year=2026,
            measure="sales_attainment",
            amount=Decimal("1"),
        )
    from django.http import Http404

    with pytest.raises(Http404):
        plan_services.annual_target_set(
            actor=manager,
            subject=bank.sub_b1,
            year=2026,
            measure="sales_attainment",
            amount=Decimal("1"),
        )


@pytest.mark.parametrize("who", WHO)
def test_targets_api_matrix(bank, who) -> None:
    admin = bank.users["admin"]
    for subject in (bank.branch_a, bank.sub_a1, bank.sub_b1, bank.employees["rm_alice"]):
        plan_services.annual_target_set(
            actor=admin,
            subject=subject,
            year=2026,
            measure="sales_attainment",
            amount=Decimal("100"),
        )
    client = bank.client(None if who == "anonymous" else who)
    listed = client.get("/api/v1/targets/?year=2026")
    post_a1 = client.post(
        "/api/v1/targets/",
        {"scope": "A1", "year": 2026, "measure": "sales_attainment", "annual_target": "200"},
        format="json",
    )
    post_b1 = client.post(
        "/api/v1/targets/",
        {"scope": "B1", "year": 2026, "measure": "sales_attainment", "annual_target": "200"},
        format="json",
    )
    explain = client.get("/api/v1/targets/explain/?scope=B1&measure=sales_attainment&period=2026")
    if who == "anonymous":
        assert listed.status_code == 401 and post_a1.status_code == 401
        return
    scopes = sorted(row["scope"] for row in listed.json()["results"])
    expected = {
        "rm_alice": ["000101", "A1"],
        "manager_a": ["000101", "A", "A1"],
        "manager_b": ["B1"],
    }.get(who, ["000101", "A", "A1", "B1"])
    assert scopes == sorted(expected)
    a1_status = {"manager_a": 201, "admin": 201, "manager_b": 404}.get(who, 403)
    assert post_a1.status_code == a1_status, post_a1.content
    b1_status = {"manager_b": 201, "admin": 201, "manager_a": 404, "rm_alice": 404}.get(who, 403)
    assert post_b1.status_code == b1_status, post_b1.content
    assert explain.status_code == (404 if who in ("rm_alice", "manager_a") else 200)


def test_decomposition_splits_to_the_cent_and_is_audited(bank) -> None:
    admin = bank.users["admin"]
    plan_services.annual_target_set(
        actor=admin,
        subject=bank.branch_a,
        year=2026,
        measure="sales_attainment",
        amount=Decimal("1000000.01"),
    )
    children = plan_services.targets_decompose(
        actor=bank.users["manager_a"],
        unit=bank.branch_a,
        year=2026,
        measure="sales_attainment",
        method="equal",
    )
    assert [c.annual_target for c in children] == [Decimal("500000.01"), Decimal("500000.00")]
    with pytest.raises(DomainError, match="total 10.00 but the target of A1 is 500000.01"):
        plan_services.targets_decompose(
            actor=admin,
            unit=bank.sub_a1,
            year=2026,
            measure="sales_attainment",
            method="manual",
            manual={"000101": Decimal("10")},
        )
    assert AuditEntry.objects.filter(action="target.set").count() == 3


def test_sample_targets_import_and_export_reconcile(db, tmp_path: Path, django_user_model) -> None:
    files = write_exports(
        tmp_path / "inbox", rms=12, clients_per_rm=2, months=1, year=2025, seed=11
    )
    result = crm_services.run_nightly(inbox=tmp_path / "inbox", actor_label="test")
    assert result.rejected == [] and "targets_2025.csv" in result.loaded
    assert any(path.name == "targets_2025.csv" for path in files)
    admin = django_user_model.objects.create_superuser("root", password="x")
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(admin)
    head = OrgUnit.objects.get(parent__isnull=True)
    for unit in OrgUnit.objects.exclude(level="sub_branch"):
        report = client.get(f"/api/v1/targets/reconciliation/?unit={unit.code}&year=2025").json()
        assert report and all(Decimal(line["variance"]) == 0 for line in report), report
    body = client.get(f"/api/v1/targets/export/?unit={head.code}&year=2025")
    assert body.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(body.content)).active
    imported = {t.measure: t.annual_target for t in AnnualTarget.objects.filter(unit=head)}
    exported = {}
    for measure, _key, label, amount in sheet.iter_rows(min_row=4, values_only=True):
        assert not (isinstance(amount, str) and amount.startswith("="))
        if label == f"{head.code} 本级目标":
            exported[measure] = Decimal(str(amount)).quantize(Decimal("0.01"))
    assert exported == imported and len(imported) == 4
    assert crm_services.ImportBatch.objects.get(file_name="targets_2025.csv").status == (
        BatchStatus.LOADED
    )
