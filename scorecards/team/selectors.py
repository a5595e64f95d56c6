"""Reads of the manager's team dashboard (/team/, SPEC §8).

Every read goes through the user's scope (`Scorecard.objects.visible_to`,
`Incident.objects.visible_to` via `compliance.selectors.incident_list`, the org selectors),
and every read is set-based: the page costs the same handful of queries for a team of 5
RMs or of 5,000 (cards, previous totals, the lines of three periods, the open incidents,
each one query for all RMs).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext as _

from compliance.models import IncidentStatus
from compliance.selectors import incident_list
from scorecards.cards.forecast import card_forecasts, facts_through, is_running
from scorecards.engine import competition_ranks
from scorecards.models import ManualScore, Period, Scorecard, ScoreLine
from targets.models import Employee, OrgUnit, User, scope_of
from targets.org import selectors as org_selectors
from wealthscore.kernel.access import Action, Role, allows
from wealthscore.kernel.periods import previous_code

AUM_NET_GROWTH = "aum_net_growth"
BAND = 10  # points per bar of the distribution


# ---------------------------------------------------------------- who and which unit
def team_unit(*, user: User, code: str | None) -> OrgUnit | None:
    """The unit whose team the page shows: `code` inside the user's subtree, else the
    manager's own unit; None is the whole bank (admins by default). Others: 404."""
    scope = scope_of(user)
    if not allows(scope.role, Action.TEAM):
        raise Http404
    if code:
        return org_selectors.org_unit_get(user=user, code=code)
    if scope.role == Role.MANAGER:
        if scope.unit is None:
            raise Http404
        return scope.unit
    return None


def team_units(*, user: User) -> QuerySet[OrgUnit]:
    """The units the user may pick (her subtree), in tree order."""
    return org_selectors.org_unit_list(user=user).order_by("path")


# ---------------------------------------------------------------- periods
def team_periods(*, user: User) -> list[Period]:
    """The periods that have a current run, newest first; on the same last day the month
    comes before its quarter and year (one query)."""
    return list(
        Period.objects.visible_to(user)
        .filter(current_run__isnull=False)
        .order_by("-last_day", "kind", "code")
    )


def default_period(periods: list[Period]) -> Period | None:
    """The latest month that has a current run; without one, the latest period."""
    month = next((p for p in periods if p.kind == "month"), None)
    return month or (periods[0] if periods else None)


# ---------------------------------------------------------------- the manual-score form
def team_rms(*, user: User, unit: OrgUnit | None) -> list[tuple[str, str]]:
    """(employee ID, name) of the active RMs of the unit's subtree today (one query)."""
    return list(
        org_selectors.employee_list(user=user, unit=unit)
        .filter(position=Role.RM, status=Employee.Status.ACTIVE)
        .order_by("employee_id")
        .values_list("employee_id", "name")
    )


# ---------------------------------------------------------------- the manual-score grid
@dataclass(frozen=True)
class GridCell:
    value: str  # "80.00", or "" when no score is entered
    entered_by: str  # a username, or "the import file" for a file's row, or ""
    entered_at: dt.datetime | None


@dataclass(frozen=True)
class GridRow:
    employee_id: str
    name: str
    cells: list[tuple[str, GridCell]]  # (measure, cell) in the scheme's order


def _entered_by(username: str | None, batch_id: int | None) -> str:
    """Who entered a manual score: a user, or the manual-scores file an import loaded."""
    return username or (str(_("the import file")) if batch_id else "")


def manual_grid(
    *, user: User, unit: OrgUnit | None, period: str, measures: list[str]
) -> list[GridRow]:
    """The team's RMs × the manual measures of `period` (a quarter or a year), each cell with
    its current score and who entered it when (two queries, whatever the team's size)."""
    rms = team_rms(user=user, unit=unit)
    rows = ManualScore.objects.filter(
        period=period, measure__in=measures, employee__employee_id__in=[e for e, _n in rms]
    ).values_list("employee__employee_id", "measure", "score", "entered_by__username",
                  "batch_id", "entered_at")  # fmt: skip
    found = {
        (employee, measure): GridCell(f"{score:.2f}", _entered_by(by, batch), at)
        for employee, measure, score, by, batch, at in rows
    }
    empty = GridCell("", "", None)
    return [
        GridRow(employee_id, name, [(m, found.get((employee_id, m), empty)) for m in measures])
        for employee_id, name in rms
    ]


