"""The run history page (/runs/, admins): every score run and nightly job, newest first, with
its trigger, periods, start, end, outcome and error; failures first to the eye."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from scorecards.runs.selectors import KINDS, STATUSES, HistoryEntry, run_history
from wealthscore.kernel.typing import AuthedHttpRequest

PER_PAGE = 50


@login_required
@require_GET
def runs_page(request: AuthedHttpRequest) -> HttpResponse:
    kind = request.GET.get("kind") if request.GET.get("kind") in KINDS else None
    status = request.GET.get("status") if request.GET.get("status") in STATUSES else None
    history = run_history(user=request.user, kind=kind, status=status)
    # A lazy list (count and slices), as the paginator reads one.
    entries = cast("Sequence[HistoryEntry]", history)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "kind": kind or "", "status": status or "",
               "kinds": KINDS, "statuses": STATUSES}  # fmt: skip
    return render(request, "scorecards/runs.html", context)


urlpatterns = [path("runs/", runs_page, name="runs")]
