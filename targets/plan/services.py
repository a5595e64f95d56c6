"""Writes of the target plan (SPEC §3): annual targets, decomposition, adjustments, profiles.

Every write checks who may make it, runs in one transaction and leaves an audit row with the
actor, the values before and after, and the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Max, Sum
from django.http import Http404
from django.utils.translation import gettext as _

from crm.models import Activity, ClientSnapshot, Sale
from targets.models import (
    SHARE_FIELDS,
    AnnualTarget,
    DistributionProfile,
    Employee,
    OrgUnit,
    TargetAdjustment,
    UnitMembership,
    User,
    scope_of,
)
from targets.org.selectors import target_children
from targets.plan.amounts import CENT, split_to_cent
from wealthscore.kernel.access import Action, Role, allows
from wealthscore.kernel.audit import audit_record
from wealthscore.kernel.catalog import MEASURE_CODES, is_strategic_q
from wealthscore.kernel.errors import DomainError, ForbiddenError

METHODS = ("equal", "aum", "prior_year", "manual")


# ---------------------------------------------------------------- who may set what
def _may_set(actor: User, subject: OrgUnit | Employee) -> None:
    """Admins set any target; a manager those inside his subtree but never his own unit's
    (that one is set from above). Out of scope is 404, in scope but not allowed 403."""
    scope = scope_of(actor)
    if scope.role == Role.ADMIN:
        return
    if scope.role != Role.MANAGER or scope.unit is None:
        raise ForbiddenError(_("Your role may not set targets."))
    if isinstance(subject, OrgUnit):
        if not subject.is_within(scope.unit):
            raise Http404
        if subject.pk == scope.unit.pk:
            raise ForbiddenError(_("Your own unit's target is set by the level above you."))
        return
    if not Employee.objects.in_subtree(scope.unit).filter(pk=subject.pk).exists():
        raise Http404


def _snapshot(target: AnnualTarget | None) -> dict | None:
    if target is None:
        return None
    return {
        "year": target.year,
        "measure": target.measure,
        "annual_target": str(target.annual_target),
        "distribution": target.distribution,
    }


def _check_measure(measure: str) -> None:
    if measure not in MEASURE_CODES:
        raise DomainError(_("Unknown measure %(code)s.") % {"code": measure}, field="measure")


def _subject_id(subject: OrgUnit | Employee) -> str:
    return subject.code if isinstance(subject, OrgUnit) else subject.employee_id


def _scope_filter(subject: OrgUnit | Employee) -> dict:
    return {"unit": subject} if isinstance(subject, OrgUnit) else {"employee": subject}


# ---------------------------------------------------------------- annual targets
@transaction.atomic
def annual_target_set(
    *,
    actor: User,
    subject: OrgUnit | Employee,
    year: int,
    measure: str,
    amount: Decimal,
    distribution: str = "",
    reason: str = "",
) -> AnnualTarget:
    _may_set(actor, subject)
    _check_measure(measure)
    if amount is None or amount < 0:
        raise DomainError(_("A target cannot be negative."), field="annual_target")
    if distribution and not DistributionProfile.objects.filter(name=distribution).exists():
        raise DomainError(
            _("Unknown distribution profile %(name)s.") % {"name": distribution},
            field="distribution",
        )
    existing = (
        AnnualTarget.objects.select_for_update()
        .filter(year=year, measure=measure, **_scope_filter(subject))
        .first()
    )
    before = _snapshot(existing)
    target = existing or AnnualTarget(year=year, measure=measure, **_scope_filter(subject))
    target.annual_target = Decimal(amount).quantize(CENT)
    target.distribution = distribution
    target.save()
    audit_record(
        actor=actor,
        action="target.set",
        object_type="annual_target",
        object_id=f"{year}/{_subject_id(subject)}/{measure}",
        before=before,
        after=_snapshot(target),
        reason=reason,
    )
    return target


# ---------------------------------------------------------------- decomposition
def _rm_units(rms: list[Employee], children: list[OrgUnit], day: dt.date) -> dict[int, int]:
    """employee pk -> the child unit (pk) whose subtree holds his membership on `day`."""
    memberships = (
        UnitMembership.objects.on(day)
        .filter(employee__in=rms)
        .values_list("employee_id", "unit__path")
    )
    owner = {}
    for employee, path in memberships:
        for child in children:
            if path.startswith(child.path):
                owner[employee] = child.pk
    return owner


def _bases(unit: OrgUnit, children: list, year: int, measure: str, method: str) -> list[Decimal]:
    """Each child's base for a pro-rata split, from a few set-based queries."""
    rms = (
        list(Employee.objects.filter(position=Role.RM).in_subtree(unit))
        if isinstance(children[0], OrgUnit)
        else children
    )
    by_rm: dict[str, Decimal] = {}
    if method == "aum":
        # Managed AUM at year start: the last month-end snapshot of the year before.
        start = dt.date(year - 1, 12, 31)
        last = ClientSnapshot.objects.filter(as_of_date__lte=start).aggregate(d=Max("as_of_date"))
        if last["d"] is not None:
            rows = (
                ClientSnapshot.objects.filter(as_of_date=last["d"], rm__in=rms)
                .values_list("rm")
                .annotate(total=Sum("total_balance"))
            )
            by_rm = {rm: total for rm, total in rows}
    else:
        # Prior-year actual, credited to the RM on each transaction / activity.
        window = {"gte": dt.date(year - 1, 1, 1), "lte": dt.date(year - 1, 12, 31)}
        ids = [rm.employee_id for rm in rms]
        if measure in {"sales_attainment", "strategic_sales", "fee_income"}:
            sales = Sale.objects.filter(txn_date__range=(window["gte"], window["lte"]), rm__in=ids)
            if measure == "strategic_sales":
                # The score's definition (catalog), not "any tag": the base and the measure
                # it is a target of must count the same sales.
                sales = sales.filter(is_strategic_q())
            field = "fee_income" if measure == "fee_income" else "amount"
            by_rm = dict(sales.values_list("rm").annotate(total=Sum(field)))
        elif measure == "education_events":
            by_rm = dict(
                Activity.objects.filter(
                    activity_date__range=(window["gte"], window["lte"]),
                    activity_type="education_event",
                    rm__in=ids,
                )
                .values_list("rm")
                .annotate(total=Count("*"))
            )
        else:
            raise DomainError(
                _("%(measure)s has no prior-year actual to split by; use equal, aum or manual.")
                % {"measure": measure},
                field="method",
            )
    if isinstance(children[0], Employee):
        return [Decimal(by_rm.get(rm.employee_id) or 0) for rm in children]
    owner = _rm_units(rms, children, dt.date(year, 1, 1))
    totals = {child.pk: Decimal(0) for child in children}
    for rm in rms:
        if rm.pk in owner:
            totals[owner[rm.pk]] += Decimal(by_rm.get(rm.employee_id) or 0)
    return [totals[child.pk] for child in children]


