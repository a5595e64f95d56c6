"""Target arithmetic (SPEC §3): periods, splitting to the cent, and the target of a period.

`target_for` is the one function the scoring engine calls: the target of an RM or a unit
for a measure and a month, quarter or year, with the monthly distribution and personal
adjustments applied, and the steps that explain how it was reached.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import NamedTuple

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from targets.models import AnnualTarget, DistributionProfile, Employee, OrgUnit, TargetAdjustment
from wealthscore.kernel.catalog import MEASURES
from wealthscore.kernel.periods import Period, parse_period

CENT = Decimal("0.01")


# ---------------------------------------------------------------- splitting
def split_to_cent(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split `total` in proportion to `weights`, to the cent, so that the parts sum to it.

    Largest remainder: every part is first rounded down, then the cents left over go one
    each to the parts that lost most in the rounding (ties: the earlier part).
    """
    total = Decimal(total).quantize(CENT)
    weight_sum = sum(weights, Decimal(0))
    if not weights:
        return []
    if weight_sum <= 0:
        raise ValueError(_("The weights of a split must add up to more than zero."))
    cents = int(total / CENT)
    sign = -1 if cents < 0 else 1
    exact = [Decimal(abs(cents)) * Decimal(w) / weight_sum for w in weights]
    floors = [int(value.to_integral_value(rounding=ROUND_DOWN)) for value in exact]
    left = abs(cents) - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * Decimal(part) * CENT for part in floors]


def monthly_amounts(annual: Decimal, profile: DistributionProfile | None) -> list[Decimal]:
    """The 12 monthly targets of an annual one: they always sum to it exactly."""
    shares = profile.shares if profile is not None else [Decimal(1)] * 12
    return _split_cached(Decimal(annual), tuple(shares))


@functools.lru_cache(maxsize=65536)
def _split_cached(annual: Decimal, shares: tuple[Decimal, ...]) -> list[Decimal]:
    # Scoring asks for the same few annual targets thousands of times a run.
    return split_to_cent(annual, list(shares))


# ---------------------------------------------------------------- the target of a period
@dataclass
class Target:
    amount: Decimal | None
    steps: list[str] = field(default_factory=list)
    months: dict[int, Decimal] = field(default_factory=dict)


def is_flow(measure: str) -> bool:
    return MEASURES.get(measure, ("", ""))[1] == "flow"


def on_probation(employee: Employee, first_day: dt.date) -> bool:
    """Hired less than WEALTHSCORE_PROBATION_MONTHS months before the period's first day."""
    return _probation_ends(employee.hire_date, settings.WEALTHSCORE_PROBATION_MONTHS) > first_day


@functools.lru_cache(maxsize=65536)
def _probation_ends(hired: dt.date, months: int) -> dt.date:
    # Asked for every RM, flow measure and month of a year's scoring: a few hire dates.
    year, month = divmod(hired.month - 1 + months, 12)
    day = min(hired.day, calendar.monthrange(hired.year + year, month + 1)[1])
    return dt.date(hired.year + year, month + 1, day)


def target_for(subject: Employee | OrgUnit, measure: str, period: Period | str) -> Target:
    """The target of `subject` for `measure` in `period`, with how it was reached."""
    return targets_for([subject], measure, period)[_key(subject)]


def _key(subject: Employee | OrgUnit) -> str:
    return subject.employee_id if isinstance(subject, Employee) else subject.code


