"""The administrator's schemes page (SPEC §5, §8): /schemes/ (version history with what each
version changed, a new draft, period control) and /schemes/<pk>/ (the weights editor of a
draft, read-only for a published version, and the what-if preview on a past period).

Every write goes through scorecards.schemes.services (the same calls as the API): the view parses
the form with the API's own serializers, calls the service and shows its DomainError next to
the field it names. Everyone but an administrator gets 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Field
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from scorecards.engine import weights_total
from scorecards.models import Dimension, Method, Period, SchemeMeasure, SchemeVersion, Window
from scorecards.periods import selectors as period_selectors
from scorecards.periods import services as period_services
from scorecards.periods.api import ReasonSerializer
from scorecards.schemes import selectors as scheme_selectors
from scorecards.schemes import services as scheme_services
from scorecards.schemes.api import SchemeVersionSerializer, SchemeVersionWriteSerializer
from targets.models import scope_of
from wealthscore.kernel.access import Role
from wealthscore.kernel.catalog import measure_name
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.typing import AuthedHttpRequest


def _admin_only(request: AuthedHttpRequest) -> None:
    # The page does not exist for anyone else (SPEC §1: 404, never 403).
    if scope_of(request.user).role != Role.ADMIN:
        raise Http404


def _errors_text(errors: Any) -> str:
    """A DRF error structure as one line of text."""
    if isinstance(errors, dict):
        return " ".join(_errors_text(value) for value in errors.values())
    if isinstance(errors, list):
        return " ".join(_errors_text(value) for value in errors if value)
    return str(errors)


def _by_index(errors: Any) -> dict[int, dict]:
    """A nested list's errors by item: DRF gives a dict {index: errors} (or a list)."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(errors, dict):
        items = errors.items()
    elif isinstance(errors, list):
        items = enumerate(errors)
    else:
        return {}
    return {int(i): e for i, e in items if isinstance(e, dict) and e and str(i).isdigit()}


def _number(text: Any, places: int | None = None) -> str:
    """A decimal as read in a table: fixed places, or without trailing zeros."""
    if text is None or text == "":
        return "—"
    if isinstance(text, bool):
        return _("yes") if text else _("no")
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return str(text)
    if places is not None:
        return f"{value:.{places}f}"
    return f"{value.normalize():f}"


def measure_label(code: str) -> str:
    """The measure's name in the reader's language (the catalogue's one rule)."""
    return measure_name(code)


# ---------------------------------------------------------------- what a version changed
@dataclass
class Change:
    what: str
    before: str
    after: str
    kind: str  # kpi | measure | setting


MEASURE_PARAMETERS = [name for name in scheme_services.MEASURE_FIELDS if name != "measure"]
CHOICE_LABELS = {"method": dict(Method.choices), "window": dict(Window.choices)}


def _measure_value(name: str, value: Any) -> str:
    if name in CHOICE_LABELS:
        return str(CHOICE_LABELS[name].get(value, value))
    return _number(value, 2 if name == "share" else None)


def _setting_label(name: str) -> str:
    field = SchemeVersion._meta.get_field(name)
    assert isinstance(field, Field)  # the names are the version's own columns, no relations
    return str(field.verbose_name)


def _parameter_label(name: str) -> str:
    field = SchemeMeasure._meta.get_field(name)
    assert isinstance(field, Field)  # the names are the measure's own columns, no relations
    return str(field.verbose_name)


