"""The RM's scorecard page (SPEC §8): /me/ (her own) and /cards/<employee_id>/ (any RM whose
cards the user may see: herself, her managers, HR, compliance, admins), with the facts
behind a line as an htmx partial.

The view only reads: the cards through `selectors.scorecard_list` and `card_selectors`, the
facts through `services.scorecard_line_facts` (which masks names and audits the drill-down).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_POST

from crm.models import ActivityType, ProductCategory
from scorecards.cards import selectors as card_selectors
from scorecards.cards import services as card_services
from scorecards.cards.api import ScorecardSerializer
from scorecards.cards.forecast import CardForecast, card_forecasts, facts_through
from scorecards.models import (
    Dimension,
    Inquiry,
    InquiryOutcome,
    InquiryStatus,
    Scorecard,
    ScoreLine,
)
from targets.models import User, scope_of
from targets.org import selectors as org_selectors
from wealthscore.kernel.access import Action, Role, may, require
from wealthscore.kernel.catalog import MEASURES, measure_name
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.formats import pct, score, yuan
from wealthscore.kernel.typing import AuthedHttpRequest

# ---------------------------------------------------------------- how a measure reads
MONEY = {"sales_attainment", "aum_net_growth", "strategic_sales", "fee_income"}
PERMILLE = {"complaint_rate"}
COUNT = {"education_events", "new_hnw_clients", "family_trust_clients"}
POINTS = {"nps", "client_points", "internal_policy", "collaboration", "mentoring"}


def _count(value: Decimal) -> str:
    return f"{value.normalize():,f}" if value == value.to_integral_value() else score(value)


def measure_value(code: str, value: Decimal | None) -> str:
    """A value or target as its measure reads: 元, %, ‰, a count or points."""
    if value is None:
        return "—"
    if code in MONEY:
        return yuan(value)
    if code in PERMILLE:
        return f"{score(value)}‰"
    if code in COUNT:
        return _count(value)
    if code in POINTS:
        return score(value)
    if MEASURES.get(code, ("", ""))[1] == "ratio":
        return pct(value)
    return score(value)


@dataclass
class LineRow:
    line: ScoreLine
    kpi_name: str
    name: str
    value: str
    target: str
    dimension: str
    inquiry: Inquiry | None = None  # the line's latest inquiry (SPEC §8)
    forecast: dict[str, str] | None = None  # a running period's flow line: pace, projection

    @property
    def bonus(self) -> bool:
        return self.line.method == "bonus"


# ---------------------------------------------------------------- the page
@login_required
@require_GET
def me(request: AuthedHttpRequest) -> HttpResponse:
    """The logged-in RM's own card; a page only RMs with a staff record have."""
    scope = scope_of(request.user)
    if scope.role != Role.RM or scope.employee is None:
        raise Http404
    return _card_page(request, scope.employee.employee_id, own=True)


@login_required
@require_GET
def card(request: AuthedHttpRequest, employee_id: str) -> HttpResponse:
    return _card_page(request, employee_id, own=False)


def _missing_scheme(user: User) -> dict[str, Any]:
    """No card and no scheme to score one with: what is missing, who adds it, where."""
    admin = scope_of(user).role == Role.ADMIN
    return {
        "kind": "scheme",
        "what": _(
            "No published scoring scheme is in force today, so no scorecard can be computed."
        ),
        "who": _("An administrator publishes a scheme (KPIs and weights) on the schemes page."),
        "link": reverse("schemes") if admin else "",
        "link_label": _("Open the schemes page"),
    }


def _card_page(request: AuthedHttpRequest, employee_id: str, *, own: bool) -> HttpResponse:
    user = request.user
    periods = card_selectors.card_periods(user=user, employee_id=employee_id)
    if periods:
        newest = periods[0]
        person = {
            "employee_id": newest.employee_id,
            "name": newest.employee_name,
            "unit_code": newest.unit_code,
            "unit_name": newest.unit_name,
        }
    else:  # an RM in scope who has no card yet; anyone else does not exist here
        employee = org_selectors.employee_get(user=user, employee_id=employee_id)
        if not own and employee.position != Role.RM:
            raise Http404
        person = {
            "employee_id": employee.employee_id,
            "name": employee.name,
            "unit_code": employee.unit_today_code or "",
            "unit_name": employee.unit_today_name or "",
        }

    requested = request.GET.get("period", "").strip()
    as_of = facts_through()  # the last day with facts: what is running, what is complete
    code = requested or card_selectors.default_period(periods, through=as_of)
    scorecard: Scorecard | None = None
    if code and any(p.code == code for p in periods):
        cards = card_selectors.scorecard_list(user=user, period=code, employee_id=employee_id)
        scorecard = cards.first()

    context: dict[str, Any] = {
        "own": own,
        "person": person,
        "period_groups": _period_groups(periods),
        "period_code": code or "",
        "requested": requested,
        "card": scorecard,
        "show_why": scope_of(user).role != Role.HR,  # HR sees no client-level data
        "back_to_team": may(user, Action.TEAM),
        "missing_config": _missing_scheme(user)
        if scorecard is None and card_selectors.scheme_missing_on(timezone.localdate())
        else None,
    }
    if scorecard is not None:
        context.update(_card_context(request, scorecard, as_of))
    return render(request, "scorecards/card.html", context)


