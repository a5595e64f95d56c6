"""Writes of scheme versions (SPEC §5): drafts, edits, the checks before publishing, publishing,
the default scheme, and the what-if preview (which scores a draft with the run's own steps)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from scorecards.engine import (
    HUNDRED,
    weights_problem,
    weights_total,
)
from scorecards.models import (
    Kpi,
    Period,
    SchemeMeasure,
    SchemeVersion,
    Scorecard,
)
from scorecards.rules import ScoringError, rules_of
from scorecards.runs.services import score_inputs, score_one
from targets.models import Employee, User, scope_of
from wealthscore.kernel.access import Role
from wealthscore.kernel.audit import audit_record
from wealthscore.kernel.errors import ConflictError, ForbiddenError
from wealthscore.kernel.periods import period_from

DEFAULT_SCHEME = Path(settings.BASE_DIR) / "fixtures" / "default_scheme.json"


# ---------------------------------------------------------------- the default scheme
def install_default_scheme(apps=None) -> None:
    """Create the default scheme of SPEC §5 from fixtures/default_scheme.json, unless a
    scheme exists. Called by migration 0003 (with its historical models) and by
    wealthscore.defaults.install_defaults() after a flush."""
    from scorecards import models as current

    def model(name: str):
        return apps.get_model("scorecards", name) if apps else getattr(current, name)

    classes = {
        "scorecards.scheme": model("Scheme"),
        "scorecards.schemeversion": model("SchemeVersion"),
        "scorecards.kpi": model("Kpi"),
        "scorecards.schememeasure": model("SchemeMeasure"),
    }
    if classes["scorecards.scheme"].objects.exists():
        return
    # The fixture's keys only link its rows: the database numbers them, so that its
    # sequences stay right.
    created: dict[tuple[str, int], object] = {}
    parents = {"scheme": "scorecards.scheme", "version": "scorecards.schemeversion",
               "kpi": "scorecards.kpi"}  # fmt: skip
    for row in json.loads(DEFAULT_SCHEME.read_text(encoding="utf-8")):
        fields = {
            name: created[(parents[name], value)] if name in parents else value
            for name, value in row["fields"].items()
        }
        created[(row["model"], row["pk"])] = classes[row["model"]].objects.create(**fields)


# ---------------------------------------------------------------- scheme versions: edit
SETTINGS_FIELDS = (
    "effective_from", "note", "attribution_basis", "quarter_share", "review_share",
    "hnw_threshold", "affluent_threshold", "dormant_days", "rating_a", "rating_b", "rating_c",
    "inquiry_days",
)  # fmt: skip
MEASURE_FIELDS = (
    "measure", "share", "method", "window", "zero_at", "zero_at_target", "full_at",
    "full_at_target", "cap", "max_points", "default_target", "default_target_prorated",
)  # fmt: skip


def require_admin(actor: User) -> None:
    if scope_of(actor).role != Role.ADMIN:
        raise ForbiddenError(_("Only an administrator may change a scheme."))


def version_snapshot(version: SchemeVersion) -> dict:
    """The version as data: its settings and its KPIs with their measures (for audit, diffs
    and copies)."""
    data = {name: getattr(version, name) for name in SETTINGS_FIELDS}
    data["effective_from"] = version.effective_from.isoformat()
    data = {k: str(v) if isinstance(v, Decimal) else v for k, v in data.items()}
    kpis = []
    for kpi in version.kpis.order_by("position", "id").prefetch_related("measures"):
        kpis.append(
            {
                "code": kpi.code,
                "name": kpi.name,
                "dimension": kpi.dimension,
                "weight": str(kpi.weight),
                "measures": [
                    {
                        name: str(v) if isinstance(v := getattr(m, name), Decimal) else v
                        for name in MEASURE_FIELDS
                    }
                    for m in kpi.measures.order_by("position", "id")
                ],
            }
        )
    data["kpis"] = kpis
    return data


def _write_kpis(version: SchemeVersion, kpis: list[dict]) -> None:
    version.kpis.all().delete()
    for position, item in enumerate(kpis, start=1):
        kpi = Kpi.objects.create(
            version=version,
            code=item["code"],
            name=item.get("name") or item["code"],
            dimension=item["dimension"],
            weight=Decimal(str(item["weight"])),
            position=position,
        )
        SchemeMeasure.objects.bulk_create(
            [
                SchemeMeasure(kpi=kpi, position=index, **_measure_fields(m))
                for index, m in enumerate(item.get("measures", []), start=1)
            ]
        )


TEXT_FIELDS = {"measure", "method", "window", "default_target_prorated"}


def _measure_fields(data: dict) -> dict:
    return {
        name: data[name] if name in TEXT_FIELDS or data[name] is None else Decimal(str(data[name]))
        for name in MEASURE_FIELDS
        if name in data
    }


@transaction.atomic
def scheme_draft_create(
    *, base: SchemeVersion, actor: User, effective_from: dt.date | None = None, note: str = ""
) -> SchemeVersion:
    """A new draft: a copy of `base`, numbered after the scheme's last version."""
    require_admin(actor)
    number = (base.scheme.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    data = version_snapshot(base)
    settings_data = {name: data[name] for name in SETTINGS_FIELDS}
    settings_data["effective_from"] = effective_from or base.effective_from
    settings_data["note"] = note
    draft = SchemeVersion.objects.create(
        scheme=base.scheme, number=number, based_on=base, created_by=actor, **settings_data
    )
    _write_kpis(draft, data["kpis"])
    audit_record(
        actor=actor, action="scheme.draft", object_type="scheme_version", object_id=draft.code,
        before=None, after=version_snapshot(draft),
    )  # fmt: skip
    return draft


@transaction.atomic
def scheme_version_update(*, version: SchemeVersion, actor: User, data: dict) -> SchemeVersion:
    """Change a draft's settings and/or replace its KPIs. A published version is frozen."""
    require_admin(actor)
    version = SchemeVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != SchemeVersion.Status.DRAFT:
        raise ConflictError(
            _("Version %(v)s is published and frozen: start a new draft from it.")
            % {"v": version.number}
        )
    before = version_snapshot(version)
    for name in SETTINGS_FIELDS:
        if name in data:
            setattr(version, name, data[name])
    try:
        with transaction.atomic():
            version.save()
            if "kpis" in data:
                _write_kpis(version, data["kpis"])
    except IntegrityError as exc:
        raise ScoringError(_("The scheme breaks a rule: %(error)s") % {"error": exc}) from exc
    audit_record(
        actor=actor, action="scheme.update", object_type="scheme_version",
        object_id=version.code, before=before, after=version_snapshot(version),
    )  # fmt: skip
    return version


def scheme_problems(version: SchemeVersion) -> list[str]:
    """Why a version may not be published (empty when it may)."""
    from wealthscore.kernel.catalog import (
        COMPUTED_MEASURE_CODES,
        MANUAL_MEASURE_CODES,
        MEASURE_CODES,
    )

    problems = []
    kpis = list(version.kpis.prefetch_related("measures"))
    weights = weights_problem(weights_total((k.dimension, k.weight) for k in kpis))
    if weights:
        problems.append(weights)
    seen: set[str] = set()
    for kpi in kpis:
        measures = list(kpi.measures.all())
        if not measures:
            problems.append(_("KPI %(kpi)s has no measure.") % {"kpi": kpi.code})
            continue
        shares = sum((m.share for m in measures), Decimal(0))
        if shares != HUNDRED:
            problems.append(
                _("The measures of KPI %(kpi)s share %(total)s%%, not 100%%.")
                % {"kpi": kpi.code, "total": f"{shares:.2f}"}
            )
        for m in measures:
            if m.measure in seen:
                problems.append(_("Measure %(m)s is in two KPIs.") % {"m": m.measure})
            seen.add(m.measure)
            if m.measure not in MEASURE_CODES:
                problems.append(_("Unknown measure %(m)s.") % {"m": m.measure})
            elif m.method == "manual" and m.measure not in MANUAL_MEASURE_CODES:
                problems.append(_("Measure %(m)s is computed, not entered.") % {"m": m.measure})
            elif m.method != "manual" and m.measure not in COMPUTED_MEASURE_CODES:
                problems.append(_("Measure %(m)s is entered by hand: its method is manual.")
                                % {"m": m.measure})  # fmt: skip
            if (m.method == "bonus") != (kpi.dimension == "bonus"):
                problems.append(_("Measure %(m)s: bonus measures belong to the bonus KPI.")
                                % {"m": m.measure})  # fmt: skip
            if m.default_target is not None and m.default_target < 0:
                problems.append(_("Measure %(m)s: a target cannot be negative.")
                                % {"m": m.measure})  # fmt: skip
            if m.method == "linear" and (m.zero_at, m.zero_at_target) == (
                m.full_at, m.full_at_target):  # fmt: skip
                problems.append(_("Measure %(m)s gives 0 and 100 points at the same value.")
                                % {"m": m.measure})  # fmt: skip
    return problems


@transaction.atomic
def scheme_publish(*, version: SchemeVersion, actor: User) -> SchemeVersion:
    """Publish a draft once its weights total exactly 100.00. Approved periods keep the cards
    they have: only a recompute of an open period uses the new version."""
    require_admin(actor)
    version = SchemeVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != SchemeVersion.Status.DRAFT:
        raise ConflictError(_("Version %(v)s is already published.") % {"v": version.number})
    problems = scheme_problems(version)
    if problems:
        raise ScoringError(" ".join(problems), field="kpis")
    version.status = SchemeVersion.Status.PUBLISHED
    version.published_by, version.published_at = actor, timezone.now()
    version.save(update_fields=["status", "published_by", "published_at"])
    audit_record(
        actor=actor, action="scheme.publish", object_type="scheme_version",
        object_id=version.code, before={"status": "draft"}, after=version_snapshot(version),
    )  # fmt: skip
    return version


# ---------------------------------------------------------------- what-if
def scheme_preview(*, version: SchemeVersion, period_code: str) -> dict:
    """Score `version` on a past period without saving anything: each RM's total and rank
    now (the period's current run) and with the version."""
    from scorecards.engine import competition_ranks

    period = period_from(period_code)
    rules = rules_of(version)
    _computation, entries = score_inputs(period, rules)
    after = {}
    for key, entry in entries.items():
        card = score_one(rules, period.kind, entry)
        after[key] = card.total
    stored = Period.objects.filter(code=period.code).first()
    before = {
        row["employee__employee_id"]: row
        for row in Scorecard.objects.filter(run_id=getattr(stored, "current_run_id", None)).values(
            "employee__employee_id", "total", "rank", "vetoed"
        )
    }
    vetoed = {key for key, row in before.items() if row["vetoed"]}
    ranks = competition_ranks([(key, total, key in vetoed) for key, total in after.items()])
    names = dict(
        Employee.objects.filter(employee_id__in=list(entries)).values_list("employee_id", "name")
    )
    rows = []
    for key in sorted(entries):
        old = before.get(key, {})
        new_total = after[key]
        old_total = old.get("total")
        rows.append(
            {
                "employee_id": key,
                "name": names.get(key, ""),
                "total_before": old_total,
                "rank_before": old.get("rank"),
                "total_after": new_total,
                "rank_after": ranks.get(key),
                "change": None if old_total is None or new_total is None
                else new_total - old_total,
            }
        )  # fmt: skip
    return {"period": period.code, "version": version.pk, "rows": rows}
