"""The imports page (SPEC §8): /imports/ (upload a file, the history of batches),
/imports/<pk>/ (one batch: progress while it runs, then its result and row errors) and
/imports/<pk>/status/ (the htmx fragment the batch page polls every second until the batch
is final). Administrators and HR only; everyone else gets 404.

An upload goes through `services.import_upload`, exactly as `POST /api/v1/imports/` does.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from wealthscore.kernel.access import Action, may
from wealthscore.kernel.audit import audit_read
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.typing import AuthedHttpRequest

from . import selectors, services
from .kinds import KINDS
from .models import BatchStatus, ImportBatch, ImportKind

PAGE_SIZE = 20
STAGES = {
    "reading": _("Reading the file"),
    "checking": _("Checking every row"),
    "loading": _("Loading"),
}


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of file"), choices=[(kind, ImportKind(kind).label) for kind in KINDS]
    )
    file = forms.FileField(label=_("File (CSV or XLSX)"))


def _imports_role(request: AuthedHttpRequest) -> None:
    # Import files hold client-level data: the page does not exist for other roles.
    if not may(request.user, Action.IMPORT):
        raise Http404


def _columns() -> list[dict[str, Any]]:
    """What each kind's file holds, for the help under the form."""
    return [
        {
            "kind": kind,
            "label": ImportKind(kind).label,
            "columns": [
                {"name": c.name, "aliases": " / ".join(c.aliases), "required": c.required}
                for c in spec.columns
            ],
        }
        for kind, spec in KINDS.items()
    ]


def _index(request: AuthedHttpRequest, form: UploadForm, *, status: int = 200) -> HttpResponse:
    page = Paginator(selectors.import_batch_list(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "kinds": _columns(),
        "limit_mb": settings.WEALTHSCORE_UPLOAD_MAX_BYTES // 1024**2,
    }
    return render(request, "crm/imports.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def imports(request: AuthedHttpRequest) -> HttpResponse:
    _imports_role(request)
    if request.method == "GET":
        return _index(request, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _index(request, form, status=400)
    try:
        batch = services.import_upload(
            upload=form.cleaned_data["file"], kind=form.cleaned_data["kind"], actor=request.user
        )
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        return _index(request, form, status=exc.status_code)
    return redirect("import-detail", pk=batch.pk)


def _status_context(request: AuthedHttpRequest, batch: ImportBatch) -> dict[str, Any]:
    rejected = batch.status == BatchStatus.REJECTED
    if rejected and batch.errors:
        # The row errors shown quote the file's values (client IDs, names, amounts): a
        # client-level read, audited like the API's (SPEC §9).
        audit_read(
            actor=request.user, action="import.errors", object_type="import_batch",
            object_id=str(batch.pk),
            after={"errors": len(batch.errors), "error_count": batch.error_count,
                   "kind": batch.kind, "file": batch.file_name, "via": "page"},
        )  # fmt: skip
    return {
        "batch": batch,
        "final": batch.status in services.FINAL,
        "stage": STAGES.get(batch.stage, batch.stage),
        "errors_not_listed": max(batch.error_count - len(batch.errors), 0),
        "rejected": rejected,
    }


@login_required
@require_GET
def import_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _imports_role(request)
    batch = selectors.import_batch_get(user=request.user, pk=pk)
    return render(request, "crm/import_detail.html", _status_context(request, batch))


@login_required
@require_GET
def import_status(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The batch's status block alone: what the batch page polls while the batch runs."""
    _imports_role(request)
    batch = selectors.import_batch_get(user=request.user, pk=pk)
    return render(request, "crm/import_status.html", _status_context(request, batch))


urlpatterns = [
    path("imports/", imports, name="imports"),
    path("imports/<int:pk>/", import_detail, name="import-detail"),
    path("imports/<int:pk>/status/", import_status, name="import-status"),
]
