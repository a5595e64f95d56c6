"""Role × scope matrix of the scoring API (SPEC §1): lists hold exactly what is in scope,
anything else is 404; a role that sees an object but may not act on it gets 403."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scorecards.models import ManualScore, Period, SchemeVersion, Scorecard
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from tests.conftest import WHO, approve_period

RMS = {"000101", "000102", "000201"}
VISIBLE_CARDS = {
    "rm_alice": {"000101"},
    "manager_a": {"000101", "000102"},
    "manager_b": {"000201"},
    "hr": RMS,
    "compliance": RMS,
    "admin": RMS,
}


@pytest.fixture
def scored(bank):
    """September 2026 scored for the three RMs of the bank (manual scores only)."""
    scheme_services.install_default_scheme()
    for key in ("rm_alice", "rm_dan", "rm_bob"):
        ManualScore.objects.create(
            period="2026-Q3", employee=bank.employees[key], measure="mentoring",
            score=Decimal("80"),
        )  # fmt: skip
    run = run_services.score_period(period_code="2026-09", trigger="test")
    cards = {c.employee.employee_id: c.pk for c in Scorecard.objects.filter(run=run)}
    assert set(cards) == RMS
    published = SchemeVersion.objects.get(status="published")
    draft = scheme_services.scheme_draft_create(base=published, actor=bank.users["admin"])
    return {"cards": cards, "published": published.pk, "draft": draft.pk}


def _client(bank, who):
    return bank.client(None if who == "anonymous" else who)


@pytest.mark.parametrize("who", WHO)
def test_scorecards_list_detail_and_facts(bank, scored, who):
    client = _client(bank, who)
    listed = client.get("/api/v1/scorecards/?period=2026-09")
    if who == "anonymous":
        assert listed.status_code == 401
        assert client.get(f"/api/v1/scorecards/{scored['cards']['000101']}/").status_code == 401
        return
    assert listed.status_code == 200
    assert {row["employee"]["employee_id"] for row in listed.data["results"]} == (
        VISIBLE_CARDS[who]
    )
    for employee_id, card_id in scored["cards"].items():
        visible = employee_id in VISIBLE_CARDS[who]
        detail = client.get(f"/api/v1/scorecards/{card_id}/")
        assert detail.status_code == (200 if visible else 404), employee_id
        facts_url = f"/api/v1/scorecards/{card_id}/lines/sales_attainment/facts/"
        facts = client.get(facts_url)
        # HR sees scores across the bank but no client-level data: for HR the facts do not
        # exist (404, never 403), whatever the method.
        expected = (404 if who == "hr" else 200) if visible else 404
        assert facts.status_code == expected, (employee_id, facts.content)
        assert client.options(facts_url).status_code == expected
        # A method the endpoint never allows is 405 whatever the card (nothing to learn
        # from it); for HR the endpoint does not exist at all.
        assert client.post(facts_url).status_code == (404 if who == "hr" else 405)
    assert client.get("/api/v1/scorecards/999999/").status_code == 404


def test_a_card_carries_the_contract_fields(bank, scored):
    card = bank.client("rm_alice").get(f"/api/v1/scorecards/{scored['cards']['000101']}/").data
    for name in ("id", "employee", "period", "period_type", "scheme_version", "status", "total",
                 "rating", "vetoed", "veto_reasons", "rank", "rank_of", "lines"):  # fmt: skip
        assert name in card, name
    assert card["employee"] == {"employee_id": "000101", "name": "张晓三", "unit_code": "A1"}
    assert card["period"] == "2026-09" and card["period_type"] == "month"
    # With no facts, two measures apply: mentoring 80 (weight 3.57) and education events, 0
    # held against the default 12 a year (1 a month; weight 7.14 × 40% = 2.856):
    # 3.57 × 80 / (3.57 + 2.856) = 44.444… → 44.44, rating D. The rest have no value or target.
    assert card["total"] == "44.44" and card["rating"] == "D"
    applicable = {line["measure"] for line in card["lines"] if line["applicable"]}
    assert applicable == {"mentoring", "education_events"}
    mentoring = next(line for line in card["lines"] if line["measure"] == "mentoring")
    assert mentoring["applicable"] and mentoring["points"] == "80.00"
    for name in ("measure", "kpi", "dimension", "value", "target", "points", "weight",
                 "weighted", "applicable"):  # fmt: skip
        assert name in mentoring
    # The RM's drill-down is audited.
    from wealthscore.models import AuditEntry

    bank.client("rm_alice").get(
        f"/api/v1/scorecards/{scored['cards']['000101']}/lines/mentoring/facts/"
    )
    assert AuditEntry.objects.filter(
        action="scorecard.facts", actor=bank.users["rm_alice"]
    ).exists()


@pytest.mark.parametrize("who", WHO)
def test_kpis_and_scheme_versions(bank, scored, who):
    client = _client(bank, who)
    kpis = client.get("/api/v1/kpis/")
    versions = client.get("/api/v1/schemes/")
    draft = client.get(f"/api/v1/schemes/{scored['draft']}/")
    if who == "anonymous":
        assert {kpis.status_code, versions.status_code, draft.status_code} == {401}
        return
    assert kpis.status_code == 200 and len(kpis.data) == 12
    assert versions.status_code == 200
    listed = {row["id"] for row in versions.data["results"]}
    # Published versions are public to signed-in users; drafts only to admins.
    expected = {scored["published"], scored["draft"]} if who == "admin" else {scored["published"]}
    assert listed == expected
    assert draft.status_code == (200 if who == "admin" else 404)


SCHEME_WRITE = {  # (create a draft, edit / publish / preview a draft, preview a published one)
    "rm_alice": (403, 404, 403),
    "manager_a": (403, 404, 403),
    "manager_b": (403, 404, 403),
    "hr": (403, 404, 403),
    "compliance": (403, 404, 403),
    "admin": (201, 200, 200),
}


@pytest.mark.parametrize("who", WHO)
def test_scheme_writes(bank, scored, who):
    client = _client(bank, who)
    create = client.post("/api/v1/schemes/", {"based_on": scored["published"]}, format="json")
    patch = client.patch(f"/api/v1/schemes/{scored['draft']}/", {"note": "试算"}, format="json")
    preview_draft = client.post(f"/api/v1/schemes/{scored['draft']}/preview/?period=2026-09")
    preview = client.post(f"/api/v1/schemes/{scored['published']}/preview/?period=2026-09")
    publish = client.post(f"/api/v1/schemes/{scored['draft']}/publish/")
    if who == "anonymous":
        assert {r.status_code for r in (create, patch, preview_draft, preview, publish)} == {401}
        return
    created, draft_status, published_preview = SCHEME_WRITE[who]
    assert create.status_code == created
    assert patch.status_code == draft_status
    assert preview_draft.status_code == draft_status
    assert preview.status_code == published_preview
    assert publish.status_code == draft_status  # the copy totals 100.00: it publishes
    published = SchemeVersion.objects.filter(status="published").count()
    assert published == (2 if who == "admin" else 1)


PERIOD_ACTIONS = {  # submit, approve, reopen (after an admin approved)
    "rm_alice": (403, 403, 403),
    "manager_a": (200, 403, 403),
    "manager_b": (200, 403, 403),
    "hr": (403, 403, 403),
    "compliance": (403, 403, 403),
    "admin": (200, 200, 200),
}


@pytest.mark.parametrize("who", WHO)
def test_periods(bank, scored, who):
    client = _client(bank, who)
    listed = client.get("/api/v1/periods/")
    if who == "anonymous":
        assert listed.status_code == 401
        assert client.post("/api/v1/periods/2026-09/submit/").status_code == 401
        return
    assert listed.status_code == 200
    assert [row["code"] for row in listed.data["results"]] == ["2026-09"]
    assert client.get("/api/v1/periods/2026-08/").status_code == 404
    submit, approve, reopen = PERIOD_ACTIONS[who]
    assert client.post("/api/v1/periods/2026-09/submit/").status_code == submit
    # Open items remain (manual measures not all entered): approving confirms them.
    confirmed = {"confirm": True, "reason": "委员会已确认"}
    approved = client.post("/api/v1/periods/2026-09/approve/", confirmed, format="json")
    assert approved.status_code == approve
    period = Period.objects.get(code="2026-09")
    if period.status != "approved":
        approve_period(period, bank.users["admin"])
    without_reason = client.post("/api/v1/periods/2026-09/reopen/", {}, format="json")
    assert without_reason.status_code == (400 if who == "admin" else reopen)
    response = client.post("/api/v1/periods/2026-09/reopen/", {"reason": "补录投诉"}, format="json")
    assert response.status_code == reopen
    assert Period.objects.get(code="2026-09").status == ("open" if reopen == 200 else "approved")
