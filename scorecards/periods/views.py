"""The close board of a period (SPEC §5, per unit): /schemes/periods/<code>/, for admins.

Each branch's state and checklist (open compliance cases, missing manual scores, RMs
without a card, the age of the last import); approve one branch, several or all of those in
review (with open items only when the admin confirms, with a reason), or send one back with
a reason. Every write goes through scorecards.periods.services, as the API's do.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from scorecards.models import Period, PeriodStatus
from scorecards.periods import selectors as period_selectors
from scorecards.periods import services as period_services
from wealthscore.kernel.access import Action, require
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.typing import AuthedHttpRequest


def _context(request: AuthedHttpRequest, period: Period, **extra: Any) -> dict[str, Any]:
    states = period_selectors.unit_states(
        period=period, units=period_selectors.review_units(user=request.user)
    )
    last_import = period_selectors.last_import_at()
    age_hours = int((timezone.now() - last_import).total_seconds() // 3600) if last_import else None
    return {
        "period": period,
        "states": states,
        "in_review": [s for s in states if s.status == PeriodStatus.IN_REVIEW],
        "locked": [s for s in states if s.locked],
        "last_import_at": last_import,
        "last_import_hours": age_hours,
        "values": {},
        "error": "",
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def close_board(request: AuthedHttpRequest, code: str) -> HttpResponse:
    # Admins alone approve: for anyone else the page does not exist (404, SPEC §1).
    require(request.user, Action.APPROVE_PERIOD)
    period = period_selectors.period_get(user=request.user, code=code)
    if request.method == "GET":
        return render(request, "scorecards/close_board.html", _context(request, period))
    step = request.POST.get("action", "")
    if step not in {"approve", "send_back"}:
        raise Http404
    units = request.POST.getlist("unit")
    reason = request.POST.get("reason", "")
    confirm = request.POST.get("confirm") == "on"
    try:
        if not units:
            raise DomainError(_("Choose at least one branch."), field="unit")
        period_services.units_transition(
            period=period, unit_codes=units, action=step, actor=request.user, reason=reason,
            confirm=confirm,
        )  # fmt: skip
    except DomainError as error:
        context = _context(
            request, period, error=str(error.message), error_code=error.code,
            values={"unit": units, "reason": reason, "confirm": confirm, "action": step},
        )  # fmt: skip
        return render(request, "scorecards/close_board.html", context, status=error.status_code)
    done = {
        "approve": _("Approved for %(period)s: %(units)s."),
        "send_back": _("Sent back for %(period)s: %(units)s."),
    }
    messages.success(request, done[step] % {"period": period.code, "units": ", ".join(units)})
    return redirect("close-board", code=period.code)


urlpatterns = [
    path("schemes/periods/<str:code>/", close_board, name="close-board"),
]
