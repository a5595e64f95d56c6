"""Pages of the org area: the role home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from targets.models import scope_of
from targets.org import selectors
from wealthscore.kernel.typing import AuthedHttpRequest


@login_required
@require_safe  # GET and HEAD; anything else is 405
def home(request: AuthedHttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    units = selectors.org_unit_list(user=request.user)
    employees = selectors.employee_list(user=request.user)
    context = {
        "scope": scope,
        "unit_count": units.count(),
        "employee_count": employees.count(),
        "top_units": units.filter(depth__lte=(scope.unit.depth + 1) if scope.unit else 1)[:50],
    }
    return render(request, "home.html", context)
