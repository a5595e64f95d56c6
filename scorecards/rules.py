"""A scheme version as the frozen rules a run scores with, and the version in force on a day.

Below schemes (which edit versions) and runs (which score with them): both read rules here."""

from __future__ import annotations

import datetime as dt

from django.db.models import Subquery
from django.utils.translation import gettext as _

from scorecards.engine import (
    HUNDRED,
    MeasureRule,
    Rules,
)
from scorecards.models import (
    SchemeMeasure,
    SchemeVersion,
)
from wealthscore.kernel.errors import DomainError


class ScoringError(DomainError):
    """A scoring rule refused the request."""


# ---------------------------------------------------------------- scheme versions as rules
# A published version never changes (scheme_version_update refuses it): its rules are read
# once a process, not once a branch of every run.
_published_rules: dict[tuple, Rules] = {}


def rules_of(version: SchemeVersion) -> Rules:
    """The version's KPIs and measures, frozen for scoring (two queries, once a process for a
    published version)."""
    key = (version.pk, version.published_at)  # the time too: ids of a deleted version recur
    if version.status == SchemeVersion.Status.PUBLISHED and key in _published_rules:
        return _published_rules[key]
    rules = _read_rules(version)
    if version.status == SchemeVersion.Status.PUBLISHED:
        _published_rules[key] = rules
    return rules


def _read_rules(version: SchemeVersion) -> Rules:
    measures = SchemeMeasure.objects.filter(kpi__version=version).select_related("kpi")
    rules = tuple(
        MeasureRule(
            measure=m.measure,
            kpi=m.kpi.code,
            kpi_name=m.kpi.name,
            dimension=m.kpi.dimension,
            method=m.method,
            window=m.window,
            weight=m.kpi.weight * m.share / HUNDRED,
            zero_at=m.zero_at,
            zero_at_target=m.zero_at_target,
            full_at=m.full_at,
            full_at_target=m.full_at_target,
            cap=m.cap,
            max_points=m.max_points,
            default_target=m.default_target,
            default_target_prorated=m.default_target_prorated,
        )
        for m in measures.order_by("kpi__position", "kpi_id", "position", "id")
    )
    return Rules(
        version_id=version.pk,
        basis=version.attribution_basis,
        rules=rules,
        quarter_share=version.quarter_share,
        review_share=version.review_share,
        hnw_threshold=version.hnw_threshold,
        affluent_threshold=version.affluent_threshold,
        dormant_days=version.dormant_days,
        rating_bands=(version.rating_a, version.rating_b, version.rating_c),
    )


def version_in_force(day: dt.date) -> SchemeVersion:
    version = SchemeVersion.objects.in_force_on(day).select_related("scheme").first()
    if version is None:
        raise ScoringError(_("No published scheme is in force on %(day)s.") % {"day": day})
    return version


def manual_measures_in_force(day: dt.date) -> list[str]:
    """The measures scored by hand (method `manual`) in the scheme version in force on
    `day`, in the scheme's order (one query)."""
    version = SchemeVersion.objects.in_force_on(day).values("pk")[:1]
    return list(
        SchemeMeasure.objects.filter(kpi__version=Subquery(version), method="manual")
        .order_by("kpi__position", "kpi_id", "position", "id")
        .values_list("measure", flat=True)
    )
