"""Running periods scored to date on the sample bank (8 RMs, written on 2026-12-08: facts to
November, Q4 running, Q3 complete): the API's forecast fields, /me/'s default period. The
figures themselves are checked by hand in test_forecast_hand.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from crm import sample
from crm.services import run_nightly
from scorecards.cards.forecast import facts_through
from scorecards.schemes import services as scheme_services
from targets.models import Employee, User
from tests.conftest import shared_by_the_module
from tests.pages.html import parse
from wealthscore.celery import in_process_tasks
from wealthscore.kernel.catalog import MEASURES

D = Decimal
TODAY = dt.date(2026, 12, 8)


def _sample(tmp):
    from unittest import mock

    from django.utils import timezone

    with mock.patch.object(timezone, "localdate", lambda *a, **k: TODAY):
        scheme_services.install_default_scheme()
        inbox = tmp / "inbox"
        sample.write_exports(inbox, rms=8, clients_per_rm=12, months=12, year=2026, seed=7,
                             today=TODAY)  # fmt: skip
        with in_process_tasks():
            run_nightly(inbox=inbox, actor_label="test")


sample_bank = shared_by_the_module(_sample)


@pytest.fixture
def bank8(sample_bank, db):
    """The sample bank of the module, with an admin and a login for RM 001001."""
    admin = User.objects.create_superuser(username="admin", password="pw")
    rm = User.objects.create_user(username="rm1", password="pw")
    Employee.objects.filter(employee_id="001001").update(user=rm)
    return {"admin": admin, "rm": rm}


def _cards(client: Client, period: str) -> list[dict]:
    data = client.get(f"/api/v1/scorecards/?period={period}&page_size=100").json()
    return data["results"] if isinstance(data, dict) else data


def test_the_facts_end_on_the_last_complete_month(bank8):
    # Written on 2026-12-08: complete months only, to November.
    assert facts_through() == dt.date(2026, 11, 30)


def test_a_running_quarter_carries_its_forecast_and_a_completed_one_nulls(bank8):
    client = Client()
    client.force_login(bank8["admin"])
    running = _cards(client, "2026-Q4")
    assert len(running) == 8
    for card in running:
        assert card["as_of"] == "2026-11-30" and card["elapsed_share"] == "66.67"
        assert card["forecast_method"] in {"run_rate", "seasonal_run_rate"}
        assert card["forecast_method_text"]
        for line in card["lines"]:
            flow = MEASURES[line["measure"]][1] == "flow" and line["method"] != "manual"
            if not flow or line["value"] is None:
                assert line["projected_value"] is None, line
            if not flow:
                assert line["pace"] is None, line
        sales = next(line for line in card["lines"] if line["measure"] == "sales_attainment")
        assert sales["pace"] is not None and sales["projected_value"] is not None
        # The projection of a flow line is never below what is already done.
        assert D(sales["projected_value"]) >= D(sales["value"])
    assert all(card["projected_total"] is not None for card in running)
    for card in _cards(client, "2026-Q3"):
        assert card["as_of"] is None and card["projected_total"] is None
        assert all(line["pace"] is None for line in card["lines"])


def test_the_rm_opens_on_her_last_completed_quarter(bank8):
    client = Client()
    client.force_login(bank8["rm"])
    page = parse(client.get("/me/"))
    assert page.one(data_testid="card-period").text == "2026-Q3"
    assert not page.select(data_testid="running")
    # The picker still offers the running quarter, and it shows as running.
    options = [o.attrs["value"] for o in page.one("select", id="period-picker").select("option")]
    assert "2026-Q4" in options
    running = parse(client.get("/me/?period=2026-Q4"))
    assert running.one(data_testid="running").attrs["data-as-of"] == "2026-11-30"
