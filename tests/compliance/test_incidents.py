"""Incidents and one-vote vetoes (SPEC §6): a confirmed veto fails the month, quarter and
year of its date, visibly and with its reason, and a decision is never silently lost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance import services
from compliance.models import Incident, IncidentDecision, IncidentType
from scorecards.models import ManualScore, Period, Scorecard
from scorecards.periods import services as period_services
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from tests.conftest import approve_period
from wealthscore.kernel.errors import ConflictError, DomainError, ForbiddenError
from wealthscore.models import AuditEntry

ALICE, DAN, BOB = "000101", "000102", "000201"
PERIODS = ["2026-08", "2026-Q3", "2026"]
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


@pytest.fixture
def scored(bank):
    """August, Q3 and the year 2026 scored for the three RMs (manual scores only): every
    card has the same total, so a veto shows in the ranks too."""
    scheme_services.install_default_scheme()
    for key in ("rm_alice", "rm_dan", "rm_bob"):
        for period in ("2026-Q3", "2026"):
            ManualScore.objects.create(
                period=period, employee=bank.employees[key], measure="mentoring",
                score=Decimal("80"),
            )  # fmt: skip
    for code in PERIODS:
        run_services.score_period(period_code=code, trigger="test")
    return bank


def cards(period: str) -> dict[str, Scorecard]:
    return {
        card.employee.employee_id: card
        for card in Scorecard.objects.current()
        .filter(run__period__code=period)
        .select_related("employee")
    }


def card_state(period: str) -> dict[str, tuple]:
    return {
        rm: (c.total, c.rating, c.vetoed, c.veto_reasons, c.rank, c.unit_rank)
        for rm, c in cards(period).items()
    }


def record(bank, *, type_code="misleading_sales", day="2026-08-14", who="rm_alice", **kw):
    return services.incident_create(
        actor=bank.users["compliance"],
        employee=bank.employees[who],
        type_code=type_code,
        occurred_on=dt.date.fromisoformat(day),
        description="向C3客户推荐R5产品并承诺保本",
        **kw,
    )


def test_a_confirmed_misleading_sale_vetoes_the_month_quarter_and_year_of_its_date(scored):
    bank = scored
    before = {period: card_state(period) for period in PERIODS}
    assert all(not state[ALICE][2] for state in before.values())
    incident = record(bank)
    assert {p: card_state(p) for p in PERIODS} == before  # an open case changes nothing

    services.incident_decide(
        incident=incident, actor=bank.users["compliance"], decision="confirm",
        reason="录音证实误导",
    )  # fmt: skip

    for period in PERIODS:
        alice = cards(period)[ALICE]
        assert alice.vetoed and alice.rating == "D", period
        assert alice.veto_reasons == [f"误导销售 2026-08-14 (#{incident.pk})"], period
        # The computed total stays, beside the veto; the card ranks last in bank and unit.
        assert alice.total == before[period][ALICE][0] and alice.total is not None
        assert (alice.rank, alice.rank_of) == (3, 3), period
        others = cards(period)
        assert others[DAN].rank == others[BOB].rank == 1
        assert not others[DAN].vetoed and not others[BOB].vetoed
    # Other months are not touched: July has no veto (and was never scored here).
    assert not Period.objects.filter(code="2026-07").exists()
    decision = IncidentDecision.objects.get(incident=incident)
    assert (decision.status, decision.veto, decision.actor) == (
        "confirmed",
        True,
        bank.users["compliance"],
    )


def test_dismissing_it_instead_leaves_the_cards_as_they_were(scored):
    bank = scored
    before = {period: card_state(period) for period in PERIODS}
    incident = record(bank)
    services.incident_decide(
        incident=incident, actor=bank.users["admin"], decision="dismiss", reason="证据不足"
    )
    assert {period: card_state(period) for period in PERIODS} == before
    incident.refresh_from_db()
    assert (incident.status, incident.veto, incident.decided_by) == (
        "dismissed",
        False,
        bank.users["admin"],
    )


def test_reversing_a_veto_is_a_new_audited_event_and_restores_the_cards(scored):
    bank = scored
    before = card_state("2026-Q3")
    incident = record(bank, type_code="off_book_sales", day="2026-09-03")
    officer = bank.users["compliance"]
    services.incident_decide(incident=incident, actor=officer, decision="confirm", reason="飞单")
    assert cards("2026-Q3")[ALICE].vetoed
    services.incident_decide(
        incident=incident, actor=officer, decision="dismiss", reason="复核：系代客转账"
    )
    assert card_state("2026-Q3") == before
    history = list(IncidentDecision.objects.filter(incident=incident).order_by("id"))
    assert [(d.previous_status, d.status, d.veto) for d in history] == [
        ("open", "confirmed", True),
        ("confirmed", "dismissed", False),
    ]
    audit = AuditEntry.objects.filter(object_type="incident", object_id=str(incident.pk))
    assert list(audit.order_by("id").values_list("action", "reason", "actor")) == [
        ("incident.create", "", officer.pk),
        ("incident.confirm", "飞单", officer.pk),
        ("incident.dismiss", "复核：系代客转账", officer.pk),
    ]
    with pytest.raises(TypeError):
        IncidentDecision.objects.filter(incident=incident).update(reason="edited")


def test_a_type_that_does_not_veto_changes_no_card(scored):
    bank = scored
    before = card_state("2026-08")
    incident = record(bank, type_code="complaint")
    services.incident_decide(
        incident=incident, actor=bank.users["compliance"], decision="confirm", reason="属实"
    )
    incident.refresh_from_db()
    assert incident.status == "confirmed" and not incident.veto
    assert card_state("2026-08") == before


def test_the_veto_flag_is_taken_when_the_case_is_confirmed(scored):
    bank = scored
    incident = record(bank, type_code="missing_recording")
    IncidentType.objects.filter(code="missing_recording").update(is_veto=True)
    services.incident_decide(
        incident=incident, actor=bank.users["compliance"], decision="confirm", reason="无双录"
    )
    assert cards("2026-08")[ALICE].vetoed
    # Configuration changed later does not undo a decided case.
    IncidentType.objects.filter(code="missing_recording").update(is_veto=False)
    run_services.score_period(period_code="2026-08", trigger="test")
    assert cards("2026-08")[ALICE].vetoed


def test_a_decision_on_an_approved_period_is_refused_until_an_admin_reopens_it(scored):
    bank = scored
    admin = bank.users["admin"]
    approve_period(Period.objects.get(code="2026-Q3"), admin)  # fmt: skip
    before = card_state("2026-Q3")
    incident = record(bank)
    with pytest.raises(ConflictError) as refused:
        services.incident_decide(
            incident=incident, actor=bank.users["compliance"], decision="confirm", reason="x"
        )
    assert "2026-Q3 is approved" in str(refused.value.message)
    assert "reopen" in str(refused.value.message)
    incident.refresh_from_db()
    assert incident.status == "open" and not incident.decisions.exists()
    assert card_state("2026-Q3") == before

    period_services.period_transition(period=Period.objects.get(code="2026-Q3"), action="reopen",
                              actor=admin, reason="合规否决待入账")  # fmt: skip
    services.incident_decide(
        incident=incident, actor=bank.users["compliance"], decision="confirm", reason="x"
    )
    assert cards("2026-Q3")[ALICE].vetoed


def test_approval_is_refused_while_a_veto_is_not_on_the_cards(scored, monkeypatch):
    """If the recompute a decision starts has not run (a queue down), approving the period
    would lock it without the veto: refused until it is recomputed."""
    bank = scored
    monkeypatch.setattr(services, "_recompute", lambda *args: None)
    incident = record(bank)
    services.incident_decide(
        incident=incident, actor=bank.users["compliance"], decision="confirm", reason="x"
    )
    period = Period.objects.get(code="2026-Q3")
    with pytest.raises(ConflictError) as refused:
        approve_period(period, bank.users["admin"])
    assert f"#{incident.pk}" in str(refused.value.message)
    run_services.score_period(period_code="2026-Q3", trigger="test")
    approve_period(period, bank.users["admin"])
    assert cards("2026-Q3")[ALICE].vetoed


def test_only_compliance_and_admins_record_or_decide(scored):
    bank = scored
    for who in ("rm_alice", "manager_a", "hr"):
        with pytest.raises(ForbiddenError):
            services.incident_create(
                actor=bank.users[who], employee=bank.employees["rm_bob"],
                type_code="other", occurred_on=dt.date(2026, 8, 1), description="x",
            )  # fmt: skip
    incident = record(bank)
    for who in ("rm_alice", "manager_a", "hr"):
        with pytest.raises(ForbiddenError):
            services.incident_decide(
                incident=incident, actor=bank.users[who], decision="confirm", reason="x"
            )
    assert Incident.objects.count() == 1 and not IncidentDecision.objects.exists()


def test_bad_input_is_refused_with_the_field_named(scored):
    bank = scored
    cases = [
        ({"type_code": "nonsense"}, "type"),
        ({"day": "2099-01-01"}, "occurred_on"),
    ]
    for overrides, field in cases:
        with pytest.raises(DomainError) as refused:
            record(bank, **overrides)
        assert refused.value.field == field
    incident = record(bank)
    with pytest.raises(DomainError) as refused:
        services.incident_decide(
            incident=incident, actor=bank.users["compliance"], decision="confirm", reason="  "
        )
    assert refused.value.field == "reason"
    services.incident_decide(
        incident=incident, actor=bank.users["compliance"], decision="confirm", reason="ok"
    )
    with pytest.raises(ConflictError):
        services.incident_decide(
            incident=incident, actor=bank.users["compliance"], decision="confirm", reason="ok"
        )
    assert Incident.objects.count() == 1


def test_evidence_is_checked_by_size_and_content_and_stored_under_a_generated_name(
    scored, settings, tmp_path
):
    bank = scored
    settings.MEDIA_ROOT = tmp_path
    settings.WEALTHSCORE_EVIDENCE_MAX_BYTES = 1024
    refused = [
        (SimpleUploadedFile("录音.exe", b"MZ\x90\x00"), "Evidence must be one of"),
        (SimpleUploadedFile("截图.png", PDF), "is not a PNG file"),
        (SimpleUploadedFile("big.pdf", PDF + b"0" * 2000), "the limit is 1 KB"),
    ]
    for upload, message in refused:
        with pytest.raises(DomainError) as error:
            record(bank, evidence=upload)
        assert message in str(error.value.message) and error.value.field == "evidence"
    assert not Incident.objects.exists()
    incident = record(bank, evidence=SimpleUploadedFile("../../情况说明.pdf", PDF))
    assert incident.evidence_name == "情况说明.pdf"
    stored = tmp_path / incident.evidence.name
    assert stored.read_bytes() == PDF and stored.parent.is_relative_to(tmp_path / "evidence")
    assert "情况说明" not in incident.evidence.name and len(incident.evidence_sha256) == 64