def targets_for(
    subjects: Sequence[Employee | OrgUnit],
    measure: str,
    period: Period | str,
    *,
    explain: bool = True,
) -> dict[str, Target]:
    """`target_for` of many RMs (or units) at once: three queries, whatever their number.

    `explain=False` leaves out the steps (scoring needs the amounts only, for every RM).
    """
    period = parse_period(period) if isinstance(period, str) else period
    employees = [s for s in subjects if isinstance(s, Employee)]
    units = [s for s in subjects if isinstance(s, OrgUnit)]
    annuals = {
        t.subject_key: t
        for t in AnnualTarget.objects.filter(year=period.year, measure=measure)
        .filter(Q(employee__in=employees) | Q(unit__in=units))
        .select_related("employee", "unit")
    }
    adjustments = {
        a.employee.employee_id: a
        for a in TargetAdjustment.objects.filter(
            employee__in=employees, year=period.year, measure=measure
        ).select_related("employee")
    }
    profiles = {p.name: p for p in DistributionProfile.objects.all()}
    return {
        _key(subject): _target(
            subject,
            measure,
            period,
            annuals.get(_key(subject)),
            adjustments.get(_key(subject)),
            profiles,
            explain,
        )
        for subject in subjects
    }


class _AnnualRow(NamedTuple):
    # The fields of an AnnualTarget that `_target` reads, from a values_list query.
    annual_target: Decimal
    distribution: str


class _AdjustmentRow(NamedTuple):
    # The fields of a TargetAdjustment that `_target` reads, from a values_list query.
    factor: Decimal | None
    override: Decimal | None
    reason: str


def employee_target_amounts(
    employees: list[Employee], measures: list[str], period: Period
) -> dict[tuple[str, str], Decimal]:
    """`target_for`'s amounts for many RMs and measures at once, for scoring: three queries,
    and work only for the targets that exist. Keyed (employee ID, measure); absent = none."""
    targets = employee_targets(employees, measures, period)
    # An annual target exists for each of them, so `_target` always reaches an amount.
    return {key: target.amount for key, target in targets.items() if target.amount is not None}


def employee_targets(
    employees: list[Employee], measures: list[str], period: Period
) -> dict[tuple[str, str], Target]:
    """The same targets with their months (month → amount, the distribution profile and
    probation applied): what the pace and the forecast of a running period read (three
    queries). Keyed (employee ID, measure); absent = none."""
    by_pk = {employee.pk: employee for employee in employees}
    annuals = AnnualTarget.objects.filter(
        year=period.year, measure__in=measures, employee__isnull=False
    ).values_list("employee_id", "measure", "annual_target", "distribution")
    adjustments = {
        (pk, measure): _AdjustmentRow(factor=factor, override=override, reason="")
        for pk, measure, factor, override in TargetAdjustment.objects.filter(
            year=period.year, measure__in=measures
        ).values_list("employee_id", "measure", "factor", "override")
    }
    profiles = {p.name: p for p in DistributionProfile.objects.all()}
    amounts = {}
    for pk, measure, amount, distribution in annuals:
        employee = by_pk.get(pk)
        if employee is None:
            continue
        annual = _AnnualRow(annual_target=amount, distribution=distribution)
        amounts[(employee.employee_id, measure)] = _target(
            employee, measure, period, annual, adjustments.get((pk, measure)), profiles, False
        )
    return amounts