@transaction.atomic
def targets_decompose(
    *,
    actor: User,
    unit: OrgUnit,
    year: int,
    measure: str,
    method: str,
    manual: dict[str, Decimal] | None = None,
    reason: str = "",
) -> list[AnnualTarget]:
    """Split the unit's annual target over its child units (or its RMs), to the cent."""
    scope = scope_of(actor)
    if not allows(scope.role, Action.SPLIT_TARGETS):
        raise ForbiddenError(_("Your role may not set targets."))
    if scope.role == Role.MANAGER and (scope.unit is None or not unit.is_within(scope.unit)):
        raise Http404
    if method not in METHODS:
        raise DomainError(
            _("Method must be one of: %(m)s.") % {"m": ", ".join(METHODS)}, field="method"
        )
    parent = AnnualTarget.objects.filter(year=year, measure=measure, unit=unit).first()
    if parent is None:
        raise DomainError(
            _("%(unit)s has no %(year)s target of %(measure)s to decompose.")
            % {"unit": unit.code, "year": year, "measure": measure}
        )
    children = target_children(unit)
    if not children:
        raise DomainError(_("%(unit)s has no child units or RMs.") % {"unit": unit.code})
    keys = [_subject_id(child) for child in children]
    if method == "manual":
        try:
            parts = [Decimal(str((manual or {})[key])).quantize(CENT) for key in keys]
        except KeyError as missing:
            raise DomainError(
                _("No amount given for %(key)s.") % {"key": missing.args[0]}, field="manual"
            ) from missing
        except InvalidOperation as exc:
            raise DomainError(_("Amounts must be numbers."), field="manual") from exc
        if sum(parts) != parent.annual_target:
            raise DomainError(
                _(
                    "The amounts total %(sum)s but the target of %(unit)s is %(target)s "
                    "(difference %(diff)s)."
                )
                % {
                    "sum": sum(parts),
                    "unit": unit.code,
                    "target": parent.annual_target,
                    "diff": sum(parts) - parent.annual_target,
                },
                field="manual",
            )
    else:
        weights = (
            [Decimal(1)] * len(children)
            if method == "equal"
            else _bases(unit, children, year, measure, method)
        )
        if sum(weights) <= 0:
            raise DomainError(
                _("Every base is zero: nothing to split in proportion to."), field="method"
            )
        parts = split_to_cent(parent.annual_target, weights)
    subjects: Sequence[OrgUnit | Employee] = children  # units or RMs, never both
    return [
        annual_target_set(
            actor=actor,
            subject=child,
            year=year,
            measure=measure,
            amount=part,
            distribution=parent.distribution,
            reason=reason
            or _("Decomposed from %(unit)s (%(method)s).") % {"unit": unit.code, "method": method},
        )
        for child, part in zip(subjects, parts, strict=True)
    ]


