"""The manager's team dashboard (SPEC §8): /team/.

Managers see their subtree, admins the whole bank (or any unit with ?unit=); anyone else
gets a 404. The page reads through `team_selectors` and writes through two services: the
manual score (`manual_services.manual_score_enter`) and the submission of the period for
approval (`services.period_transition`). A refused write re-renders the page with what was
typed and the error beside its field, with the status the error says (400 / 409).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path
from django.utils import translation
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from scorecards.cards import selectors as card_selectors
from scorecards.cards.services import GridRefused, manual_score_enter, manual_scores_save
from scorecards.models import Period, PeriodStatus, Rating
from scorecards.periods import selectors as period_selectors
from scorecards.periods import services as period_services
from scorecards.rules import manual_measures_in_force
from scorecards.runs import selectors as run_selectors
from scorecards.team import selectors as team_selectors
from targets.models import OrgUnit, scope_of
from targets.org import selectors as org_selectors
from wealthscore.kernel.access import Role
from wealthscore.kernel.catalog import measure_name
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.formats import score as score_text
from wealthscore.kernel.periods import parse_period, quarter_of, quarters_of
from wealthscore.kernel.typing import AuthedHttpRequest

KIND_LABELS = {
    "month": gettext_lazy("Months"),
    "quarter": gettext_lazy("Quarters"),
    "year": gettext_lazy("Years"),
}
MANUAL_FIELDS = ("period", "employee", "measure", "score", "comment")


def _chinese() -> bool:
    return (translation.get_language() or "").startswith("zh")


def _unit_code(params: QueryDict) -> str | None:
    return (params.get("unit") or "").strip() or None


def _page_period(
    request: AuthedHttpRequest, code: str | None, periods: list[Period]
) -> Period | None:
    """The period asked for (404 when the user may not see it), else the default one."""
    if code:
        return next((p for p in periods if p.code == code), None) or period_selectors.period_get(
            user=request.user, code=code
        )
    return team_selectors.default_period(periods)


def _team_url(period: str | None, unit: str | None) -> str:
    query = {key: value for key, value in (("period", period), ("unit", unit)) if value}
    return "/team/" + (f"?{urlencode(query)}" if query else "")


def _period_groups(periods: list[Period]) -> list[tuple[str, list[Period]]]:
    groups: dict[str, list[Period]] = {"month": [], "quarter": [], "year": []}
    for period in periods:
        groups.setdefault(period.kind, []).append(period)
    return [(str(KIND_LABELS.get(kind, kind)), items) for kind, items in groups.items() if items]


def _chart_data(board: team_selectors.TeamDashboard) -> dict[str, Any]:
    """What team.js draws: the distribution and the heat map, labels already translated."""
    names = [measure_name(code) for code in board.measures]
    cells = []
    for y, row in enumerate(board.rows):
        points = board.points.get(row.employee_id, {})
        for x, code in enumerate(board.measures):
            value = points.get(code)
            cells.append([x, y, None if value is None else float(round(value, 2))])
    return {
        "distribution": {
            "bands": [label for label, _n, _v in board.distribution],
            "counts": [n for _label, n, _v in board.distribution],
            "vetoed": [v for _label, _n, v in board.distribution],
            "series": _("RMs"),
            "series_vetoed": _("RMs vetoed"),
            "x_name": _("Total"),
            "y_name": _("RMs"),
            "empty": _("No total to show"),
        },
        "heatmap": {
            "measures": board.measures,
            "measure_names": names,
            "rms": [row.employee_id for row in board.rows],
            "rm_names": [f"{row.name} {row.employee_id}" for row in board.rows],
            "cells": cells,
            "points": _("Points"),
            "not_applicable": _("not applicable"),
            "empty": _("No line to show"),
        },
    }


def _context(
    request: AuthedHttpRequest,
    *,
    period_code: str | None,
    unit_code: str | None,
    manual: dict[str, Any] | None = None,
    submit_error: str = "",
) -> dict[str, Any]:
    user = request.user
    unit = team_selectors.team_unit(user=user, code=unit_code)
    periods = team_selectors.team_periods(user=user)
    period = _page_period(request, period_code, periods)
    scope = scope_of(user)
    context: dict[str, Any] = {
        "unit": unit,
        "unit_code": unit.code if unit is not None and unit_code else "",
        "units": team_selectors.team_units(user=user),
        "whole_bank": unit is None,
        "period": period,
        "period_groups": _period_groups(periods),
        "board": None,
        "manual": manual or {"values": {}, "errors": {}, "error": ""},
        "submit_error": submit_error,
        "is_admin": scope.role == Role.ADMIN,
    }
    if period is None:
        return context
    # The board (table, charts, heat map) changes only when a score run is published: it is
    # computed on a cache miss only, and its HTML fragments are cached under a key made of
    # the runs it reads (templates/scorecards/team.html, {% cache %}).
    team_board = SimpleLazyObject(lambda: _board(user, unit, period, periods))
    type_name = "type_name" if _chinese() else "type_name_en"
    warnings = [
        {
            "employee_id": employee_id,
            "name": name,
            "items": [{"incident": item, "label": getattr(item, type_name)} for item in items],
        }
        for employee_id, name, items in team_selectors.team_warnings(user=user, unit=unit)
    ]
    # The branches' review states (no checklist: that is the admin's close board).
    states = period_selectors.unit_states(
        period=period, units=period_selectors.review_units(user=user), checklists=False
    )
    manual_codes = card_selectors.manual_periods(period.code)
    measures = manual_measures_in_force(period.last_day)
    values = context["manual"]["values"]
    values.setdefault("period", manual_codes[-1] if period.kind == "year" else manual_codes[0])
    context.update(
        team=team_board,
        board_key=_board_key(user, unit, period, periods),
        warnings=warnings,
        warning_count=sum(len(w["items"]) for w in warnings),
        manual_periods=manual_codes,
        manual_measures=[(code, measure_name(code)) for code in measures],
        manual_rms=team_selectors.team_rms(user=user, unit=unit),
        unit_states=states,
        can_submit=any(
            state.status == PeriodStatus.OPEN and period_selectors.may_submit(user, state.unit)
            for state in states
        ),
    )
    return context


def _board(user, unit: OrgUnit | None, period: Period, periods: list[Period]) -> dict[str, Any]:
    board = team_selectors.team_dashboard(user=user, unit=unit, period=period, periods=periods)
    rating_labels = dict(Rating.choices)
    rows = [
        {
            "row": row,
            "rating_label": rating_labels.get(row.rating, ""),
            "flags": [
                {
                    "kind": flag.kind,
                    "measure": flag.measure,
                    "label": _("%(measure)s falling") % {"measure": measure_name(flag.measure)}
                    if flag.kind == "falling"
                    else _("AUM stalled"),
                }
                for flag in row.flags
            ],
        }
        for row in board.rows
    ]
    return {
        "board": board,
        "rows": rows,
        "chart_data": _chart_data(board),
        # One row of the heat map per RM, scrolled by the chart itself past ~25 rows.
        "heatmap_height": min(max(260, 26 * len(board.rows) + 120), 780),
        "mean_text": score_text(board.mean_total),
    }


def _board_key(user, unit: OrgUnit | None, period: Period, periods: list[Period]) -> str:
    """What the board depends on: whose subtree, which unit and period, the current runs of
    the periods of its kind (the change and the flags read the two before), the language."""
    runs = "-".join(str(p.current_run_id) for p in periods if p.kind == period.kind)
    scope = scope_of(user)
    return ":".join([
        translation.get_language() or "", str(scope.role), str(scope.unit.pk if scope.unit else ""),
        str(unit.pk if unit else "bank"), period.code, str(period.current_run_id), runs,
    ])  # fmt: skip


@login_required
@require_GET
def team(request: AuthedHttpRequest) -> HttpResponse:
    context = _context(
        request, period_code=request.GET.get("period") or None, unit_code=_unit_code(request.GET)
    )
    return render(request, "scorecards/team.html", context)


def _manual_error(field: str, message: str) -> DomainError:
    return DomainError(message, field=field)


@login_required
@require_POST
def team_manual_score(request: AuthedHttpRequest) -> HttpResponse:
    post = request.POST
    values = {name: post.get(name, "") for name in MANUAL_FIELDS}
    period_code, unit_code = post.get("page_period") or None, _unit_code(post)
    unit = team_selectors.team_unit(user=request.user, code=unit_code)  # 404 outside the roles
    try:
        employee = (
            org_selectors.employee_list(user=request.user, unit=unit)
            .filter(employee_id=values["employee"].strip(), position=Role.RM)
            .first()
        )
        if employee is None:
            raise _manual_error("employee", _("Choose a relationship manager of the team."))
        if not values["measure"]:
            raise _manual_error("measure", _("Choose a measure."))
        try:
            score = Decimal(values["score"].strip().replace(",", ""))
        except InvalidOperation:
            raise _manual_error("score", _("A score is a number from 0 to 100.")) from None
        row = manual_score_enter(
            actor=request.user,
            employee=employee,
            period=values["period"],
            measure=values["measure"],
            score=score,
            comment=values["comment"],
        )
    except DomainError as error:
        field = error.field if error.field in MANUAL_FIELDS else None
        manual = {
            "values": values,
            "errors": {field: str(error.message)} if field else {},
            "error": "" if field else str(error.message),
        }
        context = _context(request, period_code=period_code, unit_code=unit_code, manual=manual)
        return render(request, "scorecards/team.html", context, status=error.status_code)
    messages.success(
        request,
        _("Saved %(score)s for %(name)s, %(measure)s, %(period)s. The open periods it changes "
          "are being recomputed.")
        % {"score": score_text(row.score), "name": employee.name,
           "measure": measure_name(row.measure), "period": row.period},
    )  # fmt: skip
    return HttpResponseRedirect(_team_url(period_code, unit_code))


@login_required
@require_POST
def team_submit(request: AuthedHttpRequest) -> HttpResponse:
    period_code, unit_code = request.POST.get("period") or "", _unit_code(request.POST)
    team_selectors.team_unit(user=request.user, code=unit_code)  # 404 outside the roles
    if not period_code:
        raise Http404
    period = period_selectors.period_get(user=request.user, code=period_code)
    try:
        if request.POST.get("confirm") != "on":
            raise DomainError(
                _("Tick the box to confirm that your branch's scores are ready for approval."),
                field="confirm",
            )
        period_services.period_transition(period=period, action="submit", actor=request.user)
    except DomainError as error:
        context = _context(
            request, period_code=period_code, unit_code=unit_code, submit_error=str(error.message)
        )
        return render(request, "scorecards/team.html", context, status=error.status_code)
    messages.success(
        request,
        _("Your branch's cards of %(period)s were submitted for approval.")
        % {"period": period.code},
    )
    return HttpResponseRedirect(_team_url(period_code, unit_code))


@login_required
@require_GET
def manual_score_current(request: AuthedHttpRequest) -> HttpResponse:
    """What the one-score form would overwrite (htmx, as its selects change)."""
    team_selectors.team_unit(user=request.user, code=None)  # 404 outside the roles
    current = team_selectors.manual_current(
        user=request.user, employee_id=request.GET.get("employee", ""),
        measure=request.GET.get("measure", ""), period=request.GET.get("period", ""),
    )  # fmt: skip
    return render(request, "scorecards/_manual_current.html", {"current": current})


# ---------------------------------------------------------------- a recompute's progress
@login_required
@require_GET
def recompute_status(request: AuthedHttpRequest) -> HttpResponse:
    """The state of the user's last recompute, polled by htmx while it runs; once it is
    done, the page that saw it running reloads to show the new numbers (HX-Refresh)."""
    state = run_selectors.my_recompute(user=request.user)
    was_running = request.GET.get("was") == "running"
    response = render(request, "scorecards/_recompute_status.html",
                      {"state": state, "was_running": was_running})  # fmt: skip
    if was_running and state is not None and state.status == "done":
        response["HX-Refresh"] = "true"
    return response


# ---------------------------------------------------------------- the manual-score grid
CELL = "cell:"  # a grid input's name: "cell:<employee ID>:<measure>"


def _grid_context(
    request: AuthedHttpRequest,
    *,
    period_code: str,
    unit_code: str | None,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
) -> dict[str, Any]:
    user = request.user
    unit = team_selectors.team_unit(user=user, code=unit_code)
    parsed = parse_period(period_code)
    if parsed.kind == "month":  # a month's manual scores are its quarter's
        parsed = quarter_of(parsed)
    measures = manual_measures_in_force(parsed.last_day)
    rows = team_selectors.manual_grid(user=user, unit=unit, period=parsed.code,
                                      measures=measures)  # fmt: skip
    typed, errors = typed or {}, errors or {}
    table = [
        {
            "employee_id": row.employee_id,
            "name": row.name,
            "cells": [
                {
                    "name": f"{CELL}{row.employee_id}:{measure}",
                    "measure": measure,
                    "original": cell.value,
                    "value": typed.get(f"{row.employee_id}/{measure}", cell.value),
                    "entered_by": cell.entered_by,
                    "entered_at": cell.entered_at,
                    "error": errors.get(f"{row.employee_id}/{measure}", ""),
                }
                for measure, cell in row.cells
            ],
        }
        for row in rows
    ]
    return {
        "unit": unit,
        "unit_code": unit.code if unit is not None and unit_code else "",
        "units": team_selectors.team_units(user=user),
        "period": parsed,
        "choices": [q.code for q in quarters_of(parsed.year)] + [str(parsed.year)],
        "measures": [(code, measure_name(code)) for code in measures],
        "rows": table,
        "error": error,
        "error_count": len(errors),
    }


@login_required
@require_http_methods(["GET", "POST"])
def team_manual_grid(request: AuthedHttpRequest) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    period_code = (params.get("period") or "").strip()
    unit_code = _unit_code(params)
    team_selectors.team_unit(user=request.user, code=unit_code)  # 404 outside the roles
    try:
        parse_period(period_code)
    except DomainError:
        raise Http404 from None
    if request.method == "GET":
        context = _grid_context(request, period_code=period_code, unit_code=unit_code)
        return render(request, "scorecards/manual_grid.html", context)
    cells: dict[tuple[str, str], str] = {}
    for name in request.POST:
        if name.startswith(CELL) and name.count(":") == 2:
            employee_id, measure = name[len(CELL) :].split(":", 1)
            cells[(employee_id, measure)] = request.POST.get(name, "")
    # What the page showed (a hidden "was:" field a cell): only what was changed is saved.
    changed = {
        key: value
        for key, value in cells.items()
        if value.strip() != request.POST.get(f"was:{key[0]}:{key[1]}", "").strip()
    }
    typed = {f"{e}/{m}": v for (e, m), v in cells.items()}
    try:
        saved = manual_scores_save(actor=request.user, period=period_code, cells=changed)
    except GridRefused as refused:
        context = _grid_context(
            request, period_code=period_code, unit_code=unit_code, typed=typed,
            errors=refused.cells, error=str(refused.message),
        )  # fmt: skip
        return render(request, "scorecards/manual_grid.html", context, status=400)
    except DomainError as refused:
        context = _grid_context(
            request, period_code=period_code, unit_code=unit_code, typed=typed,
            error=str(refused.message),
        )  # fmt: skip
        return render(request, "scorecards/manual_grid.html", context, status=refused.status_code)
    if saved:
        messages.success(
            request,
            _("%(n)s score(s) saved for %(period)s. The open periods they change are being "
              "recomputed.") % {"n": saved, "period": period_code},
        )  # fmt: skip
    else:
        messages.info(request, _("No score was changed: nothing to save."))
    query = {key: value for key, value in (("period", period_code), ("unit", unit_code)) if value}
    return HttpResponseRedirect("/team/manual-scores/?" + urlencode(query))


urlpatterns = [
    path("team/", team, name="team"),
    path("team/manual-score/", team_manual_score, name="team-manual-score"),
    path("team/submit/", team_submit, name="team-submit"),
    path("team/manual-scores/", team_manual_grid, name="team-manual-grid"),
    path("team/recompute-status/", recompute_status, name="recompute-status"),
    path("team/manual-score/current/", manual_score_current, name="manual-score-current"),
]