def _period_groups(periods: list[card_selectors.CardPeriod]) -> list[tuple[str, list]]:
    """The picker's option groups: quarters (the assessment), months, years; newest first."""
    labels = {"quarter": _("Quarters"), "month": _("Months"), "year": _("Years")}
    return [
        (label, [p for p in periods if p.kind == kind])
        for kind, label in labels.items()
        if any(p.kind == kind for p in periods)
    ]


def _card_context(
    request: AuthedHttpRequest, card: Scorecard, as_of: dt.date | None
) -> dict[str, Any]:
    lines = list(card.lines.all())
    # A running period's card: to date, its pace and its projection (None when complete).
    forecast = card_forecasts([card], as_of=as_of).get(card.pk)
    # Each line's latest inquiry, newest last so that it wins (one query).
    inquiries = {
        inquiry.measure: inquiry
        for inquiry in card_selectors.inquiry_list(
            user=request.user, period=card.run.period.code,
            employee_id=card.employee.employee_id,
        ).order_by("raised_at", "id")
    }  # fmt: skip
    names = card_selectors.kpi_names(version_id=card.run.version_id)
    dimensions = dict(Dimension.choices)
    rows = [
        LineRow(
            line=line,
            kpi_name=names.get(line.kpi, line.kpi),
            name=measure_name(line.measure),
            value=measure_value(line.measure, line.value),
            target=measure_value(line.measure, line.target),
            dimension=str(dimensions.get(line.dimension, line.dimension)),
            inquiry=inquiries.get(line.measure),
            forecast=_line_forecast(line, forecast),
        )
        for line in lines
    ]
    period = card.run.period
    trend = card_selectors.monthly_totals(
        user=request.user, employee_id=card.employee.employee_id, last_day=period.last_day
    )
    shares = card_selectors.dimension_shares(lines)
    charts = {
        "trend": {
            "title": _("Monthly totals, 12 months to %(period)s") % {"period": period.code},
            "months": [month for month, _total, _vetoed in trend],
            "totals": [None if total is None else str(total) for _m, total, _v in trend],
            "vetoed": [vetoed for _m, _t, vetoed in trend],
            "series": _("Total"),
            "vetoed_label": _("Vetoed"),
            "bands": [str(card.run.version.rating_c), str(card.run.version.rating_a)],
            "empty": _("No month card in these 12 months."),
        },
        "radar": {
            "title": _("Share of each dimension's weight earned (%)"),
            "series": _("Dimensions"),
            "indicators": [str(dimensions[code]) for code, _share in shares],
            "values": [None if share is None else f"{share:.2f}" for _code, share in shares],
            "na": _("n/a"),
        },
    }
    year = None
    if period.kind == "year":
        version = card.run.version
        year = {
            "quarters_mean": card.quarters_mean,
            "quarters_counted": card.quarters_counted,
            "annual_review": ScorecardSerializer().get_annual_review(card),
            "quarter_share": version.quarter_share,
            "review_share": version.review_share,
        }
    # The inquiry form is the RM's own (her /me/ page): only she needs its window.
    own = scope_of(request.user).employee == card.employee
    window = (
        card_services.inquiry_window_closes(period, card.run.version.inquiry_days) if own else None
    )
    return {
        "rows": rows,
        "vetoes": card_selectors.card_vetoes(user=request.user, cards=[card]).get(card.pk, []),
        "inquiry_closes": window,
        "inquiry_open": window is None or timezone.now() <= window,
        "period": period,
        "year": year,
        "charts": charts,
        "dimension_shares": [(str(dimensions[code]), share) for code, share in shares],
        "bonus": card.bonus if card.bonus else None,
        "forecast": forecast,
    }


