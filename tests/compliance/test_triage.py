"""Compliance triage (issue 17 item 4): many cases confirmed or dismissed with one reason,
ticked by hand or every open case the filters match; all or none; one recompute for the
batch; the board ages cases from their event's date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from compliance import selectors, services
from compliance.models import Incident, IncidentDecision
from scorecards.models import ManualScore, Scorecard, ScoreRunGroup
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from wealthscore.models import AuditEntry


@pytest.fixture
def cases(bank):
    """2026-09 scored; five open cases: three misleading sales (veto), two complaints."""
    scheme_services.install_default_scheme()
    ManualScore.objects.create(
        period="2026-Q3", employee=bank.employees["rm_alice"], measure="mentoring",
        score=Decimal(80),
    )  # fmt: skip
    run_services.score_period(period_code="2026-09", trigger="test")
    made = []
    veto, complaint = "misleading_sales", "complaint"
    for key, type_code, day in (("rm_alice", veto, 3), ("rm_dan", veto, 4), ("rm_bob", veto, 5),
                                ("rm_alice", complaint, 6), ("rm_bob", complaint, 7)):  # fmt: skip
        made.append(services.incident_create(
            actor=bank.users["compliance"], employee=bank.employees[key], type_code=type_code,
            occurred_on=dt.date(2026, 9, day), description=f"case {day}",
        ))  # fmt: skip
    return bank, [i.pk for i in made]


def decide(client, ids: list[int], decision: str, reason: str):
    return client.post(
        "/api/v1/compliance/incidents/decide/",
        {"ids": ids, "decision": decision, "reason": reason},
        format="json",
    )


def test_many_cases_are_confirmed_with_one_reason_and_recomputed_once(cases):
    bank, ids = cases
    groups = ScoreRunGroup.objects.count()
    response = bank.client("compliance").post(
        "/api/v1/compliance/incidents/decide/",
        {"ids": ids[:3], "decision": "confirm", "reason": "录音核实"}, format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.data == {"decided": ids[:3], "status": "confirmed"}
    assert set(Incident.objects.filter(pk__in=ids[:3]).values_list("status", flat=True)) == {
        "confirmed"
    }
    assert IncidentDecision.objects.filter(reason="录音核实").count() == 3
    assert AuditEntry.objects.filter(action="incident.confirm").count() == 3
    # One recompute of September (its month, quarter and year) for the whole batch.
    assert ScoreRunGroup.objects.count() == groups + 1
    vetoed = Scorecard.objects.filter(run__period__code="2026-09", run__status="done").filter(
        run_id__in=ScoreRunGroup.objects.latest("id").runs.values("id"), vetoed=True
    )
    assert vetoed.count() == 3


def test_a_batch_with_one_bad_case_changes_nothing(cases):
    bank, ids = cases
    client = bank.client("compliance")
    services.incident_decide(
        incident=Incident.objects.get(pk=ids[3]), actor=bank.users["compliance"],
        decision="dismiss", reason="无效投诉",
    )  # fmt: skip
    before = list(Incident.objects.order_by("pk").values_list("status", flat=True))
    decided = decide(client, ids[2:], "dismiss", "x")
    assert decided.status_code == 409 and decided.data["code"] == "already_decided"
    assert f"#{ids[3]}" in decided.data["message"]
    missing = client.post("/api/v1/compliance/incidents/decide/",
                          {"ids": [ids[0], 999999], "decision": "dismiss", "reason": "x"},
                          format="json")  # fmt: skip
    assert missing.status_code == 404
    no_reason = decide(client, ids[:1], "dismiss", "")
    assert no_reason.status_code == 400
    assert list(Incident.objects.order_by("pk").values_list("status", flat=True)) == before


@pytest.mark.parametrize(("who", "expected"), [
    ("anonymous", 401), ("rm_alice", 403), ("manager_a", 403), ("manager_b", 403),
    ("hr", 403), ("compliance", 200), ("admin", 200),
])  # fmt: skip
def test_who_may_triage(cases, who, expected):
    bank, ids = cases
    client = bank.client(None if who == "anonymous" else who)
    response = decide(client, ids[3:], "dismiss", "x")
    assert response.status_code == expected
    statuses = set(Incident.objects.filter(pk__in=ids[3:]).values_list("status", flat=True))
    assert statuses == ({"dismissed"} if expected == 200 else {"open"})


def test_the_page_decides_the_ticked_cases_or_every_open_case_the_filters_match(cases):
    bank, ids = cases
    page = Client(headers={"accept-language": "en"})
    page.force_login(bank.users["compliance"])
    html = page.get("/compliance/").content.decode()
    assert 'data-testid="bulk-decide"' in html and f'data-testid="tick-{ids[0]}"' in html
    refused = page.post("/compliance/incidents/decide/",
                        {"ids": [ids[3]], "decision": "dismiss", "reason": ""})  # fmt: skip
    assert refused.status_code == 400
    assert 'data-testid="bulk-error"' in refused.content.decode()
    ticked = page.post("/compliance/incidents/decide/",
                       {"ids": [ids[3]], "decision": "dismiss", "reason": "无效投诉"})  # fmt: skip
    assert ticked.status_code == 302
    assert Incident.objects.get(pk=ids[3]).status == "dismissed"
    matching = page.post("/compliance/incidents/decide/", {
        "matching": "on", "decision": "dismiss", "reason": "批量复核",
        "next": "/compliance/?type=misleading_sales"})  # fmt: skip
    assert matching.status_code == 302
    statuses = dict(Incident.objects.values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["dismissed"] * 4 + ["open"]  # the complaint stays


def test_the_board_ages_a_case_from_its_event(cases):
    bank, ids = cases
    board = selectors.warning_board(user=bank.users["compliance"])
    ages = {row["age_days"]: row["count"] for row in board["by_age"]}
    # September 2026 events, read in December: all older than 30 days.
    assert ages["31+"] == 5 and ages["0-1"] == 0