def _target(
    subject: Employee | OrgUnit,
    measure: str,
    period: Period,
    annual: AnnualTarget | _AnnualRow | None,
    adjustment: TargetAdjustment | _AdjustmentRow | None,
    profiles: dict[str, DistributionProfile],
    explain: bool = True,
) -> Target:
    steps: list[str] = []

    def say(text: str) -> None:
        if explain:
            steps.append(text)

    if annual is None:
        if explain:
            say(
                _("No %(year)s target of %(measure)s for %(who)s.")
                % {"year": period.year, "measure": measure, "who": _key(subject)}
            )
        return Target(None, steps)
    amount = annual.annual_target
    if explain:
        say(_("Annual target %(year)s: %(amount)s.") % {"year": period.year, "amount": amount})
    factor = Decimal(1)
    if adjustment is not None and adjustment.override is not None:
        amount = adjustment.override
        if explain:
            say(
                _("Overridden to %(amount)s: %(reason)s")
                % {"amount": amount, "reason": adjustment.reason}
            )
    elif adjustment is not None:
        # A factor or an override, never neither (check constraint adjustment_factor_or_override).
        assert adjustment.factor is not None
        factor = adjustment.factor
        if explain:
            say(
                _("Personal factor %(factor)s: %(reason)s")
                % {"factor": factor.normalize(), "reason": adjustment.reason}
            )
    if not is_flow(measure):
        # A rate or a level (NPS 50, coverage 45 %) is the same in every month: it is not
        # spread over the year, and the probation rule (flow targets only) leaves it alone.
        total = (amount * factor).quantize(CENT)
        if explain:
            say(
                _("A rate, not spread over the months: the target of %(period)s is %(amount)s.")
                % {"period": period.code, "amount": total}
            )
        return Target(total, steps, dict.fromkeys(period.months, total))
    # The even profile is exactly 1/12 a month; its stored shares (8.34 % / 8.33 %) are only
    # what two decimals can show of that.
    name = annual.distribution or DistributionProfile.EVEN
    profile = None if name == DistributionProfile.EVEN else profiles.get(name)
    months = monthly_amounts(amount, profile)
    if explain:
        name = profile.name if profile is not None else DistributionProfile.EVEN
        shares = ", ".join(
            f"{m}月 {profile.shares[m - 1] if profile else Decimal(100) / 12:.2f}%"
            for m in period.months
        )
        say(_("Distribution %(profile)s: %(shares)s.") % {"profile": name, "shares": shares})
    probation = settings.WEALTHSCORE_PROBATION_FACTOR
    result: dict[int, Decimal] = {}
    for month in period.months:
        month_factor = factor
        if isinstance(subject, Employee) and on_probation(subject, dt.date(period.year, month, 1)):
            month_factor *= probation
            if explain:
                say(
                    _(
                        "%(year)s-%(month)02d: probation factor %(factor)s (hired %(hired)s, "
                        "less than %(n)s months before the month began)."
                    )
                    % {
                        "year": period.year,
                        "month": month,
                        "factor": probation.normalize(),
                        "hired": subject.hire_date.isoformat(),
                        "n": settings.WEALTHSCORE_PROBATION_MONTHS,
                    }
                )
        result[month] = (months[month - 1] * month_factor).quantize(CENT)
    total = sum(result.values(), Decimal("0.00"))
    if explain:
        say(_("Target of %(period)s: %(amount)s.") % {"period": period.code, "amount": total})
    return Target(total, steps, result)


# ---------------------------------------------------------------- reconciliation
@dataclass
class Reconciliation:
    measure: str
    own: Decimal | None
    children: Decimal
    variance: Decimal | None  # children − own
    rows: list[tuple[str, str, Decimal | None]]  # (code or employee ID, name, target)


def reconcile(unit: OrgUnit, year: int) -> list[Reconciliation]:
    """For each measure: the unit's target beside the sum of its children's (or RMs')."""
    from targets.org.selectors import target_children

    own = {t.measure: t.annual_target for t in AnnualTarget.objects.filter(year=year, unit=unit)}
    children = target_children(unit)
    child_targets = (
        AnnualTarget.objects.filter(year=year)
        .filter(
            **(
                {"unit__in": children}
                if children and isinstance(children[0], OrgUnit)
                else {"employee__in": children}
            )
        )
        .select_related("unit", "employee")
    )
    by_measure: dict[str, dict[str, Decimal]] = {}
    for target in child_targets:
        key = target.subject_key
        by_measure.setdefault(target.measure, {})[key] = target.annual_target
    report = []
    for measure in sorted(set(own) | set(by_measure)):
        amounts = by_measure.get(measure, {})
        rows = [
            (key, name, amounts.get(key))
            for key, name in (
                (c.code, c.name) if isinstance(c, OrgUnit) else (c.employee_id, c.name)
                for c in children
            )
        ]
        total = sum(amounts.values(), Decimal("0.00"))
        mine = own.get(measure)
        report.append(
            Reconciliation(measure, mine, total, None if mine is None else total - mine, rows)
        )
    return report
