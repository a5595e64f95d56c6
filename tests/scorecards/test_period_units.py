"""The close, branch by branch (SPEC §5, per unit; issue 17 item 1): a branch manager submits
her branch, an admin approves it (confirming open items with a reason) or sends it back; a
branch in review or approved takes no manual score, no incident decision and no recompute;
the period is approved when every branch is. Role × scope as everywhere: 404 out of scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance import services as compliance_services
from compliance.models import Incident
from scorecards.cards.services import manual_score_enter
from scorecards.models import ManualScore, Period, PeriodUnit, Scorecard
from scorecards.periods import services as period_services
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from targets.models import OrgUnit
from targets.org import services as org_services
from tests.conftest import WHO, make_person
from wealthscore.kernel.access import Role
from wealthscore.kernel.errors import ConflictError, DomainError
from wealthscore.models import AuditEntry

PERIOD = "2026-Q3"
UNITS = "/api/v1/periods/2026-Q3/units/"


@pytest.fixture
def scored(bank):
    """2026-Q3 scored for the bank's three RMs: alice and dan in branch A, bob in B."""
    scheme_services.install_default_scheme()
    for key in ("rm_alice", "rm_dan", "rm_bob"):
        ManualScore.objects.create(
            period=PERIOD, employee=bank.employees[key], measure="mentoring", score=Decimal(80)
        )
    run_services.score_period(period_code=PERIOD, trigger="test")
    return Period.objects.get(code=PERIOD)


def _post(bank, who, path, data=None):
    return bank.client(who).post(path, data or {}, format="json")


def _states(bank, who="admin") -> dict[str, str]:
    listed = bank.client(who).get(UNITS)
    assert listed.status_code == 200, listed.content
    return {row["unit_code"]: row["status"] for row in listed.data["units"]}


def test_a_branch_is_submitted_approved_and_sent_back_on_its_own(bank, scored):
    assert _states(bank) == {"A": "open", "B": "open"}
    submitted = _post(bank, "manager_a", f"{UNITS}A/submit/")
    assert submitted.status_code == 200, submitted.content
    assert [u["status"] for u in submitted.data["units"]] == ["in_review"]
    assert _states(bank) == {"A": "in_review", "B": "open"}
    assert Period.objects.get(code=PERIOD).status == "open"  # B is still open

    # Submitting again, or another manager's branch, is refused.
    again = _post(bank, "manager_a", f"{UNITS}A/submit/")
    assert again.status_code == 409 and again.data["code"] == "unit_state"
    assert "北京分行" in again.data["message"]
    assert _post(bank, "manager_b", f"{UNITS}A/submit/").status_code == 404
    assert _post(bank, "manager_a", f"{UNITS}B/submit/").status_code == 404
    # Only an admin approves or sends back.
    assert _post(bank, "manager_a", f"{UNITS}A/approve/").status_code == 403

    # Open items: the dan and alice cards have manual measures not all entered.
    blind = _post(bank, "admin", f"{UNITS}A/approve/")
    assert blind.status_code == 409 and blind.data["code"] == "open_items"
    assert "北京分行" in blind.data["message"]
    no_reason = _post(bank, "admin", f"{UNITS}A/approve/", {"confirm": True})
    assert no_reason.status_code == 400
    assert _states(bank)["A"] == "in_review"

    back = _post(bank, "admin", f"{UNITS}A/send-back/", {"reason": ""})
    assert back.status_code == 400
    back = _post(bank, "admin", f"{UNITS}A/send-back/", {"reason": "营销积分未录入"})
    assert back.status_code == 200
    assert _states(bank) == {"A": "open", "B": "open"}
    assert _post(bank, "manager_a", f"{UNITS}A/submit/").status_code == 200
    assert _post(bank, "manager_b", f"{UNITS}B/submit/").status_code == 200
    assert Period.objects.get(code=PERIOD).status == "in_review"  # every branch submitted

    confirmed = {"confirm": True, "reason": "委员会已确认"}
    assert _post(bank, "admin", f"{UNITS}A/approve/", confirmed).status_code == 200
    assert Period.objects.get(code=PERIOD).status == "in_review"
    twice = _post(bank, "admin", f"{UNITS}A/approve/", confirmed)
    assert twice.status_code == 409 and twice.data["code"] == "unit_state"
    assert "北京分行" in twice.data["message"]
    assert _post(bank, "admin", f"{UNITS}B/approve/", confirmed).status_code == 200
    assert Period.objects.get(code=PERIOD).status == "approved"

    moves = list(
        AuditEntry.objects.filter(object_type="period_unit")
        .order_by("id")
        .values_list("action", "object_id")
    )
    assert moves == [
        ("period_unit.submit", "2026-Q3/A"),
        ("period_unit.send_back", "2026-Q3/A"),
        ("period_unit.submit", "2026-Q3/A"),
        ("period_unit.submit", "2026-Q3/B"),
        ("period_unit.approve", "2026-Q3/A"),
        ("period_unit.approve", "2026-Q3/B"),
    ]
    statuses = (
        AuditEntry.objects.filter(action="period.status")
        .order_by("id")
        .values_list("after", flat=True)
    )
    assert [a["status"] for a in statuses] == ["in_review", "approved"]
    assert PeriodUnit.objects.get(period__code=PERIOD, unit__code="A").reason == "委员会已确认"


