"""Reads of the RM's card page (/me/, /cards/<employee_id>/) that `selectors` does not have.

Every read goes through `Scorecard.objects.visible_to(user)`, like `scorecard_list`: a period
or a month the user may not see for this RM simply is not there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from compliance import selectors as compliance_selectors
from compliance.selectors import VetoCase
from scorecards.models import (
    Dimension,
    Inquiry,
    Kpi,
    PeriodStatus,
    SchemeVersion,
    Scorecard,
    ScoreLine,
)
from targets.models import OrgUnit, User
from wealthscore.kernel.periods import parse_period, quarter_of, quarters_of

HUNDRED = Decimal(100)
# The four dimensions of the radar, in the scheme's order (the bonus is not one of them).
RADAR_DIMENSIONS = (
    Dimension.PERFORMANCE,
    Dimension.SERVICE,
    Dimension.COMPLIANCE,
    Dimension.TEAMWORK,
)


@dataclass(frozen=True)
class CardPeriod:
    """A period for which the RM has a current card the user may see."""

    code: str
    kind: str  # month | quarter | year
    first_day: dt.date
    last_day: dt.date
    status: str
    employee_id: str
    employee_name: str
    unit_code: str
    unit_name: str

    @property
    def status_label(self) -> str:
        return str(PeriodStatus(self.status).label)


def card_periods(*, user: User, employee_id: str) -> list[CardPeriod]:
    """Every period of the RM's current cards visible to the user, newest first (one query).

    Empty when the RM has no card the user may see (out of scope, or not scored yet).
    """
    rows = (
        Scorecard.objects.visible_to(user)
        .current()
        .filter(employee__employee_id=employee_id)
        .order_by("-run__period__last_day", "-run__period__first_day")
        .values_list(
            "run__period__code",
            "run__period__kind",
            "run__period__first_day",
            "run__period__last_day",
            "run__period__status",
            "employee__employee_id",
            "employee__name",
            "unit__code",
            "unit__name",
        )
    )
    return [CardPeriod(*row) for row in rows]


def scheme_missing_on(day: dt.date) -> bool:
    """No published scheme is in force on the day: nothing can be scored, whatever the
    facts (a configuration row is missing, which only an admin can add)."""
    return not SchemeVersion.objects.in_force_on(day).exists()


def default_period(periods: Iterable[CardPeriod], through: dt.date | None = None) -> str | None:
    """The RM's last completed quarter (quarterly scores are the assessment, and an RM opens
    on her last completed quarter, SPEC §5): the newest quarter card whose last day is on or
    before `through`, the last day with facts. Without one, her most recent quarter card
    (a running one); without any, her most recent card of any kind. `periods` come newest
    first."""
    periods = list(periods)
    quarters = [p for p in periods if p.kind == "quarter"]
    completed = [p for p in quarters if through is not None and p.last_day <= through]
    if completed:
        return completed[0].code
    if quarters:
        return quarters[0].code
    return periods[0].code if periods else None


def trend_months(last_day: dt.date, count: int = 12) -> list[str]:
    """The codes of the `count` months up to and including the month of `last_day`."""
    months = []
    year, month = last_day.year, last_day.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def monthly_totals(
    *, user: User, employee_id: str, last_day: dt.date
) -> list[tuple[str, Decimal | None, bool]]:
    """(month, total, vetoed) of the RM's month cards for the 12 months up to `last_day`, in
    order; a month without a card has total None (one query for all months)."""
    months = trend_months(last_day)
    found = {
        code: (total, vetoed)
        for code, total, vetoed in Scorecard.objects.visible_to(user)
        .current()
        .filter(
            employee__employee_id=employee_id,
            run__period__kind="month",
            run__period__code__in=months,
        )
        .values_list("run__period__code", "total", "vetoed")
    }
    return [(code, *found.get(code, (None, False))) for code in months]


def kpi_names(*, version_id: int) -> dict[str, str]:
    """KPI code → name in the scheme version that scored a card (one query)."""
    return dict(Kpi.objects.filter(version_id=version_id).values_list("code", "name"))


def dimension_shares(lines: Iterable[ScoreLine]) -> list[tuple[str, Decimal | None]]:
    """Per dimension of the radar: the share of its applicable weight the lines earned,
    Σ weighted ÷ Σ weight of its applicable lines, in % (may exceed 100 up to the caps).

    A line's `weighted` is its contribution after the weight of the card's not-applicable
    lines was shared out (weight × points ÷ the card's applicable weight), so the weights
    are rescaled the same way: the result is the dimension's weighted mean of points.
    None for a dimension with no applicable line.
    """
    lines = [line for line in lines if line.method != "bonus"]
    applicable_weight = sum((line.weight for line in lines if line.applicable), Decimal(0))
    shares: list[tuple[str, Decimal | None]] = []
    for dimension in RADAR_DIMENSIONS:
        mine = [
            (line.weight, line.weighted)
            for line in lines
            if line.dimension == dimension and line.applicable and line.weighted is not None
        ]
        weight = sum((line_weight for line_weight, _ in mine), Decimal(0))
        if not mine or weight == 0 or applicable_weight == 0:
            shares.append((dimension.value, None))
            continue
        earned = sum((weighted for _, weighted in mine), Decimal(0))
        rescaled = weight * HUNDRED / applicable_weight
        shares.append((dimension.value, earned / rescaled * HUNDRED))
    return shares


def manual_periods(code: str) -> list[str]:
    """The periods manual scores may be entered for from the page of period `code`: the
    quarter that contains it and its year (for a year page, its quarters and the year)."""
    period = parse_period(code)
    if period.kind == "year":
        return [quarter.code for quarter in quarters_of(period.year)] + [str(period.year)]
    return [quarter_of(period).code, str(period.year)]


def scorecard_list(
    *,
    user: User,
    period: str | None = None,
    employee_id: str | None = None,
    unit: OrgUnit | None = None,
) -> QuerySet[Scorecard]:
    """The current cards the user may see, with their lines (3 queries for any number)."""
    cards = Scorecard.objects.visible_to(user).current()
    if period:
        cards = cards.filter(run__period__code=period)
    if employee_id:
        cards = cards.filter(employee__employee_id=employee_id)
    if unit is not None:
        cards = cards.filter(unit__path__startswith=unit.path)
    return (
        cards.select_related("employee", "unit", "run__period", "run__version__scheme")
        .prefetch_related(Prefetch("lines", queryset=ScoreLine.objects.order_by("position")))
        .order_by("run__period__last_day", "rank", "employee__employee_id")
    )


def card_vetoes(*, user: User, cards: Iterable[Scorecard]) -> dict[int, list[VetoCase]]:
    """The cases that veto each vetoed card (type, date, description, who confirmed it and
    why, a link for those who may open the case), keyed by card id: one query for all.
    The cards need their run's period (scorecard_list selects it)."""
    vetoed = [
        (card.pk, card.employee.employee_id, card.run.period.first_day, card.run.period.last_day)
        for card in cards
        if card.vetoed
    ]
    return compliance_selectors.card_vetoes(user=user, cards=vetoed)


def scorecard_get(*, user: User, card_id: int) -> Scorecard:
    card = scorecard_list(user=user).filter(pk=card_id).first()
    if card is None:
        raise Http404
    return card


# ---------------------------------------------------------------- inquiries (SPEC §8)
def inquiry_list(
    *, user: User, period: str | None = None, status: str | None = None,
    employee_id: str | None = None,
) -> QuerySet[Inquiry]:  # fmt: skip
    inquiries = Inquiry.objects.visible_to(user).select_related(
        "period", "employee", "unit", "raised_by", "answered_by"
    )
    if period:
        inquiries = inquiries.filter(period__code=period)
    if status:
        inquiries = inquiries.filter(status=status)
    if employee_id:
        inquiries = inquiries.filter(employee__employee_id=employee_id)
    return inquiries


def inquiry_get(*, user: User, inquiry_id: int) -> Inquiry:
    inquiry = inquiry_list(user=user).filter(pk=inquiry_id).first()
    if inquiry is None:
        raise Http404
    return inquiry
