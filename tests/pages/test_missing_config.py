"""A configuration row that is missing is explained on the page it breaks (issue 15).

`demo --reset` used to flush the pay policy away: /hr/pay/ then refused every quarter with
no word of who could fix it. Now the page says what is missing, who adds it (an admin, with
a link to the admin site's add page for those who may use it), and the rest still works.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from scorecards.models import PayPolicy
from tests.pages.html import parse
from tests.scorecards.test_pay import add_staff, publish_cards
from wealthscore.defaults import install_defaults

URL = "/hr/pay/"
ADD_URL = "/admin/scorecards/paypolicy/add/"


@pytest.fixture
def no_policy(bank):
    add_staff(bank)
    publish_cards("2026-Q3", {"00100": ("58.00", False), "00200": ("95.00", False)})
    publish_cards("2026", {"00100": ("50.00", False), "00200": ("99.00", False)})
    PayPolicy.objects.all().delete()  # what a flush without install_defaults() left
    return bank


def page(bank, who: str, language: str = "en", **params: str):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(bank.users[who])
    return client, client.get(URL, params)


def test_hr_is_told_what_is_missing_and_who_adds_it(no_policy):
    _client, response = page(no_policy, "hr", period="2026-Q3")
    assert response.status_code == 200
    doc = parse(response)
    banner = doc.one(data_testid="missing-config")
    assert banner.attrs["data-missing"] == "pay_policy"
    assert "No pay policy is in force on 2026-09-30" in banner.text
    assert "administrator" in banner.text
    assert not doc.select(data_testid="missing-config-link")  # HR cannot open the admin site
    # The rest of the page works: the quarter picker, the nav, and the year's talent lists.
    picker = doc.one("select", id="period-picker")
    assert [o.attrs["value"] for o in picker.select("option", selected=None)] == ["2026-Q3"]
    assert doc.one("a", href="/hr/pay/", **{"aria-current": "page"})
    talent = doc.one("table", data_testid="talent-table")
    assert [tr.attrs["data-employee-id"] for tr in talent.select("tr", data_employee_id=None)] == [
        "00200",
        "00100",
    ]
    assert (
        doc.one("a", data_testid="talent-export-xlsx")
        .attrs["href"]
        .startswith("/api/v1/talent-lists/export/?year=2026")
    )
    assert not doc.select(data_testid="pay-table")
    assert not doc.select(data_testid="export-xlsx")  # a pay file would fail the same way
    assert not doc.select(data_testid="period-error")  # the quarter asked for is fine


def test_an_admin_gets_the_link_to_add_it(no_policy):
    client, response = page(no_policy, "admin", period="2026-Q3")
    link = parse(response).one("a", data_testid="missing-config-link")
    assert link.attrs["href"] == ADD_URL
    assert client.get(ADD_URL).status_code == 200


def test_it_is_explained_in_chinese_too(no_policy):
    _client, response = page(no_policy, "hr", language="zh-hans", period="2026-Q3")
    text = parse(response).one(data_testid="missing-config").text
    assert "2026-09-30 没有生效的绩效薪酬政策" in text
    assert "管理员" in text


def test_the_quarter_before_needs_a_policy_too(no_policy):
    # Consecutive failures read the quarter before's bands: a policy from July is not enough.
    PayPolicy.objects.create(
        effective_from=dt.date(2026, 7, 1), top_from=Decimal("90.00"), top_pct=Decimal("20.00"),
        pass_from=Decimal("60.00"), pass_pct=Decimal("0.00"), fail_pct=Decimal("-30.00"),
    )  # fmt: skip
    _client, response = page(no_policy, "hr", period="2026-Q3")
    assert (
        "No pay policy is in force on 2026-06-30"
        in parse(response).one(data_testid="missing-config").text
    )


def test_install_defaults_brings_the_pay_table_back(no_policy):
    install_defaults()
    _client, response = page(no_policy, "hr", period="2026-Q3")
    doc = parse(response)
    assert not doc.select(data_testid="missing-config")
    rows = doc.one("table", data_testid="pay-table").select("tr", data_employee_id=None)
    assert {tr.attrs["data-employee-id"] for tr in rows} >= {"00100", "00200"}


def test_a_wrong_period_is_still_the_periods_error(no_policy):
    _client, response = page(no_policy, "hr", period="2026-13")
    assert response.status_code == 400
    doc = parse(response)
    assert doc.select(data_testid="period-error")
    assert not doc.select(data_testid="missing-config")


def test_a_card_page_with_no_scheme_in_force_says_so_and_who_publishes_one(bank):
    from scorecards.models import SchemeVersion

    SchemeVersion.objects.update(status=SchemeVersion.Status.DRAFT)  # nothing published
    for who, expected_link in [("rm_alice", False), ("admin", True)]:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(bank.users[who])
        url = "/me/" if who == "rm_alice" else "/cards/000101/"
        response = client.get(url)
        assert response.status_code == 200, (who, url)
        doc = parse(response)
        banner = doc.one(data_testid="missing-config")
        assert banner.attrs["data-missing"] == "scheme"
        assert "No published scoring scheme is in force today" in banner.text
        assert "administrator" in banner.text
        links = doc.select(data_testid="missing-config-link")
        assert [a.attrs["href"] for a in links] == (["/schemes/"] if expected_link else [])


def test_a_card_page_with_a_scheme_but_no_card_yet_has_no_banner(bank):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(bank.users["rm_alice"])
    doc = parse(client.get("/me/"))
    assert doc.one(data_testid="no-card")
    assert not doc.select(data_testid="missing-config")
