"""Reads of pay adjustments and talent lists (SPEC §7): HR and admins only.

Both are computed from the current score runs' cards (a query or two for any number of
RMs), never stored: what HR exports is always what the cards say now. Out of scope (an RM,
a manager, compliance) is 404, as for anything a user may not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.http import Http404
from django.utils.translation import gettext as _

from scorecards.models import PayPolicy, Period, PeriodStatus, PeriodUnit, Scorecard
from scorecards.pay.outcomes import Bands, adjusted_pay, band_of, is_failing, talent_placings
from targets.models import BRANCH_DEPTH, OrgUnit, User, branch_code_of
from wealthscore.kernel.access import Action, may
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.periods import parse_period, period_from, previous_code

FLAG_CONSECUTIVE_FAILURE = "consecutive_failure"  # 调岗或待岗培训
FLAG_NO_BASE_PAY = "no_base_pay"
FLAG_NO_TOTAL = "no_total"


def require_pay_scope(user: User) -> None:
    if not may(user, Action.PAY):
        raise Http404


@dataclass
class PayRow:
    employee_id: str
    name: str
    unit_code: str
    unit_name: str
    period: str
    total: Decimal | None
    rating: str
    vetoed: bool
    veto_reasons: list[str]
    band: str
    adjustment_pct: Decimal | None
    base_pay: Decimal | None
    adjusted_pay: Decimal | None
    previous_period: str
    previous_total: Decimal | None
    previous_vetoed: bool | None
    flags: list[str] = field(default_factory=list)


@dataclass
class Report:
    """What an export heads its file with, and its rows."""

    period: str
    status: str  # open | in_review | approved | unscored
    rows: list
    unit: OrgUnit | None = None
    bands: Bands | None = None

    @property
    def provisional(self) -> bool:
        return self.status != PeriodStatus.APPROVED


class NoPayPolicy(DomainError):
    """A configuration row is missing, not a bad request: its own code, so that a client can
    tell it from a mistyped period, and the day, so that /hr/pay/ can explain it."""

    def __init__(self, day) -> None:
        super().__init__(
            _("No pay policy is in force on %(day)s.") % {"day": day}, code="no_pay_policy"
        )
        self.day = day


def bands_in_force(day) -> Bands:
    policy = PayPolicy.objects.filter(effective_from__lte=day).order_by("-effective_from").first()
    if policy is None:
        raise NoPayPolicy(day)
    return Bands(policy.top_from, policy.top_pct, policy.pass_from, policy.pass_pct,
                 policy.fail_pct)  # fmt: skip


def _cards(period: Period | None, unit: OrgUnit | None):
    if period is None or period.current_run_id is None:
        return Scorecard.objects.none()
    cards = Scorecard.objects.filter(run_id=period.current_run_id)
    if unit is not None:
        cards = cards.filter(unit__path__startswith=unit.path)
    return cards


def _status(period: Period | None, unit: OrgUnit | None = None) -> str:
    """The period's status for an export of `unit`'s subtree: approved once every branch
    the export covers is (SPEC §5, per unit), though another branch may still be open."""
    if period is None or period.current_run_id is None:
        return "unscored"
    if period.status == PeriodStatus.APPROVED or unit is None or unit.depth < BRANCH_DEPTH:
        return period.status
    branch = branch_code_of(unit.path)
    state = (
        PeriodUnit.objects.filter(period=period, unit__code=branch)
        .values_list("status", flat=True)
        .first()
    )
    return state or PeriodStatus.OPEN


def pay_report(*, period_code: str, unit: OrgUnit | None = None) -> Report:
    """Every RM with a card in the quarter (in the unit's subtree, when given), by unit
    and employee ID. Unscoped: callers check the user first (pay_adjustment_list)."""
    parsed = period_from(period_code)
    if not 1900 < parsed.year < 3000:
        raise DomainError(_("No such period: %(p)s.") % {"p": period_code}, field="period")
    if parsed.kind != "quarter":
        raise DomainError(
            _("Pay is adjusted by quarter: ask for a period like 2026-Q3."), field="period"
        )
    before_code = previous_code(parsed.code)
    periods = {p.code: p for p in Period.objects.filter(code__in=[parsed.code, before_code])}
    period, previous = periods.get(parsed.code), periods.get(before_code)
    bands = bands_in_force(parsed.last_day)
    previous_bands = bands_in_force(parse_period(before_code).last_day)
    before = {
        employee_id: (total, vetoed)
        for employee_id, total, vetoed in _cards(previous, None).values_list(
            "employee__employee_id", "total", "vetoed"
        )
    }
    rows = []
    columns = ("employee__employee_id", "employee__name", "employee__base_performance_pay",
               "unit__code", "unit__name", "total", "rating", "vetoed", "veto_reasons")  # fmt: skip
    cards = _cards(period, unit).order_by("unit__path", "employee__employee_id")
    for (
        employee_id,
        name,
        base,
        unit_code,
        unit_name,
        total,
        rating,
        vetoed,
        reasons,
    ) in cards.values_list(*columns):
        band, pct = band_of(total, vetoed, bands)
        previous_total, previous_vetoed = before.get(employee_id, (None, None))
        flags = []
        if (
            previous_vetoed is not None
            and is_failing(total, vetoed, bands)
            and is_failing(previous_total, previous_vetoed, previous_bands)
        ):
            flags.append(FLAG_CONSECUTIVE_FAILURE)
        if base is None:
            flags.append(FLAG_NO_BASE_PAY)
        if pct is None:
            flags.append(FLAG_NO_TOTAL)
        rows.append(
            PayRow(
                employee_id=employee_id,
                name=name,
                unit_code=unit_code,
                unit_name=unit_name,
                period=parsed.code,
                total=total,
                rating=rating,
                vetoed=vetoed,
                veto_reasons=list(reasons),
                band=band,
                adjustment_pct=pct,
                base_pay=base,
                adjusted_pay=adjusted_pay(base, pct),
                previous_period=before_code,
                previous_total=previous_total,
                previous_vetoed=previous_vetoed,
                flags=flags,
            )  # fmt: skip
        )
    return Report(parsed.code, _status(period, unit), rows, unit, bands)


def pay_adjustment_list(*, user: User, period_code: str, unit: OrgUnit | None = None) -> Report:
    require_pay_scope(user)
    return pay_report(period_code=period_code, unit=unit)


@dataclass
class TalentRow:
    rank: int
    employee_id: str
    name: str
    unit_code: str
    unit_name: str
    total: Decimal | None
    rating: str
    vetoed: bool
    veto_reasons: list[str]
    list: str  # promotion | improvement | ""


def talent_report(*, year: int, unit: OrgUnit | None = None) -> Report:
    """The year's ranking over the RMs with a year card (bank-wide, or within the unit's
    subtree when given) and who is on which list."""
    period = Period.objects.filter(code=str(year)).first()
    columns = ("employee__employee_id", "employee__name", "unit__code", "unit__name", "total",
               "rating", "vetoed", "veto_reasons")  # fmt: skip
    cards = {row[0]: row for row in _cards(period, unit).values_list(*columns)}
    placings = talent_placings([(key, row[4], row[6]) for key, row in cards.items()])
    rows = []
    for key, placing in sorted(placings.items(), key=lambda item: (item[1].rank, item[0])):
        employee_id, name, unit_code, unit_name, total, rating, vetoed, reasons = cards[key]
        rows.append(
            TalentRow(
                rank=placing.rank,
                employee_id=employee_id,
                name=name,
                unit_code=unit_code,
                unit_name=unit_name,
                total=total,
                rating=rating,
                vetoed=vetoed,
                veto_reasons=list(reasons),
                list="promotion"
                if placing.promotion
                else "improvement"
                if placing.improvement
                else "",
            )  # fmt: skip
        )
    return Report(str(year), _status(period, unit), rows, unit)


def talent_list(*, user: User, year: int, unit: OrgUnit | None = None) -> Report:
    require_pay_scope(user)
    return talent_report(year=year, unit=unit)