def test_a_branch_in_review_takes_no_manual_score_while_another_does(bank, scored):
    period_services.units_transition(
        period=scored, unit_codes=["A"], action="submit", actor=bank.users["manager_a"]
    )
    with pytest.raises(ConflictError) as refused:
        manual_score_enter(
            actor=bank.users["admin"], employee=bank.employees["rm_alice"], period=PERIOD,
            measure="mentoring", score=Decimal("70"),
        )  # fmt: skip
    assert refused.value.code == "unit_locked"
    assert "北京分行" in str(refused.value.message)
    row = manual_score_enter(
        actor=bank.users["manager_b"], employee=bank.employees["rm_bob"], period=PERIOD,
        measure="mentoring", score=Decimal("70"),
    )  # fmt: skip
    assert row.score == Decimal("70.00")
    assert ManualScore.objects.get(employee=bank.employees["rm_alice"]).score == Decimal(80)


def test_a_recompute_carries_a_locked_branch_over_unchanged(bank, scored):
    before = {
        c.employee.employee_id: (c.total, c.rank, list(c.lines.values_list("measure", "points")))
        for c in Scorecard.objects.filter(run_id=scored.current_run_id)
    }
    period_services.units_transition(
        period=scored, unit_codes=["A"], action="submit", actor=bank.users["manager_a"]
    )
    ManualScore.objects.filter(period=PERIOD).update(score=Decimal(10))  # as a file would
    run = run_services.score_period(period_code=PERIOD, trigger="test")
    assert Period.objects.get(code=PERIOD).current_run_id == run.pk
    after = {c.employee.employee_id: c for c in Scorecard.objects.filter(run=run)}
    assert set(after) == set(before)
    for key in ("000101", "000102"):  # branch A: as submitted
        card = after[key]
        assert card.carried_over
        assert (card.total, card.rank, list(card.lines.values_list("measure", "points"))) == (
            before[key]
        )
    bob = after["000201"]  # branch B: computed again, with the new manual score
    assert not bob.carried_over
    assert bob.total != before["000201"][0]


def test_an_incident_of_a_branch_in_review_waits(bank, scored):
    incident = compliance_services.incident_create(
        actor=bank.users["compliance"], employee=bank.employees["rm_alice"],
        type_code="misleading_sales", occurred_on=dt.date(2026, 8, 14), description="误导销售",
    )  # fmt: skip
    period_services.units_transition(
        period=scored, unit_codes=["A"], action="submit", actor=bank.users["manager_a"]
    )
    with pytest.raises(ConflictError) as refused:
        compliance_services.incident_decide(
            incident=incident, decision="confirm", actor=bank.users["compliance"], reason="核实"
        )
    assert refused.value.code == "unit_locked"
    assert Incident.objects.get(pk=incident.pk).status == "open"


def test_approving_the_period_needs_every_branch_submitted(bank, scored):
    with pytest.raises(ConflictError) as refused:
        period_services.period_transition(
            period=scored, action="approve", actor=bank.users["admin"]
        )
    assert refused.value.code == "not_submitted"
    assert "北京分行" in str(refused.value.message) and "上海分行" in str(refused.value.message)
    period_services.period_transition(period=scored, action="submit", actor=bank.users["admin"])
    with pytest.raises(DomainError):  # open items, no reason
        period_services.period_transition(
            period=scored, action="approve", actor=bank.users["admin"], confirm=True
        )
    period = period_services.period_transition(
        period=scored, action="approve", actor=bank.users["admin"], confirm=True, reason="年终"
    )
    assert period.status == "approved"
    assert set(PeriodUnit.objects.values_list("status", flat=True)) == {"approved"}


@pytest.mark.parametrize("who", WHO)
def test_who_sees_which_branches(bank, scored, who):
    client = bank.client(None if who == "anonymous" else who)
    response = client.get(UNITS)
    expected = {
        "anonymous": None, "rm_alice": None, "manager_a": {"A"}, "manager_b": {"B"},
        "hr": {"A", "B"}, "compliance": {"A", "B"}, "admin": {"A", "B"},
    }[who]  # fmt: skip
    if expected is None:
        assert response.status_code == (401 if who == "anonymous" else 404)
        return
    assert response.status_code == 200
    assert {row["unit_code"] for row in response.data["units"]} == expected
    checklist = {row["unit_code"]: row["checklist"] for row in response.data["units"]}
    if "A" in checklist:
        assert checklist["A"]["rms"] == 2 and checklist["A"]["rms_without_card"] == 0


