"""The manager's team dashboard (/team/, SPEC §8): who sees it and whose RMs, the team
table (rank, order, change, bottleneck flags), the compliance warnings, manual score entry,
submitting the period for approval, and a query count independent of the team's size."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from compliance.models import Incident
from scorecards.cards.services import manual_score_enter
from scorecards.models import (
    ManualScore,
    Period,
    PeriodStatus,
    PeriodUnit,
    SchemeMeasure,
    SchemeVersion,
    Scorecard,
    ScoreLine,
    ScoreRun,
)
from scorecards.periods import services as period_services
from scorecards.schemes import services as scheme_services
from scorecards.team import selectors as team_selectors
from targets.models import Employee, OrgUnit, UnitMembership, User
from tests.conftest import WHO
from wealthscore.kernel.access import Role
from wealthscore.kernel.errors import ConflictError, DomainError, ForbiddenError
from wealthscore.models import AuditEntry

VISIBLE = {
    "manager_a": {"000101", "000102"},
    "manager_b": {"000201"},
    "admin": {"000101", "000102", "000201"},
}
UNIT_OF = {"rm_alice": "sub_a1", "rm_dan": "sub_a2", "rm_bob": "sub_b1"}


# ---------------------------------------------------------------- helpers
class TeamTable(HTMLParser):
    """The rows of table[data-testid=team-table]: id, cells by data-field, flags, link."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self.headers: list[str] = []
        self._in_table = False
        self._row: dict | None = None
        self._field: str | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("data-testid") == "team-table":
            self._in_table = True
        if not self._in_table:
            return
        if tag == "th" and "data-sort" in a:
            self.headers.append(a["data-sort"])
        if tag == "tr" and "data-employee-id" in a:
            self._row = {
                "id": a["data-employee-id"],
                "cells": {},
                "flags": [],
                "href": None,
                "vetoed": False,
            }
        elif self._row is not None:
            if tag == "td":
                self._field, self._text = a.get("data-field"), []
            elif tag == "span" and a.get("data-testid") == "veto-mark":
                self._row["vetoed"] = True
            elif tag == "span" and "data-flag" in a:
                self._row["flags"].append((a["data-flag"], a["data-measure"]))
            elif tag == "a" and a.get("data-testid") == "open-card":
                self._row["href"] = a["href"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._field:
            self._row["cells"][self._field] = " ".join("".join(self._text).split())
            self._field = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "table":
            self._in_table = False

    def handle_data(self, data: str) -> None:
        if self._field:
            self._text.append(data)


def page_client(bank, who: str) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(bank.users[who])
    return client


def version() -> SchemeVersion:
    scheme_services.install_default_scheme()
    return SchemeVersion.objects.filter(status="published").order_by("-number").first()


def scored(code: str, cards: list[dict], status: str = PeriodStatus.OPEN) -> Period:
    """A done run of `code`, made current, with the given cards written straight in: each
    {employee, unit, total, vetoed, lines: {measure: (points, value)}}."""
    period = period_services.period_get_or_create(code)
    run = ScoreRun.objects.create(
        period=period, version=version(), trigger="test", status="done", cards=len(cards)
    )
    made = Scorecard.objects.bulk_create(
        [
            Scorecard(
                run=run,
                employee=c["employee"],
                unit=c["unit"],
                total=c.get("total"),
                weighted_score=c.get("total"),
                vetoed=c.get("vetoed", False),
                rating="D" if c.get("vetoed") else c.get("rating", "B"),
                veto_reasons=["误导销售 2026-09-03 (#1)"] if c.get("vetoed") else [],
                no_total_reason="" if c.get("total") is not None else "nothing applies",
            )
            for c in cards
        ]
    )
    ScoreLine.objects.bulk_create(
        [
            ScoreLine(
                scorecard=card,
                measure=measure,
                kpi=measure,
                dimension="performance",
                method="linear",
                points=points,
                value=value,
                weight=Decimal("10"),
                applicable=points is not None,
                position=position,
            )
            for card, c in zip(made, cards, strict=True)
            for position, (measure, (points, value)) in enumerate(c.get("lines", {}).items())
        ]
    )
    period.current_run = run
    period.status = status
    period.save(update_fields=["current_run", "status"])
    return period


def card(bank, key: str, total, **extra) -> dict:
    unit = getattr(bank, UNIT_OF[key])
    return {"employee": bank.employees[key], "unit": unit, "total": total, **extra}


@pytest.fixture
def september(bank):
    """2026-08 and 2026-09 scored for the three RMs: Alice 75 → 80, Dan (no August card)
    95 vetoed, Bob 90 → 88."""
    scored(
        "2026-08",
        [card(bank, "rm_alice", Decimal("75.00")), card(bank, "rm_bob", Decimal("90.00"))],
    )
    return scored(
        "2026-09",
        [
            card(bank, "rm_alice", Decimal("80.00")),
            card(bank, "rm_dan", Decimal("95.00"), vetoed=True),
            card(bank, "rm_bob", Decimal("88.00"), rating="B"),
        ],
    )


# ---------------------------------------------------------------- who sees what
@pytest.mark.parametrize("who", WHO)
def test_the_page_matrix(bank, september, who):
    response = page_client(bank, who).get("/team/")
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
        return
    if who not in VISIBLE:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    table = TeamTable(response.content.decode())
    assert {row["id"] for row in table.rows} == VISIBLE[who]
    for row in table.rows:
        assert row["href"] == f"/cards/{row['id']}/?period=2026-09"


@pytest.mark.parametrize("who", WHO)
def test_the_write_routes_matrix(bank, september, who):
    client = page_client(bank, who)
    for url, data in (
        (
            "/team/manual-score/",
            {"period": "2026-Q3", "employee": "000101", "measure": "collaboration", "score": "80"},
        ),
        ("/team/submit/", {"period": "2026-09"}),
    ):
        response = client.post(url, data)
        if who == "anonymous":
            assert response.status_code == 302 and response["Location"].startswith("/login/")
        elif who not in VISIBLE:
            assert response.status_code == 404, url
        assert client.get(url).status_code in {302, 405}  # POST only
    if who not in VISIBLE:
        assert not ManualScore.objects.exists()
        assert Period.objects.get(code="2026-09").status == PeriodStatus.OPEN


def test_a_unit_outside_the_managers_subtree_is_404_and_one_inside_narrows(bank, september):
    client = page_client(bank, "manager_a")
    assert client.get("/team/?unit=B1").status_code == 404
    assert client.get("/team/?unit=NOPE").status_code == 404
    inside = client.get("/team/?unit=A1")
    assert inside.status_code == 200
    assert [row["id"] for row in TeamTable(inside.content.decode()).rows] == ["000101"]
    admin = page_client(bank, "admin").get("/team/?unit=B")
    assert [row["id"] for row in TeamTable(admin.content.decode()).rows] == ["000201"]


def test_an_unknown_period_is_404_and_no_period_at_all_says_so(bank):
    client = page_client(bank, "manager_a")
    assert client.get("/team/?period=2026-13").status_code == 404
    assert client.get("/team/?period=2031-05").status_code == 404
    empty = client.get("/team/")
    assert empty.status_code == 200
    assert b'data-testid="no-period"' in empty.content


# ---------------------------------------------------------------- the team table
def test_default_order_is_total_descending_with_the_vetoed_last(bank, september):
    response = page_client(bank, "admin").get("/team/")
    html = response.content.decode()
    table = TeamTable(html)
    assert [row["id"] for row in table.rows] == ["000201", "000101", "000102"]
    assert [row["cells"]["rank"] for row in table.rows] == ["1", "2", "3"]
    assert [row["cells"]["total"] for row in table.rows] == ["88.00", "80.00", "95.00"]
    assert [row["vetoed"] for row in table.rows] == [False, False, True]
    assert table.rows[2]["cells"]["rating"].startswith("D")
    assert {"total", "rank", "name", "change"} <= set(table.headers)
    for hook in (
        'id="distribution-chart"',
        'id="heatmap-chart"',
        'data-testid="team-warnings"',
        'data-testid="manual-score-form"',
        'data-testid="submit-period"',
        "vendor/echarts.min.js",
        "js/team.js",
        'id="period-picker"',
        'id="period-go"',
    ):
        assert hook in html, hook


def test_the_default_period_is_the_latest_month_with_a_current_run(bank, september):
    scored("2026-Q3", [card(bank, "rm_alice", Decimal("70.00"))])
    scored("2026", [card(bank, "rm_alice", Decimal("71.00"))])
    response = page_client(bank, "manager_a").get("/team/")
    assert response.context["period"].code == "2026-09"
    quarter = page_client(bank, "manager_a").get("/team/?period=2026-Q3")
    assert [row["cells"]["total"] for row in TeamTable(quarter.content.decode()).rows] == ["70.00"]


def test_the_change_since_the_previous_period_of_the_same_kind(bank, september):
    table = TeamTable(page_client(bank, "admin").get("/team/").content.decode())
    change = {row["id"]: row["cells"]["change"] for row in table.rows}
    assert change["000101"].startswith("+5.00") and "▲" in change["000101"]
    assert change["000201"].startswith("−2.00") and "▼" in change["000201"]
    assert change["000102"] == "—"  # no August card


@pytest.mark.parametrize(
    ("code", "before", "before_that"),
    [
        ("2026-09", "2026-08", "2026-07"),
        ("2026-01", "2025-12", "2025-11"),
        ("2026-Q1", "2025-Q4", "2025-Q3"),
        ("2026-Q3", "2026-Q2", "2026-Q1"),
        ("2026", "2025", "2024"),
    ],
)
def test_previous_periods_are_of_the_same_kind(code, before, before_that):
    assert team_selectors.previous_code(code) == before
    assert team_selectors.previous_code(code, 2) == before_that


def test_bottleneck_flags(bank):
    def lines(sales, nps, aum_value):
        return {
            "sales_attainment": (sales, Decimal(1)),
            "nps": (nps, Decimal(1)),
            "aum_net_growth": (Decimal(50), aum_value),
        }

    d = Decimal
    history = {  # (sales points, nps points, AUM net growth value) in July, August, September
        "rm_alice": [(d(90), d(50), d(9)), (d(80), d(60), d(9)), (d(70), d(40), d(0))],
        "rm_dan": [(d(70), d(90), d(9)), (d(70), d(80), d(9)), (d(60), d(70), d(5))],
        "rm_bob": [(d(90), d(50), d(9)), (None, d(40), d(9)), (d(10), d(30), d(-10))],
    }
    for month, index in (("2026-07", 0), ("2026-08", 1), ("2026-09", 2)):
        scored(
            month,
            [
                card(bank, key, d(70), lines=lines(*values[index]))
                for key, values in history.items()
            ],
        )
    html = page_client(bank, "admin").get("/team/?period=2026-09").content.decode()
    flags = {row["id"]: set(row["flags"]) for row in TeamTable(html).rows}
    # Alice: sales 90 > 80 > 70 falls; NPS went up then down; AUM growth 0 is stalled.
    assert flags["000101"] == {("falling", "sales_attainment"), ("aum_stalled", "aum_net_growth")}
    # Dan: sales 70 = 70 > 60 is not two falls; NPS 90 > 80 > 70 is.
    assert flags["000102"] == {("falling", "nps")}
    # Bob: no August sales points, so no fall to see; NPS falls; AUM shrank.
    assert flags["000201"] == {("falling", "nps"), ("aum_stalled", "aum_net_growth")}
    assert 'data-testid="flag-legend"' in html
    # The heat map carries every RM's points, in the table's order.
    data = page_client(bank, "admin").get("/team/?period=2026-09").context["team"]["chart_data"]
    assert data["heatmap"]["rms"] == [row["id"] for row in TeamTable(html).rows]
    assert data["heatmap"]["measures"] == ["sales_attainment", "nps", "aum_net_growth"]
    # All three total 70 (tied first, by employee ID): x = measure, y = row, points.
    assert data["heatmap"]["rms"] == ["000101", "000102", "000201"]
    sales = [cell for cell in data["heatmap"]["cells"] if cell[0] == 0]
    assert sales == [[0, 0, 70.0], [0, 1, 60.0], [0, 2, 10.0]]
    assert data["distribution"]["bands"][7] == "70–80"
    assert data["distribution"]["counts"][7] == 3 and sum(data["distribution"]["counts"]) == 3


def test_the_teams_open_compliance_warnings(bank, september):
    day = dt.date(2026, 9, 10)
    for key, status in (("rm_alice", "open"), ("rm_alice", "dismissed"), ("rm_bob", "open")):
        Incident.objects.create(
            type_id="unsuitable_sale",
            employee=bank.employees[key],
            unit=getattr(bank, UNIT_OF[key]),
            occurred_on=day,
            description="test",
            status=status,
            decided_by=None if status == "open" else bank.users["compliance"],
            decided_at=None if status == "open" else dt.datetime(2026, 9, 11, tzinfo=dt.UTC),
        )
    response = page_client(bank, "manager_a").get("/team/")
    warnings = response.context["warnings"]
    assert [(w["employee_id"], len(w["items"])) for w in warnings] == [("000101", 1)]
    html = response.content.decode()
    section = html[html.index('data-testid="team-warnings"') :]
    assert "2026-09-10" in section and 'href="/compliance/"' in section
    admin = page_client(bank, "admin").get("/team/").context["warnings"]
    assert {w["employee_id"] for w in admin} == {"000101", "000201"}


# ---------------------------------------------------------------- manual scores
MANUAL = {
    "period": "2026-Q3",
    "employee": "000101",
    "measure": "collaboration",
    "score": "88.5",
    "comment": "跨部门项目",
    "page_period": "2026-09",
}


def test_manual_score_entry_writes_audits_and_recomputes(
    bank, september, django_capture_on_commit_callbacks
):
    client = page_client(bank, "manager_a")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/team/manual-score/", MANUAL)
    assert response.status_code == 302
    assert response["Location"].startswith("/team/?period=2026-09")
    row = ManualScore.objects.get()
    assert (row.period, row.employee.employee_id, row.measure, row.score, row.comment) == (
        "2026-Q3",
        "000101",
        "collaboration",
        Decimal("88.50"),
        "跨部门项目",
    )
    assert row.entered_by == bank.users["manager_a"]
    audit = AuditEntry.objects.get(action="manual_score.enter")
    assert audit.actor == bank.users["manager_a"] and audit.before is None
    assert audit.after["score"] == "88.50" and audit.object_id == str(row.pk)
    # Its months, the quarter and the year were scored again, with the new score on them.
    runs = ScoreRun.objects.filter(trigger=f"manual_score:{row.pk}")
    assert set(runs.values_list("period__code", flat=True)) == {
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-Q3",
        "2026",
    }
    line = ScoreLine.objects.get(
        scorecard__run=Period.objects.get(code="2026-09").current_run,
        scorecard__employee=bank.employees["rm_alice"],
        measure="collaboration",
    )
    assert line.points == Decimal("88.5000") and line.applicable
    # A correction updates the same row, and the audit keeps what it was.
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/team/manual-score/", {**MANUAL, "score": "90"})
    assert ManualScore.objects.get().score == Decimal("90.00")
    last = AuditEntry.objects.filter(action="manual_score.enter").latest("id")
    assert last.before["score"] == "88.50" and last.after["score"] == "90.00"


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"score": "101"}, "score", 400),
        ({"score": "abc"}, "score", 400),
        ({"measure": "sales_attainment"}, "measure", 400),
        ({"employee": "000201"}, "employee", 400),  # Bob is in branch B
        ({"period": "2026-09"}, "period", 400),  # a month
    ],
)
def test_manual_score_errors_show_beside_their_field_and_keep_the_input(
    bank, september, change, field, status
):
    data = {**MANUAL, **change}
    response = page_client(bank, "manager_a").post("/team/manual-score/", data)
    assert response.status_code == status
    html = response.content.decode()
    assert f'class="field-error" data-field="{field}"' in html
    assert response.context["manual"]["values"] == {
        k: data[k] for k in ("period", "employee", "measure", "score", "comment")
    }
    assert 'value="{}"'.format(data["score"]) in html  # the score typed is kept
    assert "跨部门项目" in html
    assert not ManualScore.objects.exists()
    assert not AuditEntry.objects.filter(action="manual_score.enter").exists()


