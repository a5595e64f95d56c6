"""The compliance page (SPEC §6, §8): /compliance/.

Compliance officers and admins see every case, record incidents and decide them; managers
see their subtree's cases and warning board, read-only; RMs and HR get 404. The views only
parse and call `compliance.selectors` (reads, scoped) and `compliance.services` (writes);
a refused write is shown next to its field, with what the user typed kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from targets.models import scope_of
from targets.org import selectors as org_selectors
from wealthscore.kernel.access import Action, Role, allows, may
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.typing import AuthedHttpRequest

from . import selectors, services
from .models import IncidentSource, IncidentStatus, IncidentType, incident_type_name

PER_PAGE = 50
DECISIONS = ("confirm", "dismiss")
FILTERS = ("status", "type", "unit", "assignee", "incident")
FORM_FIELDS = ("employee_id", "type", "occurred_on", "description", "evidence")
SOURCE_LABELS = {
    IncidentSource.MANUAL: pgettext_lazy("incident source", "Manual"),
    IncidentSource.AUTOMATIC: pgettext_lazy("incident source", "T+1"),
}


def _require_page(user) -> bool:
    """404 unless the user may see the page; returns whether she may also write on it."""
    scope = scope_of(user)
    if not allows(scope.role, Action.COMPLIANCE_PAGES) or (
        scope.role == Role.MANAGER and scope.unit is None
    ):
        raise Http404
    return allows(scope.role, Action.DECIDE_INCIDENTS)


def _require_decider(user) -> None:
    """Writes are for compliance and admins: for anyone else the form does not exist."""
    if not may(user, Action.DECIDE_INCIDENTS):
        raise Http404


# ---------------------------------------------------------------- the page
def _board(user, month: str) -> tuple[dict, str | None]:
    """The warning board; a malformed month is reported beside the month picker and the
    board shows the latest month instead."""
    try:
        return selectors.warning_board(user=user, month=month or None), None
    except DomainError as exc:
        return selectors.warning_board(user=user, month=None), exc.message


def _filters(params: QueryDict) -> dict[str, str]:
    status = params.get("status", "").strip()
    assignee = params.get("assignee", "").strip()
    incident = params.get("incident", "").strip()
    return {
        "status": status if status in IncidentStatus.values else "",
        "type": params.get("type", "").strip(),
        "unit": params.get("unit", "").strip(),
        "assignee": assignee if assignee in ("me", "none") else "",
        # One case, as a card's veto banner links to it (selectors.case_url).
        "incident": incident if incident.isdigit() else "",
    }


def _filtered(user, filters: dict[str, str]):
    unit_code = filters["unit"]
    unit = org_selectors.org_unit_get(user=user, code=unit_code) if unit_code else None
    incidents = selectors.incident_list(
        user=user, status=filters["status"] or None, type_code=filters["type"] or None,
        unit=unit,
    )  # fmt: skip
    if filters["assignee"] == "me":
        incidents = incidents.filter(assignee=user)
    elif filters["assignee"] == "none":
        incidents = incidents.filter(assignee__isnull=True)
    if filters["incident"]:
        incidents = incidents.filter(pk=int(filters["incident"]))
    return incidents


def _incidents(user, params: QueryDict) -> dict[str, Any]:
    """The filtered incidents, open first, one page of them."""
    filters = _filters(params)
    incidents = _filtered(user, filters).order_by(
        Case(When(status=IncidentStatus.OPEN, then=Value(0)), default=Value(1),
             output_field=IntegerField()),
        "-occurred_on",
        "-id",
    )  # fmt: skip
    page = Paginator(incidents, PER_PAGE).get_page(params.get("page"))
    rows = list(page.object_list)
    for incident in rows:
        incident.type_label = incident_type_name(
            incident.type_id, incident.type.name, incident.type.name_en
        )
        incident.source_label = SOURCE_LABELS.get(incident.source, incident.source)
    kept = {**filters, "month": params.get("month", "").strip()}
    query = urlencode({key: value for key, value in kept.items() if value})
    return {
        "filters": filters,
        "filtered": any(filters.values()),
        "filter_query": query,
        "page": page,
        "incidents": rows,
    }


def _page_url(params: QueryDict) -> str:
    kept = {key: params.get(key) for key in (*FILTERS, "month", "page") if params.get(key)}
    return reverse("compliance") + (f"?{urlencode(kept)}" if kept else "")


def _render(
    request: AuthedHttpRequest,
    params: QueryDict,
    *,
    form: dict[str, Any] | None = None,
    decide: dict[str, Any] | None = None,
    bulk: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    can_decide = _require_page(user)
    month = params.get("month", "").strip()
    board, month_error = _board(user, month)
    for row in board["by_type"]:
        row["label"] = incident_type_name(row["type"], row["name"], row["name_en"])
    biggest = max((row["count"] for row in board["by_age"]), default=0)
    for row in board["by_age"]:
        row["share"] = round(100 * row["count"] / biggest) if biggest else 0
    types = [
        (code, incident_type_name(code, name, name_en), is_veto)
        for code, name, name_en, is_veto in IncidentType.objects.order_by(
            "position", "code"
        ).values_list("code", "name", "name_en", "is_veto")
    ]
    units = [
        (code, "\u00a0\u00a0\u00a0" * depth + name)
        for code, name, depth in org_selectors.org_unit_list(user=user)
        .order_by("path")
        .values_list("code", "name", "depth")
    ]
    context: dict[str, Any] = {
        "can_decide": can_decide,
        "board": board,
        "month": month or board["suitability"]["month"] or "",
        "month_error": month_error,
        "types": types,
        "units": units,
        "statuses": IncidentStatus.choices,
        "form": form or {"values": {}, "errors": {}, "top_error": None},
        "decide": decide or {},
        "bulk": bulk or {},
        "deciders": selectors.decider_usernames() if can_decide else [],
        "return_to": _page_url(params),
        "today": timezone.localdate().isoformat(),
        **_incidents(user, params),
    }
    for row in board["suitability"]["units"]:
        both = row["rate"] is not None and row["previous_rate"] is not None
        row["change"] = row["rate"] - row["previous_rate"] if both else None
    if decide and (
        decide.get("decision") not in DECISIONS
        or decide.get("incident_id") not in {i.pk for i in context["incidents"]}
    ):
        decide["shown_at_top"] = True
    return render(request, "compliance/page.html", context, status=status)


@login_required
@require_GET
def compliance_page(request: AuthedHttpRequest) -> HttpResponse:
    return _render(request, request.GET)


# ---------------------------------------------------------------- writes
def _back(request: HttpRequest) -> str:
    """Where a form returns: the page with the filters it was posted from."""
    target = request.POST.get("next", "")
    if (
        target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and urlsplit(target).path == reverse("compliance")
    ):
        return target
    return reverse("compliance")


def _params_of(url: str) -> QueryDict:
    return QueryDict(urlsplit(url).query)


@login_required
@require_POST
def incident_decide(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_decider(request.user)
    incident = selectors.incident_get(user=request.user, incident_id=pk)
    decision = request.POST.get("decision", "")
    reason = request.POST.get("reason", "")
    back = _back(request)
    try:
        if decision not in DECISIONS:
            raise DomainError(_("Choose to confirm or to dismiss the incident."), field="decision")
        services.incident_decide(
            incident=incident, actor=request.user, decision=decision, reason=reason
        )
    except DomainError as exc:
        decide = {
            "incident_id": incident.pk,
            "decision": decision,
            "reason": reason,
            "message": exc.message,
        }
        return _render(request, _params_of(back), decide=decide, status=exc.status_code)
    text = (
        _("Incident #%(id)s confirmed.")
        if decision == "confirm"
        else _("Incident #%(id)s dismissed.")
    )
    messages.success(request, text % {"id": incident.pk})
    return HttpResponseRedirect(back)


# A triage decision reads at most this many cases matching the filters at once.
BULK_LIMIT = 5000


@login_required
@require_POST
def incidents_bulk_decide(request: AuthedHttpRequest) -> HttpResponse:
    """Confirm or dismiss the ticked cases, or every open case the filters match, with one
    reason (compliance triage): all or none, through services.incidents_decide."""
    _require_decider(request.user)
    back = _back(request)
    params = _params_of(back)
    step = request.POST.get("action", "decide")
    decision = request.POST.get("decision", "")
    reason = request.POST.get("reason", "")
    assignee = request.POST.get("assignee", "") or None
    matching = request.POST.get("matching") == "on"
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    try:
        if matching:
            open_cases = _filtered(request.user, _filters(params)).filter(
                status=IncidentStatus.OPEN
            )
            ids = list(open_cases.order_by("pk").values_list("pk", flat=True)[:BULK_LIMIT])
        if step == "assign":
            assigned = services.incidents_assign(
                incident_ids=ids, assignee=assignee, actor=request.user
            )
            messages.success(request, _("%(n)s incident(s) assigned to %(user)s.")
                             % {"n": len(assigned), "user": assignee or _("no one")})  # fmt: skip
            return HttpResponseRedirect(back)
        if decision not in DECISIONS:
            raise DomainError(_("Choose to confirm or to dismiss the incidents."), field="decision")
        decided = services.incidents_decide(
            incident_ids=ids, actor=request.user, decision=decision, reason=reason
        )
    except DomainError as exc:
        bulk = {"decision": decision, "reason": reason, "ids": ids, "matching": matching,
                "assignee": assignee, "message": exc.message}  # fmt: skip
        return _render(request, params, bulk=bulk, status=exc.status_code)
    text = (
        _("%(n)s incident(s) confirmed.") if decision == "confirm"
        else _("%(n)s incident(s) dismissed.")
    )  # fmt: skip
    messages.success(request, text % {"n": len(decided)})
    return HttpResponseRedirect(back)


@login_required
@require_GET
def employee_options(request: AuthedHttpRequest) -> HttpResponse:
    """The <option>s of the incident form's RM lookup (htmx): by ID or name, in scope."""
    _require_decider(request.user)
    # htmx sends the input's own value, under its name.
    text = request.GET.get("employee_id") or request.GET.get("q", "")
    found = org_selectors.employee_search(user=request.user, text=text)
    return render(request, "compliance/_employee_options.html", {"found": found})