def version_diff(before: dict, after: dict) -> list[Change]:
    """What `after` changed against `before` (both as the API serialises a version): settings,
    KPIs added, removed or reweighted, and measures' shares and parameters."""
    changes: list[Change] = []

    def add(what: str, old: str, new: str, kind: str) -> None:
        changes.append(Change(what=what, before=old, after=new, kind=kind))

    for name in scheme_services.SETTINGS_FIELDS:
        if name != "note" and _number(before.get(name)) != _number(after.get(name)):
            add(_setting_label(name), _number(before.get(name)), _number(after.get(name)),
                "setting")  # fmt: skip
    dimensions = dict(Dimension.choices)
    old_kpis = {k["code"]: k for k in before["kpis"]}
    new_kpis = {k["code"]: k for k in after["kpis"]}
    for code, kpi in new_kpis.items():
        label = f"{kpi['name']} ({code})"
        old = old_kpis.get(code)
        if old is None:
            add(_("KPI %(kpi)s added") % {"kpi": label}, "—", _number(kpi["weight"], 2), "kpi")
            continue
        if Decimal(old["weight"]) != Decimal(kpi["weight"]):
            add(_("Weight of %(kpi)s") % {"kpi": label}, _number(old["weight"], 2),
                _number(kpi["weight"], 2), "kpi")  # fmt: skip
        if old["dimension"] != kpi["dimension"]:
            add(_("Dimension of %(kpi)s") % {"kpi": label},
                str(dimensions.get(old["dimension"], old["dimension"])),
                str(dimensions.get(kpi["dimension"], kpi["dimension"])), "kpi")  # fmt: skip
        old_measures = {m["measure"]: m for m in old["measures"]}
        new_measures = {m["measure"]: m for m in kpi["measures"]}
        for measure, now in new_measures.items():
            m_label = f"{measure_label(measure)} ({measure})"
            was = old_measures.get(measure)
            if was is None:
                add(_("Measure %(m)s added to %(kpi)s") % {"m": m_label, "kpi": code}, "—",
                    _number(now["share"], 2), "measure")  # fmt: skip
                continue
            for name in MEASURE_PARAMETERS:
                old_value = _measure_value(name, was.get(name))
                new_value = _measure_value(name, now.get(name))
                if old_value != new_value:
                    add(f"{m_label}: {_parameter_label(name)}", old_value, new_value, "measure")
        for measure, was in old_measures.items():
            if measure not in new_measures:
                m_label = f"{measure_label(measure)} ({measure})"
                add(_("Measure %(m)s removed from %(kpi)s") % {"m": m_label, "kpi": code},
                    _number(was["share"], 2), "—", "measure")  # fmt: skip
    for code, kpi in old_kpis.items():
        if code not in new_kpis:
            add(_("KPI %(kpi)s removed") % {"kpi": f"{kpi['name']} ({code})"},
                _number(kpi["weight"], 2), "—", "kpi")  # fmt: skip
    return changes


# ---------------------------------------------------------------- the index
@dataclass
class VersionRow:
    version: SchemeVersion
    weights_total: str
    in_force: bool
    base: SchemeVersion | None
    changes: list[Change]


@dataclass
class PeriodRow:
    period: Period
    can_reopen: bool
    error: str = ""
    error_field: str = ""
    reason: str = ""


def _version_rows(user: Any) -> tuple[list[VersionRow], SchemeVersion | None]:
    """Every version with what it changed against its base (a fixed number of queries)."""
    versions = list(scheme_selectors.scheme_version_list(user=user).select_related("published_by"))
    # The version in force, without its KPIs (they are in `versions` already).
    in_force = (
        scheme_selectors.scheme_version_list(user=user)
        .in_force_on(timezone.localdate())
        .prefetch_related(None)
        .first()
    )
    data = {v.pk: SchemeVersionSerializer(v).data for v in versions}
    rows = []
    for version in versions:
        base_data = data.get(version.based_on_id) if version.based_on_id else None
        rows.append(
            VersionRow(
                version=version,
                weights_total=data[version.pk]["weights_total"],
                in_force=in_force is not None and in_force.pk == version.pk,
                base=version.based_on,
                changes=version_diff(base_data, data[version.pk]) if base_data else [],
            )
        )
    return rows, in_force