def _line_forecast(line: ScoreLine, forecast: CardForecast | None) -> dict[str, str] | None:
    """A flow line's pace and projection as the page shows them (None: not a running flow
    line)."""
    found = None if forecast is None else forecast.lines.get(line.measure)
    if found is None:
        return None
    low, high = found.projected_low, found.projected_high
    return {
        "pace": "—" if found.pace is None else pct(found.pace),
        "due": measure_value(line.measure, found.target_to_date),
        "projected": measure_value(line.measure, found.projected_value),
        "range": ""
        if low is None or high is None
        else f"{measure_value(line.measure, low)} – {measure_value(line.measure, high)}",
    }


# ---------------------------------------------------------------- the facts of a line
FACT_COLUMNS = {
    "txn_id": gettext_lazy("Transaction"),
    "txn_date": gettext_lazy("Date"),
    "date": gettext_lazy("Date"),
    "client_id": gettext_lazy("Client ID"),
    "client_name": gettext_lazy("Client"),
    "product_code": gettext_lazy("Product"),
    "product_risk": gettext_lazy("Product risk"),
    "client_risk": gettext_lazy("Client risk"),
    "strategic_tag": gettext_lazy("Strategic tag"),
    "amount": gettext_lazy("Amount"),
    "fee_income": gettext_lazy("Fee income"),
    "keyed_by": gettext_lazy("Keyed by"),
    "balance_end": gettext_lazy("Balance at end"),
    "balance_start": gettext_lazy("Balance at start"),
    "response_id": gettext_lazy("Response"),
    "nps_score": gettext_lazy("NPS score"),
    "activity_id": gettext_lazy("Activity"),
    "activity_type": gettext_lazy("Type"),
    "check_id": gettext_lazy("Check"),
    "compliant": gettext_lazy("Compliant"),
    "complaint_id": gettext_lazy("Complaint"),
    "resolved_date": gettext_lazy("Resolved on"),
    "period": gettext_lazy("Period"),
    "score": gettext_lazy("Score"),
    "comment": gettext_lazy("Comment"),
    "entered_at": gettext_lazy("Entered at"),
    "product_name": gettext_lazy("Product name"),
    "matched": gettext_lazy("Matched"),
    "balance_change": gettext_lazy("Change"),
    "both_ends": gettext_lazy("At both ends"),
    "tier": gettext_lazy("Tier"),
    "new_hnw": gettext_lazy("New HNW"),
    "holds_trust": gettext_lazy("Holds a trust"),
    "points": gettext_lazy("Client points"),
    "non_deposit_categories": gettext_lazy("Non-deposit categories"),
    "categories": gettext_lazy("Categories held"),
    "cross_sold": gettext_lazy("Counts"),
    "visits": gettext_lazy("Visits"),
    "covered": gettext_lazy("Covered"),
    "last_sale_before": gettext_lazy("Last sale before"),
    "activating_txn_id": gettext_lazy("Activating sale"),
    "activating_date": gettext_lazy("Activated on"),
    "activated": gettext_lazy("Activated"),
    "nps_group": gettext_lazy("Group"),
    "category": gettext_lazy("Category"),
    "days_to_close": gettext_lazy("Days to close"),
    "closed_in_time": gettext_lazy("Closed within 15 days"),
}
# The facts' yes/no columns, and the words of their coded ones.
FACT_FLAGS = {"compliant", "matched", "both_ends", "new_hnw", "holds_trust", "cross_sold",
              "covered", "activated", "closed_in_time"}  # fmt: skip
FACT_CODES = {
    "tier": {"hnw": gettext_lazy("HNW"), "affluent": gettext_lazy("Affluent"),
             "mass": gettext_lazy("Mass")},
    "nps_group": {"promoter": gettext_lazy("Promoter"), "passive": gettext_lazy("Passive"),
                  "detractor": gettext_lazy("Detractor")},
}  # fmt: skip
STRATEGIC_TAGS = {
    "fixed_income_plus": gettext_lazy("Fixed income plus (固收+)"),
    "pension": gettext_lazy("Pension (养老)"),
}
FACT_MONEY = {"amount", "fee_income", "balance_end", "balance_start", "balance_change"}
FACT_NUMBERS = FACT_MONEY | {"score", "nps_score", "points", "non_deposit_categories", "visits",
                             "days_to_close"}  # fmt: skip


def _fact_header(kind: str, column: str) -> str:
    # A complaint's date is the day it was received (complaint_rate and _resolution count
    # from it); every other kind's date is simply its day.
    if kind == "complaints" and column == "date":
        return _("Received on")
    return str(FACT_COLUMNS.get(column, column.replace("_", " ")))