def _parse_incident_form(request: HttpRequest) -> tuple[dict[str, Any], dict[str, str]]:
    """The typed values and the errors of what cannot even be passed to the service."""
    values: dict[str, Any] = {name: request.POST.get(name, "").strip() for name in FORM_FIELDS[:-1]}
    values["description"] = request.POST.get("description", "")
    errors: dict[str, str] = {}
    if not values["employee_id"]:
        errors["employee_id"] = _("Enter the RM's employee ID.")
    if not values["type"]:
        errors["type"] = _("Choose the type of incident.")
    if not values["occurred_on"]:
        errors["occurred_on"] = _("Enter the date of the incident.")
    else:
        try:
            values["date"] = dt.date.fromisoformat(values["occurred_on"])
        except ValueError:
            errors["occurred_on"] = _("Enter a date like 2026-10-31.")
    return values, errors


@login_required
@require_http_methods(["GET", "POST"])
def incident_new(request: AuthedHttpRequest) -> HttpResponse:
    _require_decider(request.user)
    if request.method == "GET":  # the form lives on the page
        return HttpResponseRedirect(reverse("compliance") + "#incident-form")
    values, errors = _parse_incident_form(request)
    evidence = request.FILES.get("evidence")
    employee = None
    if values["employee_id"]:
        try:
            employee = org_selectors.employee_get(
                user=request.user, employee_id=values["employee_id"]
            )
        except Http404:
            errors["employee_id"] = _("No employee %(id)s.") % {"id": values["employee_id"]}
    status = 400
    if not errors and employee is not None:
        try:
            incident = services.incident_create(
                actor=request.user,
                employee=employee,
                type_code=values["type"],
                occurred_on=values["date"],
                description=values["description"],
                evidence=evidence,
            )
        except DomainError as exc:
            field = exc.field if exc.field in FORM_FIELDS else None
            if field:
                errors[field] = exc.message
            else:
                errors["__all__"] = exc.message
            status = exc.status_code
        else:
            messages.success(request, _("Incident #%(id)s recorded.") % {"id": incident.pk})
            return HttpResponseRedirect(_back(request))
    form = {
        "values": values,
        "errors": {key: value for key, value in errors.items() if key != "__all__"},
        "top_error": errors.get("__all__"),
        "had_file": evidence is not None,
    }
    return _render(request, _params_of(_back(request)), form=form, status=status)


urlpatterns = [
    path("compliance/", compliance_page, name="compliance"),
    path("compliance/incidents/new/", incident_new, name="compliance-new"),
    path("compliance/incidents/<int:pk>/decide/", incident_decide, name="compliance-decide"),
    path("compliance/incidents/decide/", incidents_bulk_decide, name="compliance-bulk-decide"),
    path("compliance/employees/", employee_options, name="compliance-employees"),
]