def _period_rows(
    user: Any, *, error: DomainError | None = None, code: str = "", reason: str = ""
) -> list[PeriodRow]:
    periods = period_selectors.period_list(user=user).select_related("current_run__version__scheme")
    # Reopening sends back every branch in review or approved (one query for all periods).
    locked = period_selectors.periods_with_locked_units()
    rows = []
    for period in periods.order_by("-last_day", "kind"):
        row = PeriodRow(period=period, can_reopen=period.code in locked)
        if period.code == code:
            row.reason = reason
            if error is not None:
                row.error, row.error_field = str(error.message), error.field or ""
        rows.append(row)
    return rows


def _index(
    request: AuthedHttpRequest,
    *,
    status: int = 200,
    top_error: str = "",
    period_error: DomainError | None = None,
    period_code: str = "",
    reason: str = "",
) -> HttpResponse:
    versions, in_force = _version_rows(request.user)
    context = {
        "versions": versions,
        "in_force": in_force,
        "drafts": [row.version for row in versions if row.version.status == "draft"],
        "periods": _period_rows(request.user, error=period_error, code=period_code, reason=reason),
        "top_error": top_error,
    }
    return render(request, "scorecards/schemes.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def schemes(request: AuthedHttpRequest) -> HttpResponse:
    _admin_only(request)
    if request.method == "GET":
        return _index(request)
    action = request.POST.get("action", "")
    if action == "new_draft":
        return _new_draft(request)
    if action == "reopen":
        return _period_action(request, action)
    return _index(request, status=400, top_error=_("Unknown action."))


def _new_draft(request: AuthedHttpRequest) -> HttpResponse:
    base_id = request.POST.get("base", "")
    base: SchemeVersion | None
    if base_id.isdigit():
        base = scheme_selectors.scheme_version_get(user=request.user, version_id=int(base_id))
    else:
        base = (
            scheme_selectors.scheme_version_list(user=request.user)
            .in_force_on(timezone.localdate())
            .first()
        )
        if base is None:
            return _index(
                request, status=409, top_error=_("No published version is in force today.")
            )
    try:
        draft = scheme_services.scheme_draft_create(base=base, actor=request.user)
    except DomainError as exc:
        return _index(request, status=exc.status_code, top_error=str(exc.message))
    messages.success(
        request,
        _("Draft v%(number)s created from v%(base)s.")
        % {"number": draft.number, "base": base.number},
    )
    return redirect("scheme-edit", pk=draft.pk)


def _period_action(request: AuthedHttpRequest, action: str) -> HttpResponse:
    code = request.POST.get("period", "")
    period = period_selectors.period_get(user=request.user, code=code)
    raw_reason = request.POST.get("reason", "")
    parsed = ReasonSerializer(data={"reason": raw_reason})
    if not parsed.is_valid():
        error = DomainError(_errors_text(parsed.errors), field="reason")
        return _index(request, status=400, period_error=error, period_code=code,
                      reason=raw_reason)  # fmt: skip
    try:
        period_services.period_transition(
            period=period, action=action, actor=request.user, reason=parsed.validated_data["reason"]
        )
    except DomainError as exc:
        return _index(request, status=exc.status_code, period_error=exc, period_code=code,
                      reason=raw_reason)  # fmt: skip
    messages.success(request, _("Period %(period)s is open again.") % {"period": period.code})
    return redirect("schemes")


# ---------------------------------------------------------------- the editor
@dataclass
class MeasureField:
    code: str
    name: str
    method: str
    share: str
    error: str = ""

    @property
    def input_name(self) -> str:
        return f"measure-{self.code}-share"


@dataclass
class KpiField:
    code: str
    name: str
    dimension: str  # the dimension's name, as shown
    dimension_code: str
    weight: str
    measures: list[MeasureField]
    error: str = ""

    @property
    def input_name(self) -> str:
        return f"kpi-{self.code}-weight"

    @property
    def bonus(self) -> bool:
        return self.dimension_code == "bonus"


@dataclass
class Editor:
    kpis: list[KpiField]
    effective_from: str
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> str:
        """The running total as the page opens (the script keeps it up to date)."""
        try:
            total = weights_total((k.dimension_code, k.weight) for k in self.kpis)
        except InvalidOperation:
            return "—"
        return f"{total:.2f}"


def _editor_fields(version: SchemeVersion, typed: QueryDict | None, errors: dict) -> Editor:
    """The form's fields: what was typed when re-showing a refused form, else the version."""
    dimensions = dict(Dimension.choices)
    methods = dict(Method.choices)

    def value(name: str, stored: str) -> str:
        return typed.get(name, stored) if typed is not None else stored

    kpis = []
    for kpi in version.kpis.all():
        item = KpiField(
            code=kpi.code,
            name=kpi.name,
            dimension=str(dimensions.get(kpi.dimension, kpi.dimension)),
            dimension_code=kpi.dimension,
            weight=value(f"kpi-{kpi.code}-weight", f"{kpi.weight:.2f}"),
            measures=[
                MeasureField(
                    code=m.measure,
                    name=measure_label(m.measure),
                    method=str(methods.get(m.method, m.method)),
                    share=value(f"measure-{m.measure}-share", f"{m.share:.2f}"),
                    error=errors.get(f"measure-{m.measure}-share", ""),
                )
                for m in kpi.measures.all()
            ],
            error=errors.get(f"kpi-{kpi.code}-weight", ""),
        )
        kpis.append(item)
    return Editor(
        kpis=kpis,
        effective_from=value("effective_from", version.effective_from.isoformat()),
        errors=errors,
    )


def _parse(version: SchemeVersion, post: QueryDict) -> tuple[dict | None, dict[str, str]]:
    """The form as the API's PATCH payload: the version's KPIs and measures with the typed
    weights and shares. Parsed by the API's serializer; errors keyed by input name."""
    snapshot = scheme_services.version_snapshot(version)
    kpis = []
    for kpi in snapshot["kpis"]:
        measures = [
            {**m, "share": post.get(f"measure-{m['measure']}-share", m["share"]).strip()}
            for m in kpi["measures"]
        ]
        weight = post.get(f"kpi-{kpi['code']}-weight", kpi["weight"]).strip()
        kpis.append({**kpi, "weight": weight, "measures": measures})
    data: dict[str, Any] = {"kpis": kpis}
    if "effective_from" in post:
        data["effective_from"] = post.get("effective_from", "").strip()
    parsed = SchemeVersionWriteSerializer(data=data)
    if parsed.is_valid():
        return parsed.validated_data, {}
    errors: dict[str, str] = {}
    rest: list[str] = []
    for name, problem in parsed.errors.items():
        if name != "kpis":
            errors[name] = _errors_text(problem)
            continue
        per_kpi = _by_index(problem)
        if not per_kpi:
            rest.append(_errors_text(problem))
        for index, kpi_errors in per_kpi.items():
            kpi = kpis[index]
            for key, detail in kpi_errors.items():
                if key == "weight":
                    errors[f"kpi-{kpi['code']}-weight"] = _errors_text(detail)
                elif key == "measures" and _by_index(detail):
                    for m_index, m_errors in _by_index(detail).items():
                        m = kpi["measures"][m_index]
                        for m_key, m_detail in m_errors.items():
                            if m_key == "share":
                                errors[f"measure-{m['measure']}-share"] = _errors_text(m_detail)
                            else:
                                rest.append(f"{m['measure']}: {_errors_text(m_detail)}")
                else:
                    rest.append(f"{kpi['code']}: {_errors_text(detail)}")
    errors["top"] = " ".join([_("Some values are not valid: see the fields marked below."), *rest])
    return None, errors


@dataclass
class PreviewRow:
    employee_id: str
    name: str
    total_before: Decimal | None
    rank_before: int | None
    total_after: Decimal | None
    rank_after: int | None
    change: Decimal | None

    @property
    def rank_move(self) -> int | None:
        """Places gained (positive) or lost (negative)."""
        if self.rank_before is None or self.rank_after is None:
            return None
        return self.rank_before - self.rank_after


def _preview(result: dict) -> dict:
    rows = [PreviewRow(**row) for row in result["rows"]]
    rows.sort(
        key=lambda r: (
            r.change is None,
            -abs(r.change or Decimal(0)),
            -abs(r.rank_move or 0),
            r.employee_id,
        )
    )
    gains = [r for r in rows if r.change is not None and r.change > 0]
    losses = [r for r in rows if r.change is not None and r.change < 0]
    return {
        "period": result["period"],
        "rows": rows,
        "up": sum(1 for r in rows if (r.rank_move or 0) > 0),
        "down": sum(1 for r in rows if (r.rank_move or 0) < 0),
        "same": sum(1 for r in rows if r.rank_move == 0),
        "raised": len(gains),
        "lowered": len(losses),
        # `or` only for the type checker: these rows' changes are never None (nor 0).
        "largest_gain": max(gains, key=lambda r: r.change or Decimal(0), default=None),
        "largest_loss": min(losses, key=lambda r: r.change or Decimal(0), default=None),
    }


def _editor(
    request: AuthedHttpRequest,
    version: SchemeVersion,
    *,
    typed: QueryDict | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    errors = errors or {}
    editable = version.status == SchemeVersion.Status.DRAFT
    today = timezone.localdate()
    options = list(
        period_selectors.period_list(user=request.user)
        .filter(current_run__isnull=False, last_day__lt=today)
        .order_by("-last_day", "kind")
    )
    preview, preview_error = None, ""
    chosen = request.GET.get("period", "").strip()
    if chosen:
        if chosen not in {p.code for p in options}:
            preview_error = _("Choose a past period that has scores.")
            status = 400 if status == 200 else status
        else:
            try:
                preview = _preview(
                    scheme_services.scheme_preview(version=version, period_code=chosen)
                )
            except DomainError as exc:
                preview_error = str(exc.message)
                status = exc.status_code if status == 200 else status
    context = {
        "version": version,
        "editable": editable,
        "form": _editor_fields(version, typed, errors),
        "problems": scheme_services.scheme_problems(version) if editable and typed is None else [],
        "period_options": options,
        "chosen": chosen,
        "preview": preview,
        "preview_error": preview_error,
    }
    return render(request, "scorecards/scheme_edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def scheme_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    version = scheme_selectors.scheme_version_get(user=request.user, version_id=pk)
    if request.method == "GET":
        return _editor(request, version)
    publish = request.POST.get("action") == "publish"
    data, errors = _parse(version, request.POST)
    if data is None:
        return _editor(request, version, typed=request.POST, errors=errors, status=400)
    try:
        # Publishing saves what the form holds, then publishes it: both or neither.
        with transaction.atomic():
            version = scheme_services.scheme_version_update(
                version=version, actor=request.user, data=data
            )
            if publish:
                version = scheme_services.scheme_publish(version=version, actor=request.user)
    except DomainError as exc:
        version = scheme_selectors.scheme_version_get(user=request.user, version_id=pk)
        key = exc.field if exc.field in ("effective_from",) else "top"
        return _editor(
            request, version, typed=request.POST, errors={key: str(exc.message)},
            status=exc.status_code,
        )  # fmt: skip
    if publish:
        messages.success(
            request, _("Version v%(number)s is published.") % {"number": version.number}
        )
        return redirect("schemes")
    messages.success(request, _("Draft v%(number)s saved.") % {"number": version.number})
    return redirect("scheme-edit", pk=version.pk)


urlpatterns = [
    path("schemes/", schemes, name="schemes"),
    path("schemes/<int:pk>/", scheme_edit, name="scheme-edit"),
]