def test_a_sub_branch_manager_sees_her_branch_and_cannot_submit_it(bank, scored):
    bank.users["manager_a1"], _employee = make_person(
        key="manager_a1", employee_id="000110", unit=bank.sub_a1, role=Role.MANAGER
    )
    client = bank.client("manager_a1")
    listed = client.get(UNITS)
    assert listed.status_code == 200
    assert [row["unit_code"] for row in listed.data["units"]] == ["A"]
    assert client.post(f"{UNITS}A/submit/", {}, format="json").status_code == 404
    assert client.post("/api/v1/periods/2026-Q3/submit/", {}, format="json").status_code == 409


def test_the_board_costs_the_same_queries_for_more_branches(bank, scored):
    def board_queries() -> int:
        client = bank.client("admin")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(UNITS).status_code == 200
        return len(queries)

    board_queries()  # the first request warms per-process caches (the scheme's rules)
    few = board_queries()
    for n in range(5):
        org_services.org_unit_create(
            code=f"C{n}", name=f"分行{n}", level=OrgUnit.Level.BRANCH, parent=bank.head,
            actor=None, actor_label="test",
        )  # fmt: skip
    assert board_queries() == few


def test_a_pay_export_of_an_approved_branch_is_final_while_the_bank_is_provisional(bank, scored):
    from scorecards.models import PayPolicy
    from scorecards.pay.outcomes import install_default_pay_policy
    from scorecards.pay.selectors import pay_report

    install_default_pay_policy(PayPolicy)
    admin = bank.users["admin"]
    period_services.units_transition(period=scored, unit_codes=["A"], action="submit",
                                     actor=bank.users["manager_a"])  # fmt: skip
    period_services.units_transition(period=scored, unit_codes=["A"], action="approve",
                                     actor=admin, confirm=True, reason="委员会已确认")  # fmt: skip
    assert not pay_report(period_code=PERIOD, unit=bank.branch_a).provisional
    assert not pay_report(period_code=PERIOD, unit=bank.sub_a1).provisional  # inside A
    assert pay_report(period_code=PERIOD, unit=bank.branch_b).provisional
    assert pay_report(period_code=PERIOD).provisional  # the bank: B is still open


def test_a_manual_scores_file_into_a_branch_in_review_is_refused_whole(bank, scored, tmp_path):
    """The file is refused as the team page refuses the score: every row of a locked
    branch named, nothing loaded (not even the rows of the open branch)."""
    from crm import services as crm_services

    period_services.units_transition(
        period=scored, unit_codes=["A"], action="submit", actor=bank.users["manager_a"]
    )
    alice, bob = bank.employees["rm_alice"].employee_id, bank.employees["rm_bob"].employee_id
    path = tmp_path / "manual_scores_2026.csv"
    path.write_text(
        "period,employee_id,measure,score,comment\n"
        f"{PERIOD},{bob},mentoring,61.00,\n"
        f"{PERIOD},{alice},mentoring,62.00,\n",
        encoding="utf-8",
    )
    batch = crm_services.import_file(path=path, kind="manual_scores", actor_label="test")
    assert batch.status == "rejected", batch.message
    assert [(e["row"], e["column"], e["value"]) for e in batch.errors] == [
        (3, "employee_id", alice)
    ]
    assert "北京分行" in batch.errors[0]["reason"]
    assert sorted(ManualScore.objects.values_list("score", flat=True)) == [80, 80, 80]
    # Sent back, the same file loads.
    period_services.units_transition(
        period=scored, unit_codes=["A"], action="send_back", actor=bank.users["admin"],
        reason="复核",
    )  # fmt: skip
    again = crm_services.import_file(path=path, kind="manual_scores", actor_label="test")
    assert again.status == "loaded", again.message


def test_a_manual_scores_file_into_an_approved_period_is_refused_in_the_readers_language(
    bank, scored, tmp_path
):
    """The refusal is stored as its code: the batch imported in Chinese (the worker's
    language) reads in English to an English reader, the same words as the form's."""
    from django.utils import translation

    from crm import services as crm_services
    from scorecards.cards.services import approved_refusal

    period_services.period_transition(period=scored, action="submit", actor=bank.users["admin"])
    period_services.period_transition(
        period=scored, action="approve", actor=bank.users["admin"], confirm=True, reason="年终"
    )
    alice = bank.employees["rm_alice"].employee_id
    path = tmp_path / "manual_scores_approved.csv"
    path.write_text(
        f"period,employee_id,measure,score,comment\n{PERIOD},{alice},mentoring,62.00,\n",
        encoding="utf-8",
    )
    with translation.override("zh-hans"):
        batch = crm_services.import_file(path=path, kind="manual_scores", actor_label="test")
    assert batch.status == "rejected"
    assert batch.row_errors[0]["reason"] == {
        "code": "manual_period_approved", "params": {"period": PERIOD}
    }  # fmt: skip
    assert batch.errors[0]["reason"] == approved_refusal(PERIOD)
    assert "2026-Q3 is approved: an admin must reopen it" in batch.errors[0]["reason"]
    with translation.override("zh-hans"):
        assert batch.errors[0]["reason"] == approved_refusal(PERIOD) != batch.row_errors[0]
        assert "2026-Q3" in batch.errors[0]["reason"] and "approved" not in approved_refusal(PERIOD)
