"""Role × scope matrix of the compliance API (SPEC §1, §6): compliance and admins record and
decide; managers read their subtree's cases; an RM her own confirmed ones; HR none."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance import services
from compliance.models import Incident
from scorecards.models import Period
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from tests.conftest import WHO, approve_period

DECIDERS = {"compliance", "admin"}
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def cases(bank, settings, tmp_path):
    """alice_open (A1, with evidence), alice_confirmed (A1), dan_open (A2), bob_open (B1)."""
    settings.MEDIA_ROOT = tmp_path
    scheme_services.install_default_scheme()
    officer = bank.users["compliance"]

    def case(who: str, type_code: str, **kw):
        return services.incident_create(
            actor=officer, employee=bank.employees[who], type_code=type_code,
            occurred_on=dt.date(2026, 8, 14), description="情况说明", **kw,
        ).pk  # fmt: skip

    ids = {
        "alice_open": case("rm_alice", "misleading_sales",
                           evidence=SimpleUploadedFile("证据.pdf", PDF)),
        "alice_confirmed": case("rm_alice", "complaint"),
        "dan_open": case("rm_dan", "other"),
        "bob_open": case("rm_bob", "off_book_sales"),
    }  # fmt: skip
    services.incident_decide(
        incident=Incident.objects.get(pk=ids["alice_confirmed"]), actor=officer,
        decision="confirm", reason="投诉属实",
    )  # fmt: skip
    return ids


VISIBLE = {
    "rm_alice": {"alice_confirmed"},
    "manager_a": {"alice_open", "alice_confirmed", "dan_open"},
    "manager_b": {"bob_open"},
    "hr": set(),
    "compliance": {"alice_open", "alice_confirmed", "dan_open", "bob_open"},
    "admin": {"alice_open", "alice_confirmed", "dan_open", "bob_open"},
}


def _client(bank, who):
    return bank.client(None if who == "anonymous" else who)


@pytest.mark.parametrize("who", WHO)
def test_incidents_list_detail_and_evidence(bank, cases, who):
    client = _client(bank, who)
    listed = client.get("/api/v1/compliance/incidents/")
    if who == "anonymous":
        assert listed.status_code == 401
        assert client.get(f"/api/v1/compliance/incidents/{cases['bob_open']}/").status_code == 401
        return
    assert listed.status_code == 200
    by_id = {pk: key for key, pk in cases.items()}
    assert {by_id[row["id"]] for row in listed.data["results"]} == VISIBLE[who]
    for key, pk in cases.items():
        expected = 200 if key in VISIBLE[who] else 404
        assert client.get(f"/api/v1/compliance/incidents/{pk}/").status_code == expected, key
    evidence = client.get(f"/api/v1/compliance/incidents/{cases['alice_open']}/evidence/")
    assert evidence.status_code == (200 if "alice_open" in VISIBLE[who] else 404)
    if evidence.status_code == 200:
        assert b"".join(evidence.streaming_content) == PDF
    assert client.get("/api/v1/compliance/incidents/999999/").status_code == 404


@pytest.mark.parametrize("who", WHO)
def test_only_compliance_and_admins_create(bank, cases, who):
    response = _client(bank, who).post(
        "/api/v1/compliance/incidents/",
        {"employee_id": "000201", "type": "off_book_sales", "occurred_on": "2026-09-01",
         "description": "客户资金转入个人账户"},
        format="json",
    )  # fmt: skip
    expected = {"anonymous": 401, "compliance": 201, "admin": 201}.get(who, 403)
    assert response.status_code == expected, response.content
    if expected == 201:
        assert response.data["status"] == "open" and response.data["employee_id"] == "000201"
        assert response.data["created_by"] == who


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("action", ["confirm", "dismiss"])
def test_only_compliance_and_admins_decide(bank, cases, who, action):
    client = _client(bank, who)
    for key, pk in cases.items():
        if key == "alice_confirmed" and action == "confirm":
            continue  # already confirmed: a conflict, whoever asks
        response = client.post(
            f"/api/v1/compliance/incidents/{pk}/{action}/", {"reason": "复核"}, format="json"
        )
        if who == "anonymous":
            expected = 401
        elif key not in VISIBLE[who]:
            expected = 404
        else:
            expected = 200 if who in DECIDERS else 403
        assert response.status_code == expected, (key, response.content)
        if expected == 200:
            assert response.data["decided_by"] == who
            assert response.data["decisions"][-1]["reason"] == "复核"


@pytest.mark.parametrize("who", WHO)
def test_the_warning_board(bank, cases, who):
    response = _client(bank, who).get("/api/v1/compliance/board/")
    expected = {"anonymous": 401, "rm_alice": 404, "hr": 404}.get(who, 200)
    assert response.status_code == expected
    if expected == 200:
        open_cases = {key for key in VISIBLE[who] if key.endswith("_open")}
        assert response.data["open"] == len(open_cases)


def test_create_with_evidence_and_bad_input_through_the_api(bank, cases):
    client = bank.client("compliance")
    # The case is JSON; its evidence, a file, follows on its own (multipart only there).
    created = client.post(
        "/api/v1/compliance/incidents/",
        {"employee_id": "000101", "type": "misleading_sales", "occurred_on": "2026-08-20",
         "description": "夸大收益"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201 and not created.data["has_evidence"]
    evidence_url = f"/api/v1/compliance/incidents/{created.data['id']}/evidence/"
    sent = client.post(
        evidence_url, {"evidence": SimpleUploadedFile("录音摘要.pdf", PDF)}, format="multipart"
    )
    assert sent.status_code == 201 and sent.data["has_evidence"]
    assert sent.data["evidence_name"] == "录音摘要.pdf"
    for payload, field in [
        ({"employee_id": "999999"}, "employee_id"),
        ({"type": "nonsense"}, "type"),
        ({"occurred_on": "2099-01-01"}, "occurred_on"),
    ]:
        body = {"employee_id": "000101", "type": "other", "occurred_on": "2026-08-20",
                "description": "x", **payload}  # fmt: skip
        response = client.post("/api/v1/compliance/incidents/", body, format="json")
        assert response.status_code == 400 and list(response.data["fields"]) == [field], (
            response.data
        )
    bad_file = client.post(
        f"/api/v1/compliance/incidents/{cases['dan_open']}/evidence/",
        {"evidence": SimpleUploadedFile("x.pdf", b"MZ")}, format="multipart",
    )  # fmt: skip
    assert bad_file.status_code == 400 and list(bad_file.data["fields"]) == ["evidence"]
    missing = client.post("/api/v1/compliance/incidents/", {"employee_id": "000101"},
                          format="json")  # fmt: skip
    assert missing.status_code == 400 and "description" in missing.data["fields"]
    assert Incident.objects.count() == 5
    assert not Incident.objects.get(pk=cases["dan_open"]).evidence


EVIDENCE_UPLOAD = {"anonymous": 401, "rm_alice": 404, "manager_a": 403, "manager_b": 404,
                   "hr": 404, "compliance": 201, "admin": 201}  # fmt: skip


@pytest.mark.parametrize("who", WHO)
def test_only_compliance_and_admins_send_evidence(bank, cases, who):
    """POST …/evidence/ joins the matrix: Dan's open case (A2) is his manager's to see, not
    to add to; out of scope it does not exist."""
    response = _client(bank, who).post(
        f"/api/v1/compliance/incidents/{cases['dan_open']}/evidence/",
        {"evidence": SimpleUploadedFile("证据.pdf", PDF)}, format="multipart",
    )  # fmt: skip
    assert response.status_code == EVIDENCE_UPLOAD[who], response.content
    assert bool(Incident.objects.get(pk=cases["dan_open"]).evidence) == (
        EVIDENCE_UPLOAD[who] == 201
    )


def test_deciding_on_an_approved_period_says_it_must_be_reopened(bank, cases):
    run_services.score_period(period_code="2026-Q3", trigger="test")
    approve_period(Period.objects.get(code="2026-Q3"), bank.users["admin"])  # fmt: skip
    response = bank.client("compliance").post(
        f"/api/v1/compliance/incidents/{cases['alice_open']}/confirm/", {"reason": "属实"},
        format="json", HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert response.status_code == 409 and response.data["code"] == "period_approved"
    assert "2026-Q3 is approved" in response.data["message"]
    assert "reopen" in response.data["message"]
