"""HR's pay and talent page (SPEC §7, §8): /hr/pay/, for HR and admins; anyone else 404.

The view only reads: the quarter's pay adjustments and the year's talent lists through
`pay_selectors` (which decide who may see them), serialised by the API's own serializers
so that every figure on the page is the exact string the API and the exports give.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from scorecards.models import PayPolicy, Period, PeriodStatus
from scorecards.pay import selectors as pay_selectors
from scorecards.pay.api import PayAdjustmentSerializer, TalentRowSerializer
from scorecards.periods import selectors as period_selectors
from targets.models import OrgUnit
from targets.org import selectors as org_selectors
from wealthscore.kernel.audit import audit_record
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.formats import signed
from wealthscore.kernel.periods import parse_period
from wealthscore.kernel.typing import AuthedHttpRequest

BAND_LABELS = {
    "top": gettext_lazy("Top band"),
    "pass": gettext_lazy("Pass band"),
    "fail": gettext_lazy("Fail band"),
    "vetoed": gettext_lazy("Vetoed"),
    "no_total": gettext_lazy("No total"),
}
FLAG_LABELS = {
    pay_selectors.FLAG_CONSECUTIVE_FAILURE: gettext_lazy("Reassignment or training"),
    pay_selectors.FLAG_NO_BASE_PAY: gettext_lazy("No base pay on record"),
    pay_selectors.FLAG_NO_TOTAL: gettext_lazy("No total"),
}
FLAG_HINTS = {
    pay_selectors.FLAG_CONSECUTIVE_FAILURE: gettext_lazy(
        "Two failing quarters in a row (below the pass mark or vetoed)."
    ),
    pay_selectors.FLAG_NO_BASE_PAY: gettext_lazy(
        "The staff record has no base performance pay: no adjusted pay."
    ),
    pay_selectors.FLAG_NO_TOTAL: gettext_lazy("The card has no total: no adjustment."),
}
LIST_LABELS = {
    "promotion": gettext_lazy("Promotion priority"),
    "improvement": gettext_lazy("Improvement plan"),
    "": "—",
}
STATUS_LABELS = {
    **dict(PeriodStatus.choices),
    "unscored": gettext_lazy("Not scored yet"),
}


def _unit_options(user) -> list[tuple[str, str]]:
    """The unit filter's options: every unit the user may see, by path, indented by depth."""
    units = org_selectors.org_unit_list(user=user).order_by("path")
    return [
        (code, "\u00a0\u00a0\u00a0" * depth + name)
        for code, name, depth in units.values_list("code", "name", "depth")
    ]


def _default_quarter(quarters: list[Period]) -> str:
    """The newest quarter with a current run, else the newest quarter."""
    for quarter in quarters:
        if quarter.current_run_id is not None:
            return quarter.code
    return quarters[0].code if quarters else ""


def _admin_add_url(request: AuthedHttpRequest, model) -> str | None:
    """The admin site's add page of the model, for a user who may open it and add there;
    None for anyone else (the page then only says who may add it)."""
    model_admin = admin.site._registry.get(model)
    if model_admin is None or not admin.site.has_permission(request):
        return None
    if not model_admin.has_add_permission(request):
        return None
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_add")


def _missing_pay_policy(request: AuthedHttpRequest, day: Any) -> dict[str, Any]:
    """What the page says instead of the pay table: what is missing, who may add it, where."""
    return {
        "kind": "pay_policy",
        "what": _("No pay policy is in force on %(day)s: the pay bands of this quarter are "
                  "not defined, so no pay adjustment can be computed.") % {"day": day},
        "who": _("An administrator adds one in the admin site (Pay policies: effective from "
                 "a day on or before %(day)s, with its bands).") % {"day": day},
        "link": _admin_add_url(request, PayPolicy),
        "link_label": _("Add a pay policy"),
    }  # fmt: skip


def _export_url(name: str, **params: str) -> str:
    return f"{reverse(name)}?{urlencode({k: v for k, v in params.items() if v})}"


