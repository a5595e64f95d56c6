"""The veto on a card (issue 18 item 4): the banner names each case (type, date, what
happened, who confirmed it and why) and links to it only for those who may open the case;
the API's veto_reasons carry the same fields, read in one query for a page of cards.

Who sees the details is the case's own scope (Incident.objects.visible_to): the RM her own
confirmed cases, a manager his units', compliance and admins all, HR none (no client-level
data). The link is for those who may also open the compliance page (access.may).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance import services as compliance_services
from compliance.models import Incident
from tests.pages.html import parse as html
from tests.pages.test_card_page import ALICE, BOB, DAN, card_id, page_client
from tests.pages.test_card_page import scored as scored  # noqa: F401 - the fixture

DESCRIPTION = "向C3客户推荐R5产品并承诺保本"
REASON = "录音证实误导"


def _veto(bank, key: str, day: dt.date, *, type_code: str = "misleading_sales") -> Incident:
    officer = bank.users["compliance"]
    incident = compliance_services.incident_create(
        actor=officer, employee=bank.employees[key], type_code=type_code, occurred_on=day,
        description=DESCRIPTION,
    )  # fmt: skip
    return compliance_services.incident_decide(
        incident=incident, actor=officer, decision="confirm", reason=REASON
    )


@pytest.fixture
def vetoed(scored):  # noqa: F811 - the fixture imported above
    """Alice vetoed in August (so in Q3 and the year), Bob in September (the decisions
    recompute the periods of their dates)."""
    alice = _veto(scored, "rm_alice", dt.date(2026, 8, 14))
    bob = _veto(scored, "rm_bob", dt.date(2026, 9, 3))
    scored.cases = {"alice": alice, "bob": bob}
    return scored


def _officer_name(bank) -> str:
    employee = getattr(bank.users["compliance"], "employee", None)
    return employee.name if employee is not None else bank.users["compliance"].username


# who: (sees the case's details, has the link to it)
BANNER = {
    "rm_alice": (True, False),  # her own confirmed case; the compliance page is not hers
    "manager_a": (True, True),  # his branch's case, on his compliance page
    "hr": (False, False),  # HR sees scores, never the cases behind them
    "compliance": (True, True),
    "admin": (True, True),
}


@pytest.mark.parametrize("who", list(BANNER))
def test_the_banner_gives_type_date_description_who_and_why_and_the_link_per_role(vetoed, who):
    details, link = BANNER[who]
    case = vetoed.cases["alice"]
    url = "/me/?period=2026-Q3" if who == "rm_alice" else f"/cards/{ALICE}/?period=2026-Q3"
    page = html(page_client(vetoed, who).get(url, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    banner = page.one(data_testid="veto-banner")
    (item,) = banner.select(data_testid="veto-case")
    assert item.attrs["data-incident-id"] == str(case.pk)
    assert item.one(data_field="type").text == "误导销售"
    assert item.one(data_field="occurred_on").text == "2026-08-14"
    assert f"#{case.pk}" in item.text
    if details:
        assert item.one(data_field="description").text == DESCRIPTION
        assert item.one(data_field="reason").text == REASON
        assert item.one(data_field="confirmed_by").text.startswith(_officer_name(vetoed))
        assert not item.select(data_testid="veto-case-withheld")
    else:
        assert DESCRIPTION not in page.text and REASON not in page.text
        assert not item.select(data_field="description") and not item.select(data_field="reason")
        assert item.select(data_testid="veto-case-withheld")
    links = item.select("a", data_testid="veto-case-link")
    if link:
        (anchor,) = links
        assert anchor.attrs["href"] == f"/compliance/?incident={case.pk}#incident-{case.pk}"
    else:
        assert links == []
        assert not [a for a in page.select("a", href=None) if "incident=" in a.attrs["href"]]
    # The rating and the computed total stay beside the banner.
    assert page.one(data_testid="card-rating").text == "D"


def test_the_banner_speaks_english_with_the_types_english_name(vetoed):
    page = html(
        page_client(vetoed, "admin").get(
            f"/cards/{ALICE}/?period=2026-08", HTTP_ACCEPT_LANGUAGE="en"
        )
    )
    item = page.one(data_testid="veto-case")
    assert item.one(data_field="type").text == "Misleading sales"
    assert "Confirmed by" in item.text and "Reason" in item.text


def test_the_link_opens_the_case_on_the_compliance_page(vetoed):
    case = vetoed.cases["alice"]
    for who in ("manager_a", "compliance"):
        page = html(page_client(vetoed, who).get(f"/compliance/?incident={case.pk}"))
        rows = page.one("table", data_testid="incidents").select("tr", data_incident_id=None)
        assert [row.attrs["data-incident-id"] for row in rows] == [str(case.pk)], who
    # Bob's case is another branch's: for Alice's manager the filter finds nothing.
    other = vetoed.cases["bob"]
    page = html(page_client(vetoed, "manager_a").get(f"/compliance/?incident={other.pk}"))
    assert page.select(data_testid="incidents-empty")


def test_a_card_not_vetoed_has_no_banner_and_reads_no_case(vetoed):
    client = page_client(vetoed, "manager_a")
    with CaptureQueriesContext(connection) as queries:
        page = html(client.get(f"/cards/{DAN}/?period=2026-Q3"))
    assert page.select(data_testid="card-total") and not page.select(data_testid="veto-banner")
    assert not [q for q in queries if 'FROM "compliance_incident"' in q["sql"]]


def test_two_cases_in_a_quarter_are_two_items_and_one_query(vetoed, django_assert_max_num_queries):
    _veto(vetoed, "rm_alice", dt.date(2026, 9, 20), type_code="off_book_sales")
    client = page_client(vetoed, "admin")
    url = f"/cards/{ALICE}/?period=2026-Q3"
    client.get(url)  # warm the session
    # The page's bound (tests/pages/test_card_page.py: 15) and the one read of the cases.
    with django_assert_max_num_queries(16), CaptureQueriesContext(connection) as queries:
        page = html(client.get(url))
    items = page.select(data_testid="veto-case")
    assert [i.one(data_field="occurred_on").text for i in items] == ["2026-08-14", "2026-09-20"]
    reads = [q["sql"] for q in queries if 'FROM "compliance_incident"' in q["sql"]]
    assert len(reads) == 1, reads


# ---------------------------------------------------------------- the API
def test_the_api_gives_each_case_typed_fields_the_link_per_role(vetoed):
    case = vetoed.cases["bob"]
    card = card_id(BOB, "2026-09")
    admin = vetoed.client("admin").get(f"/api/v1/scorecards/{card}/").json()
    (item,) = admin["veto_reasons"]
    assert item == {
        "incident_id": case.pk,
        "type": "misleading_sales",
        "type_name": "误导销售",
        "occurred_on": "2026-09-03",
        "description": DESCRIPTION,
        "confirmed_by": _officer_name(vetoed),
        "confirmed_at": item["confirmed_at"],
        "reason": REASON,
        "url": f"/compliance/?incident={case.pk}#incident-{case.pk}",
        "text": f"误导销售 2026-09-03 (#{case.pk})",
    }
    assert dt.datetime.fromisoformat(item["confirmed_at"]).tzinfo is not None
    hr = vetoed.client("hr").get(f"/api/v1/scorecards/{card}/").json()
    (withheld,) = hr["veto_reasons"]
    assert withheld["incident_id"] == case.pk and withheld["type"] == "misleading_sales"
    for name in ("description", "confirmed_by", "confirmed_at", "reason", "url"):
        assert withheld[name] is None, name
    # A card without a veto lists none.
    alice_september = vetoed.client("admin").get(f"/api/v1/scorecards/{card_id(ALICE, '2026-09')}/")
    assert alice_september.json()["veto_reasons"] == []


def _api_queries(client, url: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    incident_reads = [q for q in queries if 'FROM "compliance_incident"' in q["sql"]]
    return len(incident_reads), response.json()


def test_a_page_of_cards_reads_its_cases_in_one_query(vetoed):
    client = vetoed.client("admin")
    reads, body = _api_queries(client, "/api/v1/scorecards/")
    vetoed_cards = {(c["employee"]["employee_id"], c["period"]) for c in body["results"]
                    if c["vetoed"] and len(c["veto_reasons"]) == 1}  # fmt: skip
    assert vetoed_cards == {(ALICE, "2026-08"), (ALICE, "2026-Q3"), (ALICE, "2026"),
                            (BOB, "2026-09"), (BOB, "2026-Q3"), (BOB, "2026")}  # fmt: skip
    assert reads == 1
    # Three more vetoed cards on the page: still one read of the cases.
    _veto(vetoed, "rm_dan", dt.date(2026, 8, 20))
    reads, body = _api_queries(client, "/api/v1/scorecards/")
    assert len([c for c in body["results"] if c["vetoed"] and c["veto_reasons"]]) == 9
    assert reads == 1