def manual_current(*, user: User, employee_id: str, measure: str, period: str) -> GridCell | None:
    """The score a manual-score form is about to replace, if any (one query; None when there
    is none, or the RM is not in the user's scope)."""
    row = (
        ManualScore.objects.filter(
            employee__in=org_selectors.employee_list(user=user), employee__employee_id=employee_id,
            measure=measure, period=period,
        )
        .values_list("score", "entered_by__username", "batch_id", "entered_at")
        .first()
    )  # fmt: skip
    if row is None:
        return None
    score, by, batch, at = row
    return GridCell(f"{score:.2f}", _entered_by(by, batch), at)


# ---------------------------------------------------------------- the dashboard
@dataclass(frozen=True)
class Flag:
    kind: str  # "falling" | "aum_stalled"
    measure: str


@dataclass
class TeamRow:
    pk: int
    employee_id: str
    name: str
    unit_code: str
    unit_name: str
    total: Decimal | None
    rating: str
    vetoed: bool
    veto_reasons: list[str]
    no_total_reason: str
    rank: int | None = None
    previous_total: Decimal | None = None
    change: Decimal | None = None
    flags: list[Flag] = field(default_factory=list)
    # A running period (SPEC §5): the total projected to its end and its rating.
    projected_total: Decimal | None = None
    projected_rating: str = ""

    @property
    def trend(self) -> str:
        if self.change is None:
            return ""
        return "up" if self.change > 0 else "down" if self.change < 0 else "flat"


@dataclass(frozen=True)
class TeamWarning:
    employee_id: str
    name: str
    type_code: str
    type_name: str
    type_name_en: str
    occurred_on: dt.date
    incident_id: int


@dataclass
class TeamDashboard:
    period: Period
    previous: str  # the period of the same kind before it
    previous2: str  # and the one before that
    rows: list[TeamRow]
    measures: list[str]  # the heat map's columns, in the scheme's order (no bonus)
    points: dict[str, dict[str, Decimal | None]]  # employee ID → measure → points
    distribution: list[tuple[str, int, int]]  # (band, not vetoed, vetoed)
    as_of: dt.date | None = None  # the last day with facts, when the period is running
    elapsed_share: Decimal | None = None  # %, when the period is running

    @property
    def running(self) -> bool:
        return self.as_of is not None

    @property
    def projected_failing(self) -> list[TeamRow]:
        """The RMs projected to end the period rated D (below 60, or vetoed), lowest first."""
        failing = [row for row in self.rows if row.projected_rating == "D"]
        return sorted(failing, key=lambda r: (r.projected_total is None, r.projected_total or 0))

    @property
    def ranked(self) -> int:
        return sum(1 for row in self.rows if row.rank is not None)

    @property
    def mean_total(self) -> Decimal | None:
        totals = [row.total for row in self.rows if row.total is not None]
        return sum(totals, Decimal(0)) / len(totals) if totals else None

    @property
    def ratings(self) -> list[tuple[str, int]]:
        counts = Counter(row.rating for row in self.rows if row.rating)
        return [(rating, counts.get(rating, 0)) for rating in "ABCD"]

    @property
    def flagged(self) -> int:
        return sum(1 for row in self.rows if row.flags)


def _cards(user: User, unit: OrgUnit | None, run_id: int | None) -> QuerySet[Scorecard]:
    cards = Scorecard.objects.visible_to(user).filter(run_id=run_id)
    if unit is not None:
        cards = cards.filter(unit__path__startswith=unit.path)
    return cards


