"""Reads of compliance, always through Incident.objects.visible_to (SPEC §1, §6)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.models import OrgUnit, User, scope_of
from wealthscore.kernel.access import MAY, Action, Role, allows, may
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.periods import parse_period

from .models import (
    Incident,
    IncidentDecision,
    IncidentStatus,
    IncidentType,
    SaleCheck,
    incident_type_name,
)

# Age of an open case since its event's date: (label, fewest days, most days).
AGE_BUCKETS = [("0-1", 0, 1), ("2-7", 2, 7), ("8-30", 8, 30), ("31+", 31, None)]


def incident_list(
    *,
    user: User,
    status: str | None = None,
    type_code: str | None = None,
    employee_id: str | None = None,
    unit: OrgUnit | None = None,
    source: str | None = None,
) -> QuerySet[Incident]:
    incidents = Incident.objects.visible_to(user)
    if status:
        incidents = incidents.filter(status=status)
    if type_code:
        incidents = incidents.filter(type_id=type_code)
    if employee_id:
        incidents = incidents.filter(employee__employee_id=employee_id)
    if unit is not None:
        incidents = incidents.filter(unit__path__startswith=unit.path)
    if source:
        incidents = incidents.filter(source=source)
    decisions = IncidentDecision.objects.select_related("actor").order_by("at", "id")
    return incidents.select_related(
        "type", "employee", "unit", "created_by", "decided_by", "assignee"
    ).prefetch_related(Prefetch("decisions", queryset=decisions))


def decider_usernames() -> list[str]:
    """The active users who decide incidents (compliance officers and admins): whom a case
    may be assigned to. Roles set in the app or a superuser's (never from a staff file)."""
    users = User.objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(role__in=sorted(MAY[Action.DECIDE_INCIDENTS]))
    )
    return list(users.order_by("username").values_list("username", flat=True))


def incident_get(*, user: User, incident_id: int) -> Incident:
    incident = incident_list(user=user).filter(pk=incident_id).first()
    if incident is None:
        raise Http404
    return incident


def _vetoing(*, first_day: dt.date, last_day: dt.date, employee_ids: Iterable[str]):
    """The rule (SPEC §6): the RMs' confirmed vetoing cases dated from first_day to last_day.
    The run that scores a card and the card that shows why it was vetoed both ask it."""
    return Incident.objects.filter(
        status=IncidentStatus.CONFIRMED,
        veto=True,
        occurred_on__range=(first_day, last_day),
        employee__employee_id__in=list(employee_ids),
    )


def veto_reasons(
    *, first_day: dt.date, last_day: dt.date, employee_ids: Iterable[str]
) -> dict[str, list[str]]:
    """The confirmed vetoing cases of each RM dated in the period, as the card shows them:
    "误导销售 2026-08-14 (#12)". One query for any number of RMs."""
    reasons: dict[str, list[str]] = {}
    rows = (
        _vetoing(first_day=first_day, last_day=last_day, employee_ids=employee_ids)
        .order_by("occurred_on", "id")
        .values_list("employee__employee_id", "type__name", "occurred_on", "id")
    )
    for employee_id, type_name, day, incident_id in rows:
        reasons.setdefault(employee_id, []).append(f"{type_name} {day:%Y-%m-%d} (#{incident_id})")
    return reasons


@dataclass(frozen=True)
class VetoCase:
    """A confirmed case that vetoes a card, as the card and its API show it (issue 18 item 4).

    Its description, who confirmed it and why are shown to whoever may see the case itself
    (Incident.objects.visible_to: the RM her own, a manager his units', compliance and
    admins all); to anyone else (HR: no client-level data) they are None. `url` opens the
    case on the compliance page, for those who may open that page and see the case."""

    incident_id: int
    type: str
    type_name: str
    occurred_on: dt.date
    description: str | None
    confirmed_by: str | None
    confirmed_at: dt.datetime | None
    reason: str | None
    url: str | None


