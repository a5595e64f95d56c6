"""Reads of schemes: versions and KPIs (everyone signed in reads the rules they are scored by)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from scorecards.models import (
    Kpi,
    SchemeMeasure,
    SchemeVersion,
    SchemeVersionQuerySet,
)
from targets.models import User


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
