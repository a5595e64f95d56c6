"""Writes of the period lifecycle (SPEC §5): open → in review → approved, reopened by an admin
with a reason; a period's row on first use."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from scorecards.models import Period, PeriodStatus, PeriodUnit, ScoreRun
from scorecards.periods.selectors import (
    LOCKED,
    review_units,
    submittable_units,
    unit_states,
)
from targets.models import BRANCH_DEPTH, OrgUnit, User, branch_code_of
from wealthscore.kernel.access import Action, may
from wealthscore.kernel.audit import audit_record
from wealthscore.kernel.errors import ConflictError, DomainError, ForbiddenError
from wealthscore.kernel.periods import period_from


# ---------------------------------------------------------------- periods
def period_get_or_create(code: str) -> Period:
    parsed = period_from(code)
    period, _created = Period.objects.get_or_create(
        code=parsed.code,
        defaults={
            "kind": parsed.kind,
            "year": parsed.year,
            "first_day": parsed.first_day,
            "last_day": parsed.last_day,
        },
    )
    return period


# action: (from, to, who may); a unit with no row is open.
TRANSITIONS = {
    "submit": ({PeriodStatus.OPEN}, PeriodStatus.IN_REVIEW, Action.SUBMIT_PERIOD),
    "approve": ({PeriodStatus.IN_REVIEW}, PeriodStatus.APPROVED, Action.APPROVE_PERIOD),
    "send_back": ({PeriodStatus.IN_REVIEW, PeriodStatus.APPROVED}, PeriodStatus.OPEN,
                  Action.APPROVE_PERIOD),
}  # fmt: skip
# The period-level actions of the API act on the units they name: reopen is send back.
PERIOD_ACTIONS = {"submit": "submit", "approve": "approve", "reopen": "send_back"}


def _done(action: str) -> str:
    return {"submit": _("submitted"), "approve": _("approved"), "send_back": _("sent back")}[action]


@transaction.atomic
def units_transition(
    *,
    period: Period,
    unit_codes: list[str],
    action: str,
    actor: User,
    reason: str = "",
    confirm: bool = False,
) -> list[PeriodUnit]:
    """Move the named branches of `period` one step (SPEC §5, per unit): a manager submits
    the branches of her subtree; an admin approves them (with open checklist items only when
    she confirms, with a reason) or sends them back (with a reason). All or none; each move
    audited; the period is approved when every branch is. A branch the actor cannot see is
    404, a move the state does not allow 409."""
    sources, target, may_do = TRANSITIONS[action]
    if not may(actor, may_do):
        raise ForbiddenError(_("Your role may not %(action)s a unit.") % {"action": action})
    # The period's row first, as every writer that checks a unit's state (a manual score,
    # an incident decision, a run's publication) locks it: no write slips in between.
    period = Period.objects.select_for_update().get(pk=period.pk)
    visible = submittable_units(user=actor) if action == "submit" else review_units(user=actor)
    units = list(visible.filter(code__in=unit_codes).order_by("path"))
    if not units or len(units) != len(set(unit_codes)):
        raise Http404
    if action in {"submit", "approve"} and period.current_run_id is None:
        raise ConflictError(
            _("Period %(period)s has no scores yet: recompute it first.") % {"period": period.code},
            code="no_scores",
        )
    if action == "send_back" and not reason.strip():
        raise DomainError(_("Sending a unit back needs a reason."), field="reason")
    # A row for every named unit (one INSERT; the ones that exist stay), then all locked.
    PeriodUnit.objects.bulk_create(
        [PeriodUnit(period=period, unit=unit) for unit in units], ignore_conflicts=True
    )
    rows = {
        row.unit_id: row
        for row in PeriodUnit.objects.select_for_update().filter(period=period, unit__in=units)
    }
    refused = [u for u in units if rows[u.pk].status not in sources]
    if refused:
        raise ConflictError(
            "; ".join(
                _("%(unit)s is %(status)s for %(period)s: it cannot be %(action)s.")
                % {
                    "unit": u.name,
                    "status": rows[u.pk].get_status_display(),
                    "period": period.code,
                    "action": _done(action),
                }  # fmt: skip
                for u in refused
            ),
            code="unit_state",
        )
    if action in {"submit", "approve"}:
        # Neither hand on, nor lock, cards that miss a veto decided since they were made.
        _refuse_if_vetoes_changed(period)
    if action == "approve":
        named = OrgUnit.objects.filter(pk__in=[u.pk for u in units])
        states = unit_states(period=period, units=named)
        open_items = [
            f"{state.unit.name}: {', '.join(state.checklist.open_items())}"
            for state in states
            if state.checklist.open_items()
        ]
        if open_items and not confirm:
            raise ConflictError(
                _("Open items remain: %(items)s. Confirm the approval, with a reason, to "
                  "approve anyway.") % {"items": "; ".join(open_items)},
                code="open_items",
            )  # fmt: skip
        if open_items and not reason.strip():
            raise DomainError(
                _("Approving with open items needs a reason."), field="reason", code="open_items"
            )
    now = timezone.now()
    for unit in units:
        row = rows[unit.pk]
        before = row.status
        row.status, row.changed_by, row.changed_at, row.reason = target, actor, now, reason.strip()
        row.save(update_fields=["status", "changed_by", "changed_at", "reason"])
        audit_record(
            actor=actor,
            action=f"period_unit.{action}",
            object_type="period_unit",
            object_id=f"{period.code}/{unit.code}",
            before={"status": before},
            after={"status": target},
            reason=reason,
        )
    _settle(period, actor, reason)
    return [rows[u.pk] for u in units]


def _settle(period: Period, actor: User, reason: str) -> None:
    """The period's own status from its branches': approved when every branch is, in review
    when every branch is submitted, else open. Audited when it changes."""
    branches = OrgUnit.objects.filter(depth=BRANCH_DEPTH)
    states = dict(PeriodUnit.objects.filter(period=period).values_list("unit_id", "status"))
    every = [states.get(pk, PeriodStatus.OPEN) for pk in branches.values_list("pk", flat=True)]
    if every and all(s == PeriodStatus.APPROVED for s in every):
        status = PeriodStatus.APPROVED
    elif every and all(s in LOCKED for s in every):
        status = PeriodStatus.IN_REVIEW
    else:
        status = PeriodStatus.OPEN
    if status == period.status:
        return
    before = period.status
    period.status, period.changed_by, period.changed_at = status, actor, timezone.now()
    period.save(update_fields=["status", "changed_by", "changed_at"])
    audit_record(
        actor=actor, action="period.status", object_type="period", object_id=period.code,
        before={"status": before}, after={"status": status}, reason=reason,
    )  # fmt: skip


def period_transition(
    *, period: Period, action: str, actor: User, reason: str = "", confirm: bool = False
) -> Period:
    """The period-level actions, over the branches they concern: submit every open branch
    of the actor's subtree, approve every branch in review (refused while one is not yet
    submitted), reopen (send back) every branch in review or approved."""
    step = PERIOD_ACTIONS[action]
    sources, _target, may_do = TRANSITIONS[step]
    if not may(actor, may_do):
        raise ForbiddenError(_("Your role may not %(action)s a period.") % {"action": action})
    if action == "reopen" and not reason.strip():
        raise DomainError(_("Reopening a period needs a reason."), field="reason")
    units = submittable_units(user=actor) if step == "submit" else review_units(user=actor)
    # Their states only: the checklist is read by the approval itself (units_transition).
    states = unit_states(period=period, units=units, checklists=False)
    if step == "approve":
        waiting = [s.unit.name for s in states if s.status == PeriodStatus.OPEN]
        if waiting:
            raise ConflictError(
                _("Period %(period)s cannot be approved: %(units)s not yet submitted.")
                % {"period": period.code, "units": ", ".join(waiting)},
                code="not_submitted",
            )
    codes = [s.unit.code for s in states if s.status in sources]
    if not codes:
        done = {"submit": _("submitted"), "approve": _("approved"), "reopen": _("reopened")}
        raise ConflictError(
            _("Period %(period)s is %(status)s: it cannot be %(action)s.")
            % {
                "period": period.code,
                "status": period.get_status_display(),
                "action": done[action],
            }
        )
    with transaction.atomic():
        units_transition(
            period=period, unit_codes=codes, action=step, actor=actor, reason=reason,
            confirm=confirm,
        )  # fmt: skip
        audit_record(
            actor=actor, action=f"period.{action}", object_type="period", object_id=period.code,
            before=None, after={"units": codes}, reason=reason,
        )  # fmt: skip
    return Period.objects.get(pk=period.pk)


def refuse_if_unit_locked(*, period_codes: list[str], unit_path: str, what: str) -> None:
    """409 when the branch of `unit_path` is in review or approved for one of the periods
    (caller's transaction: the periods' rows are locked until its commit)."""
    branch = branch_code_of(unit_path)
    list(Period.objects.select_for_update().filter(code__in=period_codes).values_list("pk"))
    locked = (
        PeriodUnit.objects.filter(
            period__code__in=period_codes, unit__code=branch, status__in=LOCKED
        )
        .select_related("period", "unit")
        .order_by("period__last_day")
        .first()
    )
    if locked is not None:
        raise _unit_locked(locked, what)


def _unit_locked(row: PeriodUnit, what: str) -> ConflictError:
    return ConflictError(
        _("%(unit)s is %(status)s for %(period)s: it takes no %(what)s until an admin "
          "sends it back.")
        % {"unit": row.unit.name, "status": row.get_status_display(),
           "period": row.period.code, "what": what},
        code="unit_locked",
    )  # fmt: skip


def _refuse_if_vetoes_changed(period: Period) -> None:
    """A veto decided after the current run began is not on its cards: approving them would
    lock the period without it (the recompute the decision started may not have run)."""
    from compliance.selectors import veto_decisions_since

    # Only called to approve, which is refused above without a current run.
    assert period.current_run_id is not None
    run = ScoreRun.objects.get(pk=period.current_run_id)
    changed = veto_decisions_since(
        first_day=period.first_day, last_day=period.last_day, since=run.created_at
    )
    if changed:
        raise ConflictError(
            _(
                "A veto of incident %(ids)s was decided after the scores of %(period)s were "
                "computed: recompute the period before approving it."
            )
            % {"ids": ", ".join(f"#{pk}" for pk in changed), "period": period.code},
            code="vetoes_changed",
        )


def refuse_decisions_in_locked_periods(*, cases: list[dict], **_signal) -> None:
    """`vetoes_changing` (compliance, before decisions on incidents; each case names the
    periods of its date, its unit's path and whether it makes or unmakes a veto): a decision
    that changes cards waits until an approved period is reopened, and no decision is taken
    while the incident's branch is in review or approved. Two queries for the whole batch."""
    codes = sorted({code for case in cases for code in case["period_codes"]})
    # Locked until our commit, so a period cannot be approved between this check and the
    # decisions (and approval refuses a period whose run predates a decision: see
    # units_transition above).
    periods = list(
        Period.objects.select_for_update()
        .filter(code__in=codes)
        .order_by("last_day")
        .values_list("code", "status")
    )
    approved = [code for code, status in periods if status == PeriodStatus.APPROVED]
    locked = {
        (row.period.code, row.unit.code): row
        for row in PeriodUnit.objects.filter(period__code__in=codes, status__in=LOCKED)
        .select_related("period", "unit")
        .order_by("period__last_day")
    }
    for case in cases:
        hit = [code for code in approved if code in case["period_codes"]]
        if hit and case["changes_cards"]:
            raise ConflictError(
                _(
                    "Period %(periods)s is approved: an admin must reopen it before this "
                    "incident can be decided."
                )
                % {"periods": ", ".join(hit)},
                code="period_approved",
            )
        branch = branch_code_of(case["unit_path"])
        row = next((locked[(c, branch)] for c, _s in periods
                    if c in case["period_codes"] and (c, branch) in locked), None)  # fmt: skip
        if row is not None:
            raise _unit_locked(row, _("incident decision"))
