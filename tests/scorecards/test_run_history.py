"""The run history (issue 17 item 6): every score run and nightly job with its trigger,
periods, start, end, outcome and error, on /runs/ and at GET /api/v1/score-runs/; admins
only (404 for everyone else, as everywhere out of scope)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crm import services as crm_services
from crm.models import NightlyRun
from scorecards.models import ManualScore, ScoreRun
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from tests.conftest import WHO


@pytest.fixture
def history(bank, tmp_path, monkeypatch):
    """A done run of 2026-09, a failed one, a good night and a night that died."""
    scheme_services.install_default_scheme()
    ManualScore.objects.create(
        period="2026-Q3", employee=bank.employees["rm_alice"], measure="mentoring",
        score=Decimal(80),
    )  # fmt: skip
    run_services.score_period(period_code="2026-09", trigger="test:done")
    failed, _created = run_services.score_run_start(period_code="2026-08", trigger="test:failed")
    run_services.score_run_fail(run_id=failed.pk, error="the worker died")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    crm_services.run_nightly(inbox=inbox)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(crm_services, "_run_inbox", broken)
    with pytest.raises(RuntimeError):
        crm_services.run_nightly(inbox=inbox)
    return bank


@pytest.mark.parametrize("who", WHO)
def test_only_admins_read_the_history(history, who):
    api = history.client(None if who == "anonymous" else who).get("/api/v1/score-runs/")
    page = Client()
    if who != "anonymous":
        page.force_login(history.users[who])
    html = page.get("/runs/")
    if who == "anonymous":
        assert api.status_code == 401 and html.status_code == 302
    elif who == "admin":
        assert api.status_code == 200 and html.status_code == 200
    else:
        assert api.status_code == 404 and html.status_code == 404


def test_the_history_lists_runs_and_nights_newest_first_with_their_outcome(history):
    response = history.client("admin").get("/api/v1/score-runs/")
    rows = response.data["results"]
    assert response.data["count"] == 4
    assert [(r["kind"], r["status"]) for r in rows] == [
        ("nightly", "failed"), ("nightly", "done"), ("score_run", "failed"), ("score_run", "done"),
    ]  # fmt: skip
    died, night, failed, done = rows
    assert "disk full" in died["error"] and died["finished_at"] is not None
    assert night["files"] == {"loaded": 0, "unchanged": 0, "rejected": 0}
    assert failed["periods"] == ["2026-08"] and failed["error"] == "the worker died"
    assert failed["trigger"] == "test:failed"
    assert done["periods"] == ["2026-09"] and done["cards"] == 3 and done["seconds"] >= 0
    only_failed = history.client("admin").get("/api/v1/score-runs/", {"status": "failed"})
    assert [r["id"] for r in only_failed.data["results"]] == [died["id"], failed["id"]]
    nights = history.client("admin").get("/api/v1/score-runs/", {"kind": "nightly"})
    assert {r["kind"] for r in nights.data["results"]} == {"nightly"}
    bad = history.client("admin").get("/api/v1/score-runs/", {"status": "exploded"})
    assert bad.status_code == 400


def test_a_page_of_the_history_reads_the_same_few_queries_however_long_it_is(history):
    client = history.client("admin")

    def queries(**params) -> tuple[int, list]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/v1/score-runs/", params)
        return len(captured), response.data["results"]

    queries(limit=2)  # the first request reads the user's scope (cached on the user after)
    few, _rows = queries(limit=2)
    NightlyRun.objects.bulk_create([NightlyRun(trigger=f"job:{n}") for n in range(30)])
    more, rows = queries(limit=2, offset=1)
    assert more == few and len(rows) == 2
    assert ScoreRun.objects.count() == 2


def test_the_page_shows_a_failure_and_its_error(history):
    page = Client(headers={"accept-language": "en"})
    page.force_login(history.users["admin"])
    html = page.get("/runs/").content.decode()
    failed = html.split('data-status="failed"')[1].split("</tr>")[0]
    assert "disk full" in failed
    assert 'data-kind="score_run"' in html and "the worker died" in html
    assert page.get("/runs/", {"status": "done"}).content.decode().count('data-status="done"') == 2
