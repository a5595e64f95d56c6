"""The audit page (SPEC §9): /audit/, the log filtered by who, what, object and date range.
Admins and compliance only; for anyone else the page does not exist (404)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from .kernel.errors import DomainError
from .selectors import AuditFilters, audit_entry_list, require_audit_scope

PER_PAGE = 50
AUDIT_PARAMS = ("who", "action", "object_type", "object_id", "from", "to")


def _snapshot(value) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder)


@login_required
@require_GET
def audit_page(request: HttpRequest) -> HttpResponse:
    require_audit_scope(request.user)
    error = None
    try:
        filters = AuditFilters.parse(request.GET)
    except DomainError as exc:
        error, filters = exc, AuditFilters()
    page = Paginator(audit_entry_list(user=request.user, filters=filters), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [
        {"entry": entry, "snapshots": (_snapshot(entry.before), _snapshot(entry.after))}
        for entry in page
    ]
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "typed": {name: request.GET.get(name, "") for name in AUDIT_PARAMS},
        "error": error,
    }
    return render(request, "audit.html", context, status=400 if error else 200)


urlpatterns = [path("audit/", audit_page, name="audit")]
