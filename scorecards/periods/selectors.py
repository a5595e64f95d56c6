"""Reads of periods."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from scorecards.models import (
    Period,
)
from targets.models import User


def period_list(*, user: User) -> QuerySet[Period]:
    return Period.objects.visible_to(user).select_related("current_run", "changed_by")


def period_get(*, user: User, code: str) -> Period:
    period = period_list(user=user).filter(code=code).first()
    if period is None:
        raise Http404
    return period