def test_manual_score_for_an_approved_period_is_a_conflict(bank, september):
    Period.objects.filter(pk=period_services.period_get_or_create("2026-Q3").pk).update(
        status=PeriodStatus.APPROVED
    )
    response = page_client(bank, "manager_a").post(
        "/team/manual-score/", MANUAL, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 409
    message = response.context["manual"]["error"]
    assert "2026-Q3" in message and "approved" in message
    assert message in response.content.decode()
    assert not ManualScore.objects.exists()


def test_the_manual_score_service_refuses_what_it_must(bank):
    alice, bob = bank.employees["rm_alice"], bank.employees["rm_bob"]
    enter = {"period": "2026-Q3", "measure": "mentoring", "score": Decimal("70")}
    with pytest.raises(ForbiddenError):
        manual_score_enter(actor=bank.users["rm_alice"], employee=alice, **enter)
    with pytest.raises(ForbiddenError):
        manual_score_enter(actor=bank.users["hr"], employee=alice, **enter)
    with pytest.raises(DomainError) as other_branch:
        manual_score_enter(actor=bank.users["manager_a"], employee=bob, **enter)
    assert other_branch.value.field == "employee"
    with pytest.raises(DomainError) as not_an_rm:
        manual_score_enter(actor=bank.users["admin"], employee=bank.employees["manager_b"], **enter)
    assert not_an_rm.value.field == "employee"
    for score in (Decimal("-1"), Decimal("100.01"), Decimal("NaN"), Decimal("50.123")):
        with pytest.raises(DomainError) as bad:
            manual_score_enter(
                actor=bank.users["manager_a"], employee=alice, **{**enter, "score": score}
            )
        assert bad.value.field == "score"
    with pytest.raises(DomainError) as computed:
        manual_score_enter(
            actor=bank.users["manager_a"], employee=alice, **{**enter, "measure": "nps"}
        )
    assert computed.value.field == "measure"
    Period.objects.filter(pk=period_services.period_get_or_create("2026").pk).update(
        status=PeriodStatus.APPROVED
    )
    with pytest.raises(ConflictError) as approved:
        manual_score_enter(actor=bank.users["admin"], employee=alice, **{**enter, "period": "2026"})
    assert "2026" in approved.value.message
    assert not ManualScore.objects.exists()
    # The edges of the range are fine; the admin may score anyone.
    for score in (Decimal("0"), Decimal("100")):
        row = manual_score_enter(
            actor=bank.users["admin"], employee=bob, **{**enter, "score": score}
        )
        assert row.score == score


# ---------------------------------------------------------------- submit for approval
def test_submit_the_period_for_approval_then_a_second_time_is_refused(bank, september):
    client = page_client(bank, "manager_a")
    unconfirmed = client.post("/team/submit/", {"period": "2026-09"})
    assert unconfirmed.status_code == 400  # the box that confirms the submission is unticked
    assert 'data-testid="submit-error"' in unconfirmed.content.decode()
    response = client.post("/team/submit/", {"period": "2026-09", "confirm": "on"})
    assert response.status_code == 302
    # Her branch is in review; the other branch is open, so the period is not.
    states = dict(PeriodUnit.objects.values_list("unit__code", "status"))
    assert states == {"A": PeriodStatus.IN_REVIEW}
    assert Period.objects.get(code="2026-09").status == PeriodStatus.OPEN
    assert AuditEntry.objects.filter(action="period.submit", object_id="2026-09").count() == 1
    page = client.get("/team/", {"period": "2026-09"}).content.decode()
    row = page.split('data-unit="A"')[1].split("</tr>")[0]
    assert 'data-status="in_review"' in row
    assert 'data-testid="submit-period"' not in page
    again = client.post("/team/submit/", {"period": "2026-09", "confirm": "on"})
    assert again.status_code == 409
    assert "2026-09" in again.context["submit_error"]
    assert 'data-testid="submit-error"' in again.content.decode()
    assert AuditEntry.objects.filter(action="period.submit").count() == 1
    assert client.post("/team/submit/", {"period": "2031-01"}).status_code == 404


# ---------------------------------------------------------------- query count
def _branch(code: str, head: OrgUnit, rms: int, start: int) -> tuple[User, list[Employee], list]:
    """A branch with sub-branches of 10 RMs, its manager with a login: (manager, RMs,
    sub-branch of each RM), written in bulk."""
    branch = OrgUnit.objects.create(
        code=code,
        name=f"{code}分行",
        level="branch",
        parent=head,
        path=f"{head.path}{code}/",
        depth=1,
    )
    subs = OrgUnit.objects.bulk_create(
        [
            OrgUnit(
                code=f"{code}{s:03d}",
                name=f"支行{s}",
                level="sub_branch",
                parent=branch,
                path=f"{branch.path}{code}{s:03d}/",
                depth=2,
            )
            for s in range(-(-rms // 10))
        ]
    )
    user = User.objects.create_user(username=f"mgr_{code}", password="x")
    manager = Employee.objects.create(
        employee_id=f"9{code}",
        name=f"行长{code}",
        user=user,
        position=Role.MANAGER,
        hire_date=dt.date(2015, 1, 1),
    )
    people = Employee.objects.bulk_create(
        [
            Employee(
                employee_id=f"{start + n:06d}",
                name=f"经理{start + n}",
                position=Role.RM,
                hire_date=dt.date(2020, 1, 1),
            )
            for n in range(rms)
        ]
    )
    people = list(Employee.objects.filter(employee_id__in=[e.employee_id for e in people]))
    people.sort(key=lambda e: e.employee_id)
    units = [subs[i // 10] for i in range(rms)]
    UnitMembership.objects.bulk_create(
        [
            UnitMembership(employee=e, unit=u, valid_from=dt.date(2020, 1, 1))
            for e, u in zip(people, units, strict=True)
        ]
        + [UnitMembership(employee=manager, unit=branch, valid_from=dt.date(2015, 1, 1))]
    )
    return user, people, units


def test_the_page_costs_the_same_queries_for_50_and_500_rms(bank):
    head = bank.head
    small = _branch("S", head, 50, 500_000)
    large = _branch("L", head, 500, 600_000)
    measures = list(
        SchemeMeasure.objects.filter(kpi__version=version())
        .select_related("kpi")
        .order_by("kpi__position", "position")
    )
    for offset, code in enumerate(("2026-07", "2026-08", "2026-09")):
        period = period_services.period_get_or_create(code)
        run = ScoreRun.objects.create(
            period=period, version=version(), trigger="bench", status="done"
        )
        cards = Scorecard.objects.bulk_create(
            [
                Scorecard(
                    run=run,
                    employee=e,
                    unit=u,
                    total=Decimal(40 + (n * 7 + offset) % 60),
                    weighted_score=Decimal(50),
                    vetoed=n % 97 == 0,
                    rating="B",
                )
                for _user, people, units in (small, large)
                for n, (e, u) in enumerate(zip(people, units, strict=True))
            ],
            batch_size=2000,
        )
        ScoreLine.objects.bulk_create(
            [
                ScoreLine(
                    scorecard=c,
                    measure=m.measure,
                    kpi=m.kpi.code,
                    dimension=m.kpi.dimension,
                    method=m.method,
                    value=Decimal(i - 5),
                    target=Decimal(10),
                    points=Decimal((i * 13 + c.pk - offset * 9) % 110),
                    weight=Decimal(5),
                    weighted=Decimal(1),
                    applicable=True,
                    position=i,
                )
                for c in cards
                for i, m in enumerate(measures)
            ],
            batch_size=5000,
        )
        period.current_run = run
        period.save(update_fields=["current_run"])
    Incident.objects.bulk_create(
        [
            Incident(
                type_id="unsuitable_sale",
                employee=e,
                unit=u,
                occurred_on=dt.date(2026, 9, 1),
                description="t",
                warning_key=f"k{e.employee_id}",
            )
            for _user, people, units in (small, large)
            for e, u in list(zip(people, units, strict=True))[::5]
        ]
    )
    counts = {}
    for size, (user, people, _units) in (("50", small), ("500", large)):
        client = Client()
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/team/")
        assert response.status_code == 200
        rows = TeamTable(response.content.decode()).rows
        assert len(rows) == len(people)
        assert any(row["flags"] for row in rows)
        counts[size] = len(queries.captured_queries)
    assert counts["50"] == counts["500"], counts
    assert counts["500"] <= 22, counts  # 20, and the branches' review states
