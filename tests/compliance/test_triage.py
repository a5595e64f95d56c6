"""Compliance triage (issue 17 item 4): many cases confirmed or dismissed with one reason,
ticked by hand or every open case the filters match; all or none; one recompute for the
batch; the board ages cases from their event's date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from compliance import selectors, services
from compliance.models import Incident, IncidentDecision, IncidentType
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


def test_a_case_past_its_types_days_to_decide_is_overdue_on_the_list_and_the_board(cases):
    bank, ids = cases
    IncidentType.objects.filter(code="complaint").update(sla_days=3)
    old = timezone.now() - dt.timedelta(days=4)
    Incident.objects.filter(pk=ids[3]).update(created_at=old)  # raised 4 days ago: overdue
    Incident.objects.filter(pk=ids[4]).update(created_at=timezone.now() - dt.timedelta(days=2))
    board = selectors.warning_board(user=bank.users["compliance"])
    assert board["overdue"] == 1
    rows = {r["id"]: r for r in bank.client("compliance").get(
        "/api/v1/compliance/incidents/", {"type": "complaint"}).data["results"]}  # fmt: skip
    assert rows[ids[3]]["overdue"] and not rows[ids[4]]["overdue"]
    assert rows[ids[3]]["due_on"] == (timezone.localdate(old) + dt.timedelta(days=3)).isoformat()
    page = Client(headers={"accept-language": "en"})
    page.force_login(bank.users["compliance"])
    html = page.get("/compliance/").content.decode()
    row = html.split(f'data-incident-id="{ids[3]}"')[1].split("</tr>")[0]
    assert 'data-overdue="1"' in row and "overdue" in row
    # Decided, it is overdue no more.
    case = Incident.objects.get(pk=ids[3])
    services.incident_decide(
        incident=case, actor=bank.users["compliance"], decision="dismiss", reason="x"
    )
    assert selectors.warning_board(user=bank.users["compliance"])["overdue"] == 0


def test_cases_are_assigned_to_an_officer_and_filtered_by_assignee(cases):
    bank, ids = cases
    client = bank.client("compliance")
    assigned = client.post("/api/v1/compliance/incidents/assign/",
                           {"ids": ids[:2], "assignee": "compliance"}, format="json")  # fmt: skip
    assert assigned.status_code == 200, assigned.content
    assert assigned.data == {"assigned": ids[:2], "assignee": "compliance"}
    assert AuditEntry.objects.filter(action="incident.assign").count() == 2
    to_an_rm = client.post("/api/v1/compliance/incidents/assign/",
                           {"ids": ids[2:3], "assignee": "rm_alice"}, format="json")  # fmt: skip
    assert to_an_rm.status_code == 400 and to_an_rm.data["fields"]["assignee"]
    assert Incident.objects.get(pk=ids[2]).assignee is None
    manager = bank.client("manager_a").post(
        "/api/v1/compliance/incidents/assign/", {"ids": ids[:1], "assignee": None}, format="json"
    )
    assert manager.status_code == 403
    page = Client()
    page.force_login(bank.users["compliance"])
    html = page.get("/compliance/", {"assignee": "me"}).content.decode()
    shown = {pk for pk in ids if f'data-incident-id="{pk}"' in html}
    assert shown == set(ids[:2])
    done = page.post("/compliance/incidents/decide/", {"action": "assign", "ids": [ids[2]],
                                                       "assignee": "admin"})  # fmt: skip
    assert done.status_code == 302
    assert Incident.objects.get(pk=ids[2]).assignee == bank.users["admin"]
    unassign = client.post("/api/v1/compliance/incidents/assign/",
                           {"ids": ids[:1], "assignee": None}, format="json")  # fmt: skip
    assert unassign.status_code == 200 and Incident.objects.get(pk=ids[0]).assignee is None


@pytest.mark.parametrize("who", ["anonymous", "rm_alice", "manager_a", "hr", "compliance", "admin"])
def test_the_incident_form_finds_an_rm_by_id_or_name(cases, who):
    bank, _ids = cases
    page = Client()
    if who != "anonymous":
        page.force_login(bank.users[who])
    by_id = page.get("/compliance/employees/", {"employee_id": "0001"})
    if who not in ("compliance", "admin"):
        assert by_id.status_code == (302 if who == "anonymous" else 404)
        return
    options = by_id.content.decode()
    assert 'value="000101"' in options and 'value="000102"' in options
    assert 'value="000201"' not in options  # "0001" is not how 000201 starts
    name = bank.employees["rm_bob"].name
    by_name = page.get("/compliance/employees/", {"employee_id": name[-2:]}).content.decode()
    assert 'value="000201"' in by_name
    assert page.get("/compliance/employees/", {"employee_id": ""}).content.decode().strip() == ""
