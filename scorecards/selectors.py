"""Reads of scoring, always through the user's scope (Scorecard.objects.visible_to)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from targets.models import OrgUnit, User

from scorecards.models import Kpi, Period, SchemeMeasure, SchemeVersion, SchemeVersionQuerySet, Scorecard, ScoreLine


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


def scorecard_get(*, user: User, card_id: int) -> Scorecard:
    card = scorecard_list(user=user).filter(pk=card_id).first()
    if card is None:
        raise Http404
    return card


def scheme_version_list(*, user: User) -> SchemeVersionQuerySet:
    measures = Prefetch("measures", queryset=SchemeMeasure.objects.order_by("position", "id"))
    kpis = Prefetch(
        "kpis", queryset=Kpi.objects.order_by("position", "id").prefetch_related(measures)
    )
    return (
        SchemeVersion.objects.visible_to(user)
        .select_related("scheme", "based_on")
        .prefetch_related(kpis)
        .order_by("scheme__code", "-number")
    )


def scheme_version_get(*, user: User, version_id: int) -> SchemeVersion:
    version = scheme_version_list(user=user).filter(pk=version_id).first()
    if version is None:
        raise Http404
    return version


def kpi_list(*, user: User, version_id: int | None = None) -> QuerySet[Kpi]:
    """The KPIs of a version the user may see; by default the version in force today."""
    versions = SchemeVersion.objects.visible_to(user)
    if version_id is None:
        version = versions.in_force_on(timezone.localdate()).first()
        version_id = version.pk if version else None
    elif not versions.filter(pk=version_id).exists():
        raise Http404
    measures = Prefetch("measures", queryset=SchemeMeasure.objects.order_by("position", "id"))
    return (
        Kpi.objects.filter(version_id=version_id)
        .prefetch_related(measures)
        .order_by("position", "id")
    )


def period_list(*, user: User) -> QuerySet[Period]:
    return Period.objects.visible_to(user).select_related("current_run", "changed_by")


def period_get(*, user: User, code: str) -> Period:
    period = period_list(user=user).filter(code=code).first()
    if period is None:
        raise Http404
    return period