def _fact_cell(column: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if column in FACT_MONEY:
        return yuan(value)
    if column == "score":
        return score(value)
    if column == "product_risk":
        return f"R{value}"
    if column == "client_risk":
        return f"C{value}"
    if column in FACT_FLAGS:
        return _("Yes") if value in (True, 1, "1", "t", "true") else _("No")
    if column in FACT_CODES:
        return str(FACT_CODES[column].get(value, value))
    if column == "categories":
        names = dict(ProductCategory.choices)
        separator = pgettext("between the items of a list", ", ")
        return separator.join(str(names.get(c, c)) for c in value) if value else "—"
    if column == "strategic_tag":
        return str(STRATEGIC_TAGS.get(value, value))
    if column == "activity_type":
        return str(dict(ActivityType.choices).get(value, value))
    if column == "entered_at" and hasattr(value, "astimezone"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


@login_required
@require_GET
def card_facts(request: AuthedHttpRequest, card_id: int, measure: str) -> HttpResponse:
    """The facts behind one line: an HTML fragment for the card page's facts panel."""
    card = card_selectors.scorecard_get(user=request.user, card_id=card_id)
    facts = card_services.scorecard_line_facts(card=card, measure=measure, actor=request.user)
    rows = facts.get("rows", [])
    # Columns no row fills (no client behind a recording check) are left out.
    columns = [
        c for c in (rows[0] if rows else []) if any(r.get(c) not in (None, "") for r in rows)
    ]
    context = {
        "card": card,
        "measure": measure,
        "measure_name": measure_name(measure),
        "facts": facts,
        "count": facts.get("count", len(rows)),
        "window": str(facts.get("window", "")).replace("..", " – "),
        "headers": [(_fact_header(facts.get("kind", ""), c), c in FACT_NUMBERS) for c in columns],
        "rows": [[(_fact_cell(c, row.get(c)), c in FACT_NUMBERS) for c in columns] for row in rows],
    }
    return render(request, "scorecards/card_facts.html", context)


@login_required
@require_POST
def inquiry_raise(request: AuthedHttpRequest) -> HttpResponse:
    """The RM's question on a line of her card (/me/): raised, or refused with the reason."""
    period = request.POST.get("period", "")
    try:
        card_services.inquiry_raise(
            actor=request.user, period_code=period, measure=request.POST.get("measure", ""),
            text=request.POST.get("text", ""), attachment=request.FILES.get("attachment"),
        )  # fmt: skip
    except DomainError as refused:
        messages.error(request, str(refused.message))
    else:
        messages.success(request, _("Your inquiry was sent: its answer will show on the line."))
    return HttpResponseRedirect(reverse("me") + "?" + urlencode({"period": period}))


@login_required
@require_GET
def inquiries_page(request: AuthedHttpRequest) -> HttpResponse:
    """The inquiries the user answers (her subtree's, or all for compliance and admins),
    open ones first; 404 for anyone who does not answer them."""
    require(request.user, Action.ANSWER_INQUIRIES)
    status = request.GET.get("status", InquiryStatus.OPEN)
    status = status if status in InquiryStatus.values or status == "all" else InquiryStatus.OPEN
    inquiries = card_selectors.inquiry_list(
        user=request.user, status=None if status == "all" else status
    ).order_by("raised_at", "id")
    page = Paginator(inquiries, 50).get_page(request.GET.get("page"))
    rows = [(inquiry, measure_name(inquiry.measure)) for inquiry in page.object_list]
    context = {"page": page, "rows": rows, "status": status,
               "statuses": InquiryStatus.choices,
               "outcomes": [o for o in InquiryOutcome.choices if o[0]]}  # fmt: skip
    return render(request, "scorecards/inquiries.html", context)


@login_required
@require_POST
def inquiry_answer(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    require(request.user, Action.ANSWER_INQUIRIES)
    inquiry = card_selectors.inquiry_get(user=request.user, inquiry_id=pk)
    try:
        card_services.inquiry_answer(
            actor=request.user, inquiry=inquiry,
            accepted=request.POST.get("accepted") == "yes",
            answer=request.POST.get("answer", ""), outcome=request.POST.get("outcome", ""),
        )  # fmt: skip
    except DomainError as refused:
        messages.error(request, f"#{pk}: {refused.message}")
    else:
        messages.success(request, _("Inquiry #%(id)s answered.") % {"id": pk})
    return HttpResponseRedirect(reverse("inquiries"))


urlpatterns = [
    path("me/", me, name="me"),
    path("me/inquiries/", inquiry_raise, name="inquiry-raise"),
    path("inquiries/", inquiries_page, name="inquiries"),
    path("inquiries/<int:pk>/answer/", inquiry_answer, name="inquiry-answer"),
    path("cards/<str:employee_id>/", card, name="card"),
    path("cards/<int:card_id>/lines/<str:measure>/facts/", card_facts, name="card-facts"),
]