def _pay_context(report: pay_selectors.Report) -> dict[str, Any]:
    rows = []
    for row, data in zip(
        report.rows, PayAdjustmentSerializer(report.rows, many=True).data, strict=True
    ):
        rows.append(
            {
                "data": data,
                "band_label": BAND_LABELS.get(row.band, row.band),
                "flags": [
                    (flag, FLAG_LABELS.get(flag, flag), FLAG_HINTS.get(flag, ""))
                    for flag in row.flags
                ],
            }
        )
    counts = Counter(row.band for row in report.rows)
    adjusted = [row.adjusted_pay for row in report.rows if row.adjusted_pay is not None]
    base = [row.base_pay for row in report.rows if row.base_pay is not None]
    bands = report.bands
    legend = None
    if bands is not None:
        legend = _(
            "Total ≥ %(top_from)s: %(top_pct)s; %(pass_from)s ≤ total < %(top_from)s: "
            "%(pass_pct)s; below %(pass_from)s or vetoed: %(fail_pct)s."
        ) % {
            "top_from": bands.top_from,
            "top_pct": f"{signed(bands.top_pct)}%",
            "pass_from": bands.pass_from,
            "pass_pct": f"{signed(bands.pass_pct)}%",
            "fail_pct": f"{signed(bands.fail_pct)}%",
        }
    return {
        "pay_rows": rows,
        "band_counts": [(band, label, counts.get(band, 0)) for band, label in BAND_LABELS.items()],
        "flag_count": sum(
            1 for row in report.rows if pay_selectors.FLAG_CONSECUTIVE_FAILURE in row.flags
        ),
        "adjusted_sum": sum(adjusted, Decimal("0.00")),
        "base_sum": sum(base, Decimal("0.00")),
        "legend": legend,
    }


def _talent_context(report: pay_selectors.Report) -> dict[str, Any]:
    rows = [
        {"data": data, "list_label": LIST_LABELS.get(row.list, row.list)}
        for row, data in zip(
            report.rows, TalentRowSerializer(report.rows, many=True).data, strict=True
        )
    ]
    counts = Counter(row.list for row in report.rows)
    return {
        "talent_rows": rows,
        "talent_counts": [(key, LIST_LABELS[key], counts.get(key, 0)) for key in LIST_LABELS],
        "talent_status": report.status,
        "talent_status_label": STATUS_LABELS.get(report.status, report.status),
        "talent_provisional": report.provisional,
    }


@login_required
@require_GET
def hr_pay(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    pay_selectors.require_pay_scope(user)
    quarters = list(
        period_selectors.period_list(user=user).filter(kind="quarter").order_by("-last_day")
    )
    requested = request.GET.get("period", "").strip()
    code = requested or _default_quarter(quarters)
    unit_code = request.GET.get("unit", "").strip()
    unit: OrgUnit | None = None
    if unit_code:
        unit = org_selectors.org_unit_get(user=user, code=unit_code)  # 404 if unknown

    context: dict[str, Any] = {
        "quarters": quarters,
        "period_code": code,
        # A quarter asked for by URL that has no period yet (or a mistyped one) stays shown.
        "other_period": code if code and code not in {q.code for q in quarters} else "",
        "units": _unit_options(user),
        "unit_code": unit_code,
        "unit": unit,
        "period_error": None,
        "report": None,
        "missing_config": None,
    }
    status = 200
    report: pay_selectors.Report | None = None
    year: int | None = None
    if code:
        try:
            report = pay_selectors.pay_adjustment_list(user=user, period_code=code, unit=unit)
            year = int(report.period[:4])
        except pay_selectors.NoPayPolicy as exc:
            # A missing configuration row, not a wrong request: say what is missing and who
            # adds it, and still show the year's talent lists (they need no policy).
            context["missing_config"] = _missing_pay_policy(request, exc.day)
            year = parse_period(code).year  # the quarter parsed: its bands were looked up
        except DomainError as exc:
            context["period_error"] = exc.message
            status = exc.status_code
    if year is not None:
        talent = pay_selectors.talent_list(user=user, year=year, unit=unit)
        # The page shows the same pay rows and lists as the audited JSON lists and exports
        # (SPEC §9: every bulk read of pay is audited), under the same actions.
        unit_label = unit.code if unit else None
        exports = {
            "talent_xlsx": _export_url(
                "api-talent-export", year=str(year), format="xlsx", unit=unit_code
            ),
            "talent_csv": _export_url(
                "api-talent-export", year=str(year), format="csv", unit=unit_code
            ),
        }
        with transaction.atomic():  # a read: its audit rows are their own transaction
            if report is not None:
                audit_record(
                    actor=user, action="export.pay", object_type="period",
                    object_id=report.period,
                    after={"format": "page", "count": len(report.rows), "unit": unit_label,
                           "provisional": report.provisional, "status": report.status},
                )  # fmt: skip
            audit_record(
                actor=user, action="export.talent", object_type="period",
                object_id=str(year),
                after={"format": "page", "count": len(talent.rows), "unit": unit_label},
            )  # fmt: skip
        if report is not None:
            exports["pay_xlsx"] = _export_url(
                "api-pay-export", period=report.period, format="xlsx", unit=unit_code
            )
            exports["pay_csv"] = _export_url(
                "api-pay-export", period=report.period, format="csv", unit=unit_code
            )
            context.update(
                report=report, status_label=STATUS_LABELS.get(report.status, report.status)
            )
            context.update(_pay_context(report))
        context.update(year=year, exports=exports)
        context.update(_talent_context(talent))
    return render(request, "scorecards/pay.html", context, status=status)


urlpatterns = [
    path("hr/pay/", hr_pay, name="hr-pay"),
]
