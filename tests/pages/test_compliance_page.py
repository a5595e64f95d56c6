"""The compliance page (SPEC §6, §8): /compliance/ with its incident entry and decisions.

Compliance officers and admins see every case and write; managers see their subtree's
cases and warning board, read-only (no forms, and posting to them is 404); RMs and HR 404.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance import services
from compliance.models import Incident, IncidentDecision, IncidentSource, IncidentType
from scorecards.models import Period
from tests.conftest import approve_period
from tests.pages.html import parse
from tests.scorecards.test_pay import publish_cards
from wealthscore.models import AuditEntry

URL = "/compliance/"
NEW = "/compliance/incidents/new/"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


def decide_url(pk: int) -> str:
    return f"/compliance/incidents/{pk}/decide/"


def page_client(bank, who: str | None, language: str | None = "en") -> Client:
    """A browser of the pages; in English unless told (the texts tests look for)."""
    client = Client(**({"HTTP_ACCEPT_LANGUAGE": language} if language else {}))
    if who is not None:
        client.force_login(bank.users[who])
    return client


def record(bank, who="rm_alice", type_code="unsuitable_sale", day="2026-08-14", **kw):
    return services.incident_create(
        actor=bank.users["compliance"],
        employee=bank.employees[who],
        type_code=type_code,
        occurred_on=dt.date.fromisoformat(day),
        description=kw.pop("description", f"{type_code} of {who}"),
        **kw,
    )


@pytest.fixture
def cases(bank, settings, tmp_path):
    """An open case for each RM (Alice and Dan in branch A, Bob in B), and a decided one."""
    settings.MEDIA_ROOT = tmp_path / "media"
    bank.alice = record(bank, "rm_alice")
    bank.dan = record(bank, "rm_dan", "missing_recording", "2026-08-20")
    bank.bob = record(bank, "rm_bob", "complaint", "2026-09-01",
                      evidence=SimpleUploadedFile("call.pdf", PDF))  # fmt: skip
    bank.closed = record(bank, "rm_alice", "other", "2026-07-01")
    services.incident_decide(incident=bank.closed, actor=bank.users["compliance"],
                             decision="dismiss", reason="no case")  # fmt: skip
    return bank


def rows(doc) -> dict[int, object]:
    table = doc.select("table", data_testid="incidents")
    if not table:
        return {}
    return {
        int(tr.attrs["data-incident-id"]): tr for tr in table[0].select("tr", data_incident_id=None)
    }


# ---------------------------------------------------------------- who may see and write
@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("rm_alice", 404), ("manager_a", 200), ("manager_b", 200),
     ("hr", 404), ("compliance", 200), ("admin", 200)],
)  # fmt: skip
def test_the_page_matrix(cases, who, expected):
    response = page_client(cases, None if who == "anonymous" else who).get(URL)
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith("/login/")
    if expected == 200:
        assert parse(response).select(data_testid="board")


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("rm_alice", 404), ("manager_a", 404), ("manager_b", 404),
     ("hr", 404), ("compliance", 302), ("admin", 302)],
)  # fmt: skip
def test_only_compliance_and_admins_may_post(cases, who, expected):
    client = page_client(cases, None if who == "anonymous" else who)
    decided = client.post(decide_url(cases.alice.pk), {"decision": "dismiss", "reason": "r"})
    created = client.post(NEW, {"employee_id": "000101", "type": "other",
                                "occurred_on": "2026-08-01", "description": "x"})  # fmt: skip
    assert (decided.status_code, created.status_code) == (expected, expected)
    cases.alice.refresh_from_db()
    changed = cases.alice.status == "dismissed"
    assert changed == (expected == 302 and who != "anonymous")
    assert Incident.objects.filter(description="x").exists() == changed


def test_a_manager_reads_her_subtree_without_any_form(cases):
    response = page_client(cases, "manager_a").get(URL)
    html = response.content.decode()
    doc = parse(response)
    assert set(rows(doc)) == {cases.alice.pk, cases.dan.pk, cases.closed.pk}
    assert not doc.select("form", data_testid="incident-form")
    assert "/decide/" not in html and NEW not in html
    assert doc.select(data_testid="read-only")
    # Her board counts only branch A's open cases.
    assert doc.one(data_testid="board-open").attrs["data-count"] == "2"
    other = parse(page_client(cases, "manager_b").get(URL))
    assert set(rows(other)) == {cases.bob.pk}
    assert other.one(data_testid="board-open").attrs["data-count"] == "1"
    # Another branch's unit is not hers to filter by.
    assert page_client(cases, "manager_b").get(URL, {"unit": "A"}).status_code == 404


def test_the_incidents_list_open_first_with_every_column(cases):
    doc = parse(page_client(cases, "compliance").get(URL))
    listed = rows(doc)
    assert list(listed) == [cases.bob.pk, cases.dan.pk, cases.alice.pk, cases.closed.pk]
    bob = listed[cases.bob.pk]
    assert bob.one("td", data_field="type").text == "Complaint"
    assert bob.one("td", data_field="employee_id").attrs["data-value"] == "000201"
    assert bob.one("td", data_field="unit").attrs["data-value"] == "B1"
    assert bob.one("td", data_field="occurred_on").text == "2026-09-01"
    assert bob.one("td", data_field="source").text == "Manual"
    assert bob.one("td", data_field="status").text == "Open"
    assert bob.one("td", data_field="veto").attrs["data-value"] == "false"
    assert "complaint of rm_bob" in bob.text
    evidence = bob.one("a", data_testid="evidence-link").attrs["href"]
    assert evidence == f"/api/v1/compliance/incidents/{cases.bob.pk}/evidence/"
    assert not listed[cases.alice.pk].select("a", data_testid="evidence-link")
    # An open case has a confirm and a dismiss form, each asking a reason; a decided one
    # offers the reversal only, and its history.
    alice = listed[cases.alice.pk]
    for decision in ("confirm", "dismiss"):
        form = alice.one("form", data_testid=f"decide-{decision}")
        assert form.attrs["action"] == decide_url(cases.alice.pk)
        assert form.one("input", name="decision").attrs["value"] == decision
        assert "required" in form.one("input", name="reason").attrs
        assert form.select("input", name="csrfmiddlewaretoken")
    closed = listed[cases.closed.pk]
    assert closed.select("form", data_testid="decide-confirm")
    assert not closed.select("form", data_testid="decide-dismiss")
    history = closed.one("details").text
    assert "no case" in history and "Dismissed" in history
    assert doc.one(data_testid="board-open").attrs["data-count"] == "3"


def test_the_filters(cases):
    client = page_client(cases, "compliance")
    assert set(rows(parse(client.get(URL, {"status": "dismissed"})))) == {cases.closed.pk}
    assert set(rows(parse(client.get(URL, {"type": "complaint"})))) == {cases.bob.pk}
    assert set(rows(parse(client.get(URL, {"unit": "A"})))) == {
        cases.alice.pk, cases.dan.pk, cases.closed.pk,
    }  # fmt: skip
    doc = parse(client.get(URL, {"status": "open", "unit": "A1"}))
    assert set(rows(doc)) == {cases.alice.pk}
    assert doc.one("select", id="filter-unit").one("option", selected=None).attrs["value"] == "A1"
    assert doc.select(data_testid="incidents-empty") == []
    assert parse(client.get(URL, {"type": "off_book_sales"})).select(data_testid="incidents-empty")


def test_fifty_a_page(cases):
    rm = cases.employees["rm_bob"]
    Incident.objects.bulk_create(
        Incident(type_id="other", employee=rm, unit=cases.sub_b1, description=f"bulk {n}",
                 occurred_on=dt.date(2026, 5, 1) + dt.timedelta(days=n % 60),
                 source=IncidentSource.AUTOMATIC)
        for n in range(60)
    )  # fmt: skip
    client = page_client(cases, "compliance")
    first = parse(client.get(URL, {"status": "open"}))
    assert len(rows(first)) == 50
    assert "63 incidents" in first.one(data_testid="incident-count").text
    pager = first.one(data_testid="pager")
    assert any("page=2" in a.attrs["href"] and "status=open" in a.attrs["href"]
               for a in pager.select("a"))  # fmt: skip
    second = parse(client.get(URL, {"status": "open", "page": "2"}))
    assert len(rows(second)) == 13
    assert not set(rows(first)) & set(rows(second))


# ---------------------------------------------------------------- the warning board
def test_the_board_and_its_month_picker(cases):
    client = page_client(cases, "compliance")
    doc = parse(client.get(URL, {"month": "2026-10"}))
    board = doc.one(data_testid="board")
    assert board.one(data_testid="board-oldest").text.endswith("2026-08-14")
    by_type = {tr.attrs["data-type"]: tr for tr in board.select("tr", data_type=None)}
    assert set(by_type) == {"unsuitable_sale", "missing_recording", "complaint"}
    by_unit = {
        tr.attrs["data-unit"]
        for tr in board.one(data_testid="board-unit").select("tr", data_unit=None)
    }
    assert by_unit == {"A1", "A2", "B1"}
    rms = board.one(data_testid="board-rm").select("tr", data_employee_id=None)
    assert {tr.attrs["data-employee-id"] for tr in rms} == {"000101", "000102", "000201"}
    ages = {tr.attrs["data-age"]: tr.one("td", data_value=None).attrs["data-value"]
            for tr in board.one(data_testid="board-age").select("tr")}  # fmt: skip
    # Aged from the events (August and September 2026), not from when they were recorded
    # (issue 17): older than 30 days whenever this runs.
    assert ages == {"0-1": "0", "2-7": "0", "8-30": "0", "31+": "3"}
    assert doc.one("input", id="month-picker").attrs["value"] == "2026-10"
    bad = client.get(URL, {"month": "October"})
    assert bad.status_code == 200  # the board falls back to the latest month
    assert "2026-10" in parse(bad).one(data_testid="month-error").text


def test_the_board_shows_units_whose_match_rate_fell(cases):
    from compliance.models import SaleCheck

    checks = [  # A1: 2 of 2 suitable in September, 1 of 2 in October; B1 steady.
        ("A1", "2026-09-05", True), ("A1", "2026-09-06", True),
        ("A1", "2026-10-05", True), ("A1", "2026-10-06", False),
        ("B1", "2026-09-05", True), ("B1", "2026-10-05", True),
    ]  # fmt: skip
    SaleCheck.objects.bulk_create(
        SaleCheck(txn_id=f"T{n}", txn_date=dt.date.fromisoformat(day), client_id="C1",
                  employee_id="000101", unit_code=unit, product_risk=3, client_risk=3,
                  suitable=suitable, batch_id=1)
        for n, (unit, day, suitable) in enumerate(checks)
    )  # fmt: skip
    doc = parse(page_client(cases, "compliance").get(URL, {"month": "2026-10"}))
    fell = doc.one(data_testid="board-fell").select("tr", data_unit=None)
    assert [tr.attrs["data-unit"] for tr in fell] == ["A1"]
    assert fell[0].one("td", data_field="rate").attrs["data-value"] == "50.00"
    assert fell[0].one("td", data_field="previous_rate").attrs["data-value"] == "100.00"
    september = parse(page_client(cases, "compliance").get(URL, {"month": "2026-09"}))
    assert september.select(data_testid="board-fell-none")


# ---------------------------------------------------------------- recording an incident
def form_data(**changes) -> dict:
    data = {"employee_id": "000102", "type": "misleading_sales", "occurred_on": "2026-08-03",
            "description": "承诺保本收益", "next": "/compliance/?status=open"}  # fmt: skip
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_recording_an_incident_through_the_form(cases):
    client = page_client(cases, "compliance")
    form = parse(client.get(URL)).one("form", data_testid="incident-form")
    assert (form.attrs["method"], form.attrs["action"], form.attrs["enctype"]) == (
        "post", NEW, "multipart/form-data",
    )  # fmt: skip
    assert form.one("input", name="occurred_on").attrs["type"] == "date"
    assert form.one("input", name="evidence").attrs["type"] == "file"
    types = [option.attrs["value"] for option in form.one("select", name="type").select("option")]
    assert types[1:] == list(IncidentType.objects.values_list("code", flat=True))

    response = client.post(NEW, form_data(evidence=SimpleUploadedFile("memo.pdf", PDF)))
    assert response.status_code == 302 and response["Location"] == "/compliance/?status=open"
    incident = Incident.objects.get(description="承诺保本收益")
    assert (incident.employee.employee_id, incident.type_id, incident.status) == (
        "000102", "misleading_sales", "open",
    )  # fmt: skip
    assert incident.unit.code == "A2" and incident.evidence_name == "memo.pdf"
    assert incident.created_by == cases.users["compliance"] and incident.source == "manual"
    assert AuditEntry.objects.filter(action="incident.create", object_id=str(incident.pk)).exists()
    page = client.get(response["Location"])
    assert f"Incident #{incident.pk} recorded." in page.content.decode()
    assert rows(parse(page))[incident.pk].select("a", data_testid="evidence-link")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"employee_id": "999999"}, "employee_id", "No employee 999999"),
        ({"employee_id": ""}, "employee_id", "employee ID"),
        ({"type": ""}, "type", "type"),
        ({"type": "bribery"}, "type", "Unknown incident type bribery"),
        ({"occurred_on": ""}, "occurred_on", "date"),
        ({"occurred_on": "31/08/2026"}, "occurred_on", "2026-10-31"),
        ({"occurred_on": "2999-01-01"}, "occurred_on", "in the future"),
        ({"description": "   "}, "description", "Describe what happened"),
        ({"evidence": SimpleUploadedFile("run.exe", b"MZ")}, "evidence", "Evidence must be one of"),
        ({"evidence": SimpleUploadedFile("fake.pdf", b"MZ\x90")}, "evidence", "not a PDF file"),
    ],
)
def test_a_refused_incident_shows_the_error_next_to_its_field_and_keeps_the_values(
    cases, changes, field, words
):
    before = Incident.objects.count()
    response = page_client(cases, "compliance").post(NEW, form_data(**changes))
    assert response.status_code == 400
    assert Incident.objects.count() == before
    form = parse(response).one("form", data_testid="incident-form")
    errors = form.select("p", data_field=None)
    assert [error.attrs["data-field"] for error in errors] == [field]
    assert words in errors[0].text
    described = form.one(id=f"error-{field}")
    assert described is errors[0]
    # What was typed is kept (the file has to be chosen again, and the page says so).
    typed = form_data(**changes)
    if field != "employee_id":
        assert form.one("input", name="employee_id").attrs["value"] == typed["employee_id"]
    if field != "occurred_on":
        assert form.one("input", name="occurred_on").attrs["value"] == typed["occurred_on"]
    if field != "type":
        selected = form.one("select", name="type").one("option", selected=None)
        assert selected.attrs["value"] == typed["type"]
    if field != "description":
        assert form.one("textarea", name="description").text == typed["description"]
    assert bool(form.select(data_testid="choose-file-again")) == (field == "evidence")


# ---------------------------------------------------------------- deciding
def test_confirming_and_reversing_through_the_page(cases):
    client = page_client(cases, "compliance")
    back = "/compliance/?type=unsuitable_sale"
    response = client.post(decide_url(cases.alice.pk),
                           {"decision": "confirm", "reason": "录音证实", "next": back})  # fmt: skip
    assert response.status_code == 302 and response["Location"] == back
    cases.alice.refresh_from_db()
    assert (cases.alice.status, cases.alice.decided_by) == ("confirmed", cases.users["compliance"])
    page = client.get(back)
    assert f"Incident #{cases.alice.pk} confirmed." in page.content.decode()
    row = rows(parse(page))[cases.alice.pk]
    assert row.one("td", data_field="status").attrs["data-value"] == "confirmed"
    assert not row.select("form", data_testid="decide-confirm")
    assert row.select("form", data_testid="decide-dismiss")  # the reversal
    assert "录音证实" in row.one("details").text

    response = client.post(decide_url(cases.alice.pk), {"decision": "dismiss", "reason": "复核"})
    assert response.status_code == 302 and response["Location"] == URL
    assert [d.status for d in IncidentDecision.objects.filter(incident=cases.alice)] == [
        "confirmed", "dismissed",
    ]  # fmt: skip


def test_a_decision_without_a_reason_is_refused_at_its_form(cases):
    client = page_client(cases, "compliance")
    response = client.post(decide_url(cases.dan.pk), {"decision": "dismiss", "reason": "  "})
    assert response.status_code == 400
    cases.dan.refresh_from_db()
    assert cases.dan.status == "open"
    row = rows(parse(response))[cases.dan.pk]
    form = row.one("form", data_testid="decide-dismiss")
    assert "A decision needs a reason." in form.one(data_testid="decide-error").text
    assert not row.one("form", data_testid="decide-confirm").select(data_testid="decide-error")
    # A decision the page does not offer.
    response = client.post(decide_url(cases.dan.pk), {"decision": "delete", "reason": "x"})
    assert response.status_code == 400
    assert "confirm or to dismiss" in parse(response).one(data_testid="decide-error-top").text
    # A case out of sight does not exist.
    assert (
        client.post(decide_url(999999), {"decision": "dismiss", "reason": "x"}).status_code == 404
    )


def test_an_approved_period_refuses_a_veto_and_the_reason_is_kept(cases):
    veto = record(cases, "rm_bob", "misleading_sales", "2026-08-14")
    publish_cards("2026-Q3", {"000201": ("80.00", False)})
    approve_period(Period.objects.get(code="2026-Q3"), cases.users["admin"])  # fmt: skip
    client = page_client(cases, "compliance")
    back = "/compliance/?status=open"
    data = {"decision": "confirm", "reason": "录音证实误导", "next": back}
    response = client.post(decide_url(veto.pk), data)
    assert response.status_code == 409
    veto.refresh_from_db()
    assert veto.status == "open" and not veto.decisions.exists()
    doc = parse(response)
    form = rows(doc)[veto.pk].one("form", data_testid="decide-confirm")
    error = form.one(data_testid="decide-error").text
    assert "2026-Q3 is approved: an admin must reopen it" in error
    assert form.one("input", name="reason").attrs["value"] == "录音证实误导"
    # Re-rendered with the filters it was posted from.
    assert (
        doc.one("select", id="filter-status").one("option", selected=None).attrs["value"] == "open"
    )


# ---------------------------------------------------------------- bounded SQL
def test_the_number_of_queries_does_not_grow_with_the_cases(cases, django_assert_max_num_queries):
    client = page_client(cases, "compliance")
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    budget = len(few)  # read now: the next request clears the connection's query log
    assert budget <= 25, [q["sql"] for q in few.captured_queries]
    rms = [cases.employees[key] for key in ("rm_alice", "rm_dan", "rm_bob")]
    units = {"rm_alice": cases.sub_a1, "rm_dan": cases.sub_a2, "rm_bob": cases.sub_b1}
    made = Incident.objects.bulk_create(
        Incident(type_id="other", employee=rm, unit=units[rm.user.username],
                 description=f"bulk {n}", occurred_on=dt.date(2026, 6, 1) + dt.timedelta(days=n),
                 created_by=cases.users["compliance"])
        for n, rm in ((n, rms[n % 3]) for n in range(80))
    )  # fmt: skip
    for incident in made[:30]:
        IncidentDecision.objects.create(
            incident=incident, status="dismissed", previous_status="open", veto=False,
            previous_veto=False, reason="bulk", actor=cases.users["admin"],
        )  # fmt: skip
    Incident.objects.filter(pk__in=[i.pk for i in made[:30]]).update(
        status="dismissed", decided_by=cases.users["admin"], decided_at=timezone.now()
    )
    with django_assert_max_num_queries(budget):
        response = client.get(URL)
    assert len(rows(parse(response))) == 50
    for who in ("manager_a", "admin"):
        other = page_client(cases, who)
        other.get(URL)
        with django_assert_max_num_queries(budget + 2):
            other.get(URL)


def test_the_page_is_in_chinese_by_default(cases):
    response = page_client(cases, "compliance", language=None).get(URL)
    assert response.status_code == 200 and response["Content-Language"] == "zh-hans"
    # Types are named in the page's language.
    row = rows(parse(response))[cases.bob.pk]
    assert row.one("td", data_field="type").text == "客户投诉"