def card_vetoes(
    *, user: User, cards: Iterable[tuple[int, str, dt.date, dt.date]]
) -> dict[int, list[VetoCase]]:
    """The vetoing cases of each card, keyed by the card's id; `cards` holds (card id, RM's
    employee ID, period's first day, last day). One query for any number of cards: the
    cases of their RMs over the span of their periods, shared out here by RM and dates."""
    cards = list(cards)
    if not cards:
        return {}
    opens_page = may(user, Action.COMPLIANCE_PAGES)
    rows = (
        _vetoing(
            first_day=min(first for _id, _rm, first, _last in cards),
            last_day=max(last for _id, _rm, _first, last in cards),
            employee_ids={rm for _id, rm, _first, _last in cards},
        )
        .annotate(
            visible=Exists(Incident.objects.visible_to(user).filter(pk=OuterRef("pk"))),
            rm=F("employee__employee_id"),
        )
        .select_related("type", "decided_by__employee")
        .order_by("occurred_on", "id")
    )
    by_rm: dict[str, list[VetoCase]] = {}
    for incident in rows:
        case = _veto_case(incident, shown=bool(incident.visible), opens_page=opens_page)
        by_rm.setdefault(incident.rm, []).append(case)
    return {
        card_id: [case for case in by_rm.get(rm, []) if first <= case.occurred_on <= last]
        for card_id, rm, first, last in cards
    }


def _veto_case(incident: Incident, *, shown: bool, opens_page: bool) -> VetoCase:
    decider = incident.decided_by
    who = None
    if shown and decider is not None:
        employee = getattr(decider, "employee", None)
        who = employee.name if employee is not None else decider.username
    kind = incident.type
    return VetoCase(
        incident_id=incident.pk,
        type=incident.type_id,
        type_name=incident_type_name(kind.code, kind.name, kind.name_en),
        occurred_on=incident.occurred_on,
        description=incident.description if shown else None,
        confirmed_by=who,
        confirmed_at=incident.decided_at if shown else None,
        reason=incident.decision_reason if shown else None,
        url=case_url(incident.pk) if shown and opens_page else None,
    )


def case_url(incident_id: int) -> str:
    """The case on the compliance page: the list filtered to it, scrolled to its row."""
    return f"{reverse('compliance')}?incident={incident_id}#incident-{incident_id}"


def veto_decisions_since(*, first_day: dt.date, last_day: dt.date, since: dt.datetime) -> list[int]:
    """Incidents dated in the period whose veto was made or unmade after `since` (a run's
    start): the run does not reflect them."""
    return list(
        IncidentDecision.objects.filter(
            Q(veto=True) | Q(previous_veto=True),
            incident__occurred_on__range=(first_day, last_day),
            at__gte=since,
        )
        .order_by("incident_id")
        .values_list("incident_id", flat=True)
        .distinct()
    )


def _month_bounds(month: str) -> tuple[dt.date, dt.date]:
    try:
        period = parse_period(month)
    except ValueError:
        period = None
    if period is None or period.kind != "month":
        raise DomainError(_("A month is written 2026-10."), field="month")
    return period.first_day, period.last_day


def _rate(suitable: int, checked: int) -> Decimal | None:
    if not checked:
        return None
    return (Decimal(100) * suitable / checked).quantize(Decimal("0.01"))


def suitability_by_unit(*, user: User, month: str | None = None) -> dict:
    """Each unit's suitability match rate (sales no riskier than the client's level, among
    sales whose client's level was known) in the month and the month before."""
    scope = scope_of(user)
    checks = SaleCheck.objects.all()
    if scope.role == Role.MANAGER:
        # The caller, warning_board, has already refused (404) a manager without a unit.
        assert scope.unit is not None
        codes = OrgUnit.objects.filter(path__startswith=scope.unit.path).values("code")
        checks = checks.filter(unit_code__in=codes)
    if month is None:
        latest = checks.aggregate(day=Max("txn_date"))["day"]
        if latest is None:
            return {"month": None, "previous_month": None, "units": [], "fell": []}
        month = f"{latest:%Y-%m}"
    first, last = _month_bounds(month)
    previous_last = first - dt.timedelta(days=1)
    previous_first = previous_last.replace(day=1)
    known = Q(suitable__isnull=False)
    this, before = Q(txn_date__gte=first), Q(txn_date__lte=previous_last)
    rows = (
        checks.filter(txn_date__range=(previous_first, last))
        .values("unit_code")
        .annotate(
            n_checked=Count("id", filter=known & this),
            n_suitable=Count("id", filter=Q(suitable=True) & this),
            n_previous_checked=Count("id", filter=known & before),
            n_previous_suitable=Count("id", filter=Q(suitable=True) & before),
        )
        .order_by("unit_code")
    )
    names = dict(OrgUnit.objects.values_list("code", "name"))
    units = []
    for row in rows:
        rate = _rate(row["n_suitable"], row["n_checked"])
        previous = _rate(row["n_previous_suitable"], row["n_previous_checked"])
        units.append(
            {
                "unit_code": row["unit_code"],
                "unit_name": names.get(row["unit_code"], ""),
                "checked": row["n_checked"],
                "rate": rate,
                "previous_checked": row["n_previous_checked"],
                "previous_rate": previous,
                "fell": rate is not None and previous is not None and rate < previous,
            }
        )
    return {
        "month": month,
        "previous_month": f"{previous_first:%Y-%m}",
        "units": units,
        "fell": [unit for unit in units if unit["fell"]],
    }