# ---------------------------------------------------------------- adjustments and profiles
@transaction.atomic
def target_adjustment_set(
    *,
    actor: User,
    employee: Employee,
    year: int,
    measure: str,
    reason: str,
    factor: Decimal | None = None,
    override: Decimal | None = None,
) -> TargetAdjustment:
    _may_set(actor, employee)
    _check_measure(measure)
    if (factor is None) == (override is None):
        raise DomainError(_("Give either a factor or an override, not both."), field="factor")
    if not reason.strip():
        raise DomainError(_("Say why the target is adjusted."), field="reason")
    existing = TargetAdjustment.objects.filter(employee=employee, year=year, measure=measure)
    before = existing.values("factor", "override", "reason").first()
    existing.delete()
    adjustment = TargetAdjustment.objects.create(
        employee=employee,
        year=year,
        measure=measure,
        factor=factor,
        override=override,
        reason=reason,
        created_by=actor if actor.is_authenticated else None,
    )
    audit_record(
        actor=actor,
        action="target.adjust",
        object_type="target_adjustment",
        object_id=f"{year}/{employee.employee_id}/{measure}",
        before={k: str(v) for k, v in before.items()} if before else None,
        after={"factor": str(factor), "override": str(override)},
        reason=reason,
    )
    return adjustment


@transaction.atomic
def distribution_profile_save(*, actor: User, name: str, shares: list) -> DistributionProfile:
    """Twelve monthly shares in %, two decimals, totalling exactly 100.00 (admins only)."""
    if scope_of(actor).role != Role.ADMIN:
        raise ForbiddenError(_("Only an administrator may edit distribution profiles."))
    if len(shares) != 12:
        raise DomainError(
            _("A profile needs a share for each of the 12 months; %(n)s given.")
            % {"n": len(shares)},
            field="shares",
        )
    try:
        values = [Decimal(str(share)) for share in shares]
    except InvalidOperation as exc:
        raise DomainError(_("Shares must be numbers."), field="shares") from exc
    for month, value in enumerate(values, start=1):
        if value < 0 or value != value.quantize(CENT):
            raise DomainError(
                _("The share of month %(m)s (%(v)s) must be ≥ 0 with at most 2 decimals.")
                % {"m": month, "v": value},
                field="shares",
            )
    total = sum(values)
    if total != 100:
        raise DomainError(
            _("The shares total %(total)s%%; they must total exactly 100.00%%.")
            % {"total": f"{total:.2f}"},
            field="shares",
        )
    profile = DistributionProfile.objects.filter(name=name).first()
    before = [str(s) for s in profile.shares] if profile else None
    months = {field: int(value * 100) for field, value in zip(SHARE_FIELDS, values, strict=True)}
    profile, _created = DistributionProfile.objects.update_or_create(name=name, defaults=months)
    audit_record(
        actor=actor,
        action="profile.save",
        object_type="distribution_profile",
        object_id=name,
        before={"shares": before} if before else None,
        after={"shares": [str(v) for v in values]},
    )
    return profile
