"""Reads of periods: the periods, and the close board of one (SPEC §5, per unit): each
branch's review state and the checklist an admin reads before approving it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Max, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from scorecards.models import (
    Inquiry,
    InquiryStatus,
    ManualScore,
    Period,
    PeriodStatus,
    PeriodUnit,
    Scorecard,
)
from scorecards.rules import manual_measures_in_force
from targets.models import BRANCH_DEPTH, OrgUnit, UnitMembership, User, branch_code_of, scope_of
from wealthscore.kernel.access import Role
from wealthscore.kernel.periods import parse_period, quarter_of

LOCKED = frozenset({PeriodStatus.IN_REVIEW, PeriodStatus.APPROVED})


def period_list(*, user: User) -> QuerySet[Period]:
    return Period.objects.visible_to(user).select_related("current_run", "changed_by")


def period_get(*, user: User, code: str) -> Period:
    period = period_list(user=user).filter(code=code).first()
    if period is None:
        raise Http404
    return period


# ---------------------------------------------------------------- the branches of a user
def review_units(*, user: User) -> QuerySet[OrgUnit]:
    """The branches whose review state the user sees: every branch for the roles that see
    the bank; for a manager, the branches of her subtree, or the one her sub-branch is in
    (she works inside it and sees its state, SPEC §5); none for anyone else."""
    branches = OrgUnit.objects.filter(depth=BRANCH_DEPTH)
    scope = scope_of(user)
    if scope.org_wide:
        return branches
    if scope.role != Role.MANAGER or scope.unit is None:
        return branches.none()
    own = branch_code_of(scope.unit.path)
    return branches.filter(Q(path__startswith=scope.unit.path) | Q(code=own))


def submittable_units(*, user: User) -> QuerySet[OrgUnit]:
    """The branches the user may submit (`may_submit`)."""
    scope = scope_of(user)
    branches = OrgUnit.objects.filter(depth=BRANCH_DEPTH)
    if scope.role == Role.ADMIN:
        return branches
    if scope.role == Role.MANAGER and scope.unit is not None:
        return branches.filter(path__startswith=scope.unit.path)
    return branches.none()


def may_submit(user: User, unit: OrgUnit) -> bool:
    """Whether the user submits `unit` (a branch): a manager those of her subtree (a
    sub-branch manager none: her branch's manager submits it), an admin every one. The same
    rule as `submittable_units`, for a branch already read."""
    scope = scope_of(user)
    if scope.role == Role.ADMIN:
        return True
    return (
        scope.role == Role.MANAGER
        and scope.unit is not None
        and unit.path.startswith(scope.unit.path)
    )


# ---------------------------------------------------------------- the close board
@dataclass(frozen=True)
class Checklist:
    """What is still open in one branch for one period (SPEC §5 before approving)."""

    open_incidents: int
    missing_manual_scores: int
    rms_without_card: int
    rms: int
    open_inquiries: int = 0

    def open_items(self) -> list[str]:
        items = []
        if self.open_incidents:
            items.append(_("%(n)s open compliance case(s)") % {"n": self.open_incidents})
        if self.missing_manual_scores:
            items.append(_("%(n)s missing manual score(s)") % {"n": self.missing_manual_scores})
        if self.rms_without_card:
            items.append(_("%(n)s RM(s) without a card") % {"n": self.rms_without_card})
        if self.open_inquiries:
            items.append(_("%(n)s open inquiry(ies)") % {"n": self.open_inquiries})
        return items


@dataclass(frozen=True)
class UnitState:
    unit: OrgUnit
    status: str
    changed_by: str
    changed_at: dt.datetime | None
    reason: str
    checklist: Checklist

    @property
    def locked(self) -> bool:
        return self.status in LOCKED

    def get_status_display(self) -> str:
        return str(PeriodStatus(self.status).label)


NO_CHECKLIST = Checklist(open_incidents=0, missing_manual_scores=0, rms_without_card=0, rms=0)


def unit_states(
    *, period: Period, units: QuerySet[OrgUnit], checklists: bool = True
) -> list[UnitState]:
    """The state (and, unless told not to, the checklist) of each of `units` for `period`,
    in tree order: a fixed number of queries, whatever the number of units and RMs."""
    branches = list(units.order_by("path"))
    rows = {
        row.unit_id: row
        for row in PeriodUnit.objects.filter(period=period, unit__in=branches).select_related(
            "changed_by"
        )
    }
    lists = (
        _checklists(period, [b.code for b in branches])
        if checklists
        else dict.fromkeys((b.code for b in branches), NO_CHECKLIST)
    )
    states = []
    for branch in branches:
        row = rows.get(branch.pk)
        states.append(
            UnitState(
                unit=branch,
                status=row.status if row else PeriodStatus.OPEN,
                changed_by=row.changed_by.username if row and row.changed_by else "",
                changed_at=row.changed_at if row else None,
                reason=row.reason if row else "",
                checklist=lists[branch.code],
            )
        )
    return states


def unit_state(*, user: User, period: Period, unit_code: str) -> UnitState:
    """One branch's state, for a user who sees it (404 otherwise)."""
    units = review_units(user=user).filter(code=unit_code)
    states = unit_states(period=period, units=units)
    if not states:
        raise Http404
    return states[0]


def _checklists(period: Period, branch_codes: list[str]) -> dict[str, Checklist]:
    from compliance.models import Incident, IncidentStatus

    day = period.last_day
    # The RMs of each branch on the period's last day: whose cards the branch's are.
    rms = list(
        UnitMembership.objects.on(day)
        .filter(employee__position=Role.RM)
        .values_list("employee_id", "unit__path")
    )
    branch_of_rm = {employee: branch_code_of(path) for employee, path in rms}
    counted = Counter(branch_of_rm.values())
    carded = set(
        Scorecard.objects.filter(run_id=period.current_run_id).values_list("employee_id", flat=True)
        if period.current_run_id
        else []
    )
    without_card = Counter(b for e, b in branch_of_rm.items() if e not in carded)
    incidents = Counter(
        branch_code_of(path)
        for path in Incident.objects.filter(
            status=IncidentStatus.OPEN, occurred_on__range=(period.first_day, period.last_day)
        ).values_list("unit__path", flat=True)
    )
    inquiries = Counter(
        branch_code_of(path)
        for path in Inquiry.objects.filter(period=period, status=InquiryStatus.OPEN).values_list(
            "unit__path", flat=True
        )
    )
    missing: Counter[str] = Counter()
    # A month's cards take the manual scores of its quarter.
    code = quarter_of(parse_period(period.code)).code if period.kind == "month" else period.code
    measures = manual_measures_in_force(day)
    if measures:
        entered = Counter(
            ManualScore.objects.filter(
                period=code, measure__in=measures, employee_id__in=list(branch_of_rm)
            ).values_list("employee_id", flat=True)
        )
        for employee, branch in branch_of_rm.items():
            missing[branch] += len(measures) - min(entered[employee], len(measures))
    return {
        code: Checklist(
            open_incidents=incidents[code],
            missing_manual_scores=missing[code],
            rms_without_card=without_card[code],
            rms=counted[code],
            open_inquiries=inquiries[code],
        )
        for code in branch_codes
    }


def last_import_at() -> dt.datetime | None:
    """When the last import batch was loaded (the age of the facts, on the close board)."""
    from crm.models import BatchStatus, ImportBatch

    return ImportBatch.objects.filter(status=BatchStatus.LOADED).aggregate(at=Max("finished_at"))[
        "at"
    ]


def locked_branches(*, period_codes: list[str]) -> dict[str, set[str]]:
    """The branches in review or approved, by period code."""
    locked: dict[str, set[str]] = {}
    rows = PeriodUnit.objects.filter(period__code__in=period_codes, status__in=LOCKED)
    for code, unit in rows.values_list("period__code", "unit__code"):
        locked.setdefault(code, set()).add(unit)
    return locked


def periods_with_locked_units() -> set[str]:
    """The codes of the periods with a branch in review or approved."""
    return set(PeriodUnit.objects.filter(status__in=LOCKED).values_list("period__code", flat=True))