def _overdue() -> Q:
    """Open cases raised more than their type's SLA days ago (Incident.overdue, in SQL:
    one condition a type, of which there are a handful)."""
    today = timezone.localdate()
    condition = Q(pk__in=[])
    for code, days in IncidentType.objects.values_list("code", "sla_days"):
        due_after = dt.datetime.combine(today - dt.timedelta(days=days), dt.time.min)
        condition |= Q(type_id=code, created_at__lt=timezone.make_aware(due_after))
    return condition & Q(status=IncidentStatus.OPEN)


def warning_board(*, user: User, month: str | None = None, top: int = 50) -> dict:
    """The open cases the user may see by age, type, unit and RM, and the units whose
    suitability match rate fell against the previous month (SPEC §6)."""
    scope = scope_of(user)
    # Outside compliance, admins and managers the board does not exist (SPEC: 404, never 403).
    if not allows(scope.role, Action.COMPLIANCE_PAGES) or (
        scope.role == Role.MANAGER and scope.unit is None
    ):
        raise Http404
    open_cases = Incident.objects.visible_to(user).filter(status=IncidentStatus.OPEN)
    today = timezone.localdate()
    ages = {}
    for label, fewest, most in AGE_BUCKETS:
        # Counted from the event (its date), not from when an import raised it: a case
        # of 3 January raised by March's import is two months old (issue 17).
        condition = Q(occurred_on__lte=today - dt.timedelta(days=fewest))
        if most is not None:
            condition &= Q(occurred_on__gte=today - dt.timedelta(days=most))
        ages[label] = Count("id", filter=condition)
    totals = open_cases.aggregate(
        total=Count("id"), oldest=Min("occurred_on"), overdue=Count("id", filter=_overdue()),
        **ages,
    )  # fmt: skip
    by_type = list(
        open_cases.values("type_id", "type__name", "type__name_en", "type__is_veto")
        .annotate(count=Count("id"), oldest=Min("occurred_on"))
        .order_by("-count", "type_id")
    )
    by_unit = list(
        open_cases.values("unit__code", "unit__name")
        .annotate(count=Count("id"), oldest=Min("occurred_on"))
        .order_by("-count", "unit__code")
    )
    by_rm = list(
        open_cases.values("employee__employee_id", "employee__name", "unit__code")
        .annotate(count=Count("id"), oldest=Min("occurred_on"))
        .order_by("-count", "employee__employee_id")[:top]
    )
    return {
        "open": totals["total"],
        "overdue": totals["overdue"],
        "oldest": totals["oldest"],
        "by_age": [{"age_days": label, "count": totals[label]} for label, *_ in AGE_BUCKETS],
        "by_type": [
            {
                "type": row["type_id"],
                "name": row["type__name"],
                "name_en": row["type__name_en"],
                "veto": row["type__is_veto"],
                "count": row["count"],
                "oldest": row["oldest"],
            }
            for row in by_type
        ],  # fmt: skip
        "by_unit": [
            {
                "unit_code": row["unit__code"],
                "unit_name": row["unit__name"],
                "count": row["count"],
                "oldest": row["oldest"],
            }
            for row in by_unit
        ],  # fmt: skip
        "by_rm": [
            {
                "employee_id": row["employee__employee_id"],
                "name": row["employee__name"],
                "unit_code": row["unit__code"],
                "count": row["count"],
                "oldest": row["oldest"],
            }
            for row in by_rm
        ],  # fmt: skip
        "suitability": suitability_by_unit(user=user, month=month),
    }
