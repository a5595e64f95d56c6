"""The manual-score grid (issue 17 item 3): the team's RMs × manual measures for a quarter,
each cell with its current score and who entered it; one save checks every cell and saves
all of them or none, marking each bad cell; one audit entry a changed cell; one recompute."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scorecards.models import ManualScore, Period, ScoreRunGroup
from scorecards.periods import services as period_services
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from tests.conftest import WHO
from tests.pages.html import parse
from wealthscore.models import AuditEntry

URL = "/team/manual-scores/"


@pytest.fixture
def grid(bank):
    scheme_services.install_default_scheme()
    ManualScore.objects.create(period="2026-Q3", employee=bank.employees["rm_alice"],
                               measure="mentoring", score=Decimal("79.50"))  # fmt: skip
    run_services.score_period(period_code="2026-Q3", trigger="test")
    return bank


def page(bank, who: str) -> Client:
    client = Client(headers={"accept-language": "en"})
    if who != "anonymous":
        client.force_login(bank.users[who])
    return client


def cells(doc) -> dict[tuple[str, str], str]:
    found = {}
    for tr in doc.one("table", data_testid="manual-grid").select("tr", data_employee_id=None):
        for td in tr.select("td", data_measure=None):
            value = [i for i in td.select("input") if i.attrs.get("data-original") is not None]
            found[(tr.attrs["data-employee-id"], td.attrs["data-measure"])] = value[0].attrs.get(
                "value", ""
            )
    return found


@pytest.mark.parametrize("who", WHO)
def test_the_grid_is_for_managers_of_the_team_and_admins(grid, who):
    response = page(grid, who).get(URL, {"period": "2026-Q3"})
    expected = {"anonymous": 302, "rm_alice": 404, "hr": 404, "compliance": 404}.get(who, 200)
    assert response.status_code == expected
    if expected == 200:
        rms = set(k[0] for k in cells(parse(response)))
        assert rms == {"manager_a": {"000101", "000102"}, "manager_b": {"000201"}}.get(
            who, {"000101", "000102", "000201"}
        )


def test_the_grid_shows_the_current_score_and_who_entered_it(grid):
    ManualScore.objects.filter(measure="mentoring").update(entered_by=grid.users["manager_a"])
    doc = parse(page(grid, "manager_a").get(URL, {"period": "2026-Q3"}))
    assert cells(doc)[("000101", "mentoring")] == "79.50"
    td = doc.one("tr", data_employee_id="000101").one("td", data_measure="mentoring")
    assert "manager_a" in td.one(data_field="entered").text


def test_a_grid_with_one_bad_cell_saves_nothing_and_marks_the_cell(
    grid, django_capture_on_commit_callbacks
):
    client = page(grid, "manager_a")
    doc = parse(client.get(URL, {"period": "2026-Q3"}))
    form = {"period": "2026-Q3", "unit": ""}
    for (employee, measure), value in cells(doc).items():
        form[f"was:{employee}:{measure}"] = value
        form[f"cell:{employee}:{measure}"] = value
    form["cell:000101:mentoring"] = "70"
    form["cell:000102:mentoring"] = "101"  # the bad cell
    form["cell:000102:collaboration"] = "88.5"
    refused = client.post(URL, form)
    assert refused.status_code == 400
    doc = parse(refused)
    bad = doc.one("tr", data_employee_id="000102").one("td", data_measure="mentoring")
    assert "has-error" in bad.attrs.get("class", "") and "0 to 100" in bad.text
    assert cells(doc)[("000101", "mentoring")] == "70"  # what was typed is kept
    assert ManualScore.objects.get(employee=grid.employees["rm_alice"]).score == Decimal("79.50")
    assert ManualScore.objects.count() == 1

    groups = ScoreRunGroup.objects.count()
    form["cell:000102:mentoring"] = "90"
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(URL, form)
    assert done.status_code == 302
    scores = {(s.employee.employee_id, s.measure): s.score for s in ManualScore.objects.all()}
    assert scores == {("000101", "mentoring"): Decimal("70.00"),
                      ("000102", "mentoring"): Decimal("90.00"),
                      ("000102", "collaboration"): Decimal("88.50")}  # fmt: skip
    changes = AuditEntry.objects.filter(action="manual_score.enter").order_by("object_id")
    assert [c.object_id for c in changes] == [
        "2026-Q3/000101/mentoring", "2026-Q3/000102/collaboration", "2026-Q3/000102/mentoring"
    ]  # fmt: skip
    assert changes[0].before == {"score": "79.50"}
    assert ScoreRunGroup.objects.count() == groups + 1  # one recompute for the grid


def test_a_manager_cannot_save_another_branchs_rm_nor_a_branch_in_review(grid):
    client = page(grid, "manager_a")
    other = client.post(URL, {"period": "2026-Q3", "cell:000201:mentoring": "60"})
    assert other.status_code == 400
    assert not ManualScore.objects.filter(employee=grid.employees["rm_bob"]).exists()
    period_services.units_transition(period=Period.objects.get(code="2026-Q3"),
                                     unit_codes=["A"], action="submit",
                                     actor=grid.users["manager_a"])  # fmt: skip
    locked = client.post(URL, {"period": "2026-Q3", "cell:000102:mentoring": "60"})
    assert locked.status_code == 400
    cell = parse(locked).one("tr", data_employee_id="000102").one("td", data_measure="mentoring")
    assert "北京分行" in cell.text or "in review" in cell.text.lower()
    assert ManualScore.objects.count() == 1


def test_the_grid_reads_the_same_queries_for_more_rms(grid):
    client = page(grid, "admin")
    client.get(URL, {"period": "2026-Q3"})

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, {"period": "2026-Q3"}).status_code == 200
        return len(queries)

    few = count()
    from tests.conftest import make_person

    for n in range(10):
        make_person(key=f"rm_x{n}", employee_id=f"0008{n:02d}", unit=grid.sub_b1, role="rm")
    assert count() == few


@pytest.mark.parametrize("who", WHO)
def test_the_one_score_form_says_what_it_would_replace(grid, who):
    ManualScore.objects.filter(measure="mentoring").update(entered_by=grid.users["manager_a"])
    query = {"employee": "000101", "measure": "mentoring", "period": "2026-Q3"}
    response = page(grid, who).get("/team/manual-score/current/", query)
    expected = {"anonymous": 302, "rm_alice": 404, "hr": 404, "compliance": 404}.get(who, 200)
    assert response.status_code == expected
    if expected != 200:
        return
    html = response.content.decode()
    if who == "manager_b":  # not her RM: nothing to say
        assert "data-testid" not in html
    else:
        assert 'data-value="79.50"' in html and "manager_a" in html and "replaces" in html