def team_dashboard(
    *, user: User, unit: OrgUnit | None, period: Period, periods: list[Period]
) -> TeamDashboard:
    """The team of `unit` (the whole scope when None) for `period`: its rows in rank order,
    change since the previous period of the same kind, bottleneck flags, heat map and
    distribution (the open compliance warnings: `team_warnings`). `periods` is
    `team_periods(user=…)`, which says which run is current for the previous periods (no
    query of its own)."""
    runs = {p.code: p.current_run_id for p in periods}
    runs.setdefault(period.code, period.current_run_id)
    before, before_that = previous_code(period.code), previous_code(period.code, 2)
    team = _cards(user, unit, period.current_run_id)
    # The previous periods of the team's RMs, wherever they were scored then (still
    # within what the user may see).
    members = Subquery(team.values("employee_id"))

    rows = [
        TeamRow(*values)
        for values in team.values_list(
            "employee_id", "employee__employee_id", "employee__name", "unit__code",
            "unit__name", "total", "rating", "vetoed", "veto_reasons", "no_total_reason",
        )
    ]  # fmt: skip
    ranks = competition_ranks([(row.employee_id, row.total, row.vetoed) for row in rows])
    previous_totals = dict(
        Scorecard.objects.visible_to(user)
        .filter(run_id=runs.get(before), employee_id__in=members)
        .values_list("employee_id", "total")
    )
    for row in rows:
        row.rank = ranks.get(row.employee_id)
        row.previous_total = previous_totals.get(row.pk)
        if row.total is not None and row.previous_total is not None:
            row.change = row.total - row.previous_total
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.employee_id))

    # The lines of the period and of the two before it, in one query.
    run_ids = [period.current_run_id, runs.get(before), runs.get(before_that)]
    lines = ScoreLine.objects.filter(
        scorecard__in=Scorecard.objects.visible_to(user).filter(
            run_id__in=[run for run in run_ids if run is not None], employee_id__in=members
        )
    ).values_list(
        "scorecard__run_id", "scorecard__employee_id", "measure", "method", "position",
        "points", "value",
    )  # fmt: skip
    by_run: dict[int, dict[int, dict[str, Decimal | None]]] = defaultdict(lambda: defaultdict(dict))
    positions: dict[str, int] = {}
    stalled: set[int] = set()
    for run_id, employee_pk, measure, method, position, points, value in lines:
        by_run[run_id][employee_pk][measure] = points
        if run_id == period.current_run_id:
            if method != "bonus":
                positions.setdefault(measure, position)
            if measure == AUM_NET_GROWTH and value is not None and value <= 0:
                stalled.add(employee_pk)
    measures = sorted(positions, key=lambda m: (positions[m], m))

    def points_of(run_id: int | None) -> dict[int, dict[str, Decimal | None]]:
        return by_run.get(run_id, {}) if run_id is not None else {}

    now = points_of(period.current_run_id)
    last, earlier = points_of(runs.get(before)), points_of(runs.get(before_that))
    for row in rows:
        p0, p1, p2 = now.get(row.pk, {}), last.get(row.pk, {}), earlier.get(row.pk, {})
        for measure in sorted(p0, key=lambda m: (positions.get(m, 999), m)):
            a, b, c = p2.get(measure), p1.get(measure), p0.get(measure)
            if a is not None and b is not None and c is not None and a > b > c:
                row.flags.append(Flag("falling", measure))
        if row.pk in stalled:
            row.flags.append(Flag("aum_stalled", AUM_NET_GROWTH))
    points_by_rm = {row.employee_id: now.get(row.pk, {}) for row in rows}

    # A running period: each RM's projected total, from her card's entry (one query for the
    # team's cards, and the forecast's own handful for all of them).
    as_of, elapsed = facts_through(), None
    if is_running(period.last_day, as_of):
        cards = list(team.select_related("run__period", "run__version", "employee"))
        forecasts = card_forecasts(cards, as_of=as_of)
        by_pk = {row.pk: row for row in rows}
        for card in cards:
            forecast = forecasts.get(card.pk)
            if forecast is not None and card.employee_id in by_pk:
                by_pk[card.employee_id].projected_total = forecast.projected_total
                by_pk[card.employee_id].projected_rating = forecast.projected_rating
                elapsed = forecast.elapsed_share
    else:
        as_of = None

    return TeamDashboard(
        period=period,
        previous=before,
        previous2=before_that,
        rows=rows,
        measures=measures,
        points=points_by_rm,
        distribution=_distribution(rows),
        as_of=as_of,
        elapsed_share=elapsed,
    )


def _distribution(rows: list[TeamRow]) -> list[tuple[str, int, int]]:
    """Cards per band of 10 points of their total (vetoed cards counted apart): 0–10 …
    90–100, and 100+ when the bonus lifted someone past 100."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        if row.total is not None:
            counts[min(int(row.total // BAND), 10)][row.vetoed] += 1
    bands = []
    for band in range(11 if 10 in counts else 10):
        low = band * BAND
        label = f"{low}–{low + BAND}" if band < 10 else f"≥{low}"
        bands.append((label, counts[band][0], counts[band][1]))
    return bands


def team_warnings(*, user: User, unit: OrgUnit | None) -> list[tuple[str, str, list[TeamWarning]]]:
    """The open incidents of the team the user may see, by RM: most incidents first, each
    RM's newest first (one query)."""
    rows = (
        incident_list(user=user, status=IncidentStatus.OPEN, unit=unit)
        .prefetch_related(None)
        .order_by("employee__employee_id", "-occurred_on", "-id")
        .values_list(
            "employee__employee_id", "employee__name", "type__code", "type__name",
            "type__name_en", "occurred_on", "id",
        )
    )  # fmt: skip
    by_rm: dict[str, list[TeamWarning]] = defaultdict(list)
    names: dict[str, str] = {}
    for employee_id, name, code, type_name, type_name_en, day, pk in rows:
        names[employee_id] = name
        by_rm[employee_id].append(
            TeamWarning(employee_id, name, code, type_name, type_name_en, day, pk)
        )
    order = sorted(by_rm, key=lambda key: (-len(by_rm[key]), key))
    return [(key, names[key], by_rm[key]) for key in order]
