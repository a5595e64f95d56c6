"""Writes of the period lifecycle (SPEC §5): open → in review → approved, reopened by an admin
with a reason; a period's row on first use."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scorecards.models import (
    Period,
    PeriodStatus,
    ScoreRun,
)
from targets.models import User, scope_of
from wealthscore.kernel.access import MAY, Action, Role
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


TRANSITIONS = {
    # action: (from, to, roles)
    "submit": ({PeriodStatus.OPEN}, PeriodStatus.IN_REVIEW, MAY[Action.SUBMIT_PERIOD]),
    "approve": ({PeriodStatus.IN_REVIEW, PeriodStatus.OPEN}, PeriodStatus.APPROVED, {Role.ADMIN}),
    "reopen": ({PeriodStatus.IN_REVIEW, PeriodStatus.APPROVED}, PeriodStatus.OPEN, {Role.ADMIN}),
}


@transaction.atomic
def period_transition(*, period: Period, action: str, actor: User, reason: str = "") -> Period:
    """open → in review → approved; an admin reopens with a reason. Audited."""
    sources, target, roles = TRANSITIONS[action]
    if scope_of(actor).role not in roles:
        raise ForbiddenError(_("Your role may not %(action)s a period.") % {"action": action})
    period = Period.objects.select_for_update().get(pk=period.pk)
    if period.status not in sources:
        done = {"submit": _("submitted"), "approve": _("approved"), "reopen": _("reopened")}
        raise ConflictError(
            _("Period %(period)s is %(status)s: it cannot be %(action)s.")
            % {"period": period.code, "status": period.get_status_display(), "action": done[action]}
        )
    if action == "reopen" and not reason.strip():
        raise DomainError(_("Reopening a period needs a reason."), field="reason")
    if action == "approve" and period.current_run_id is None:
        raise ConflictError(
            _("Period %(period)s has no scores yet: recompute it before approving.")
            % {"period": period.code}
        )
    if action == "approve":
        _refuse_if_vetoes_changed(period)
    before = period.status
    period.status, period.changed_by, period.changed_at = target, actor, timezone.now()
    period.save(update_fields=["status", "changed_by", "changed_at"])
    audit_record(
        actor=actor,
        action=f"period.{action}",
        object_type="period",
        object_id=period.code,
        before={"status": before},
        after={"status": target},
        reason=reason,
    )
    return period


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


def refuse_vetoes_in_approved_periods(*, period_codes: list[str], **_signal) -> None:
    """`vetoes_changing` (compliance, before a decision): an approved period is reopened first."""
    # Locked until our commit, so a period cannot be approved between this check and the
    # decision (and approval refuses a period whose run predates a decision: see
    # period_transition above).
    approved = list(
        Period.objects.select_for_update()
        .filter(code__in=period_codes, status=PeriodStatus.APPROVED)
        .order_by("last_day")
        .values_list("code", flat=True)
    )
    if approved:
        raise ConflictError(
            _(
                "Period %(periods)s is approved: an admin must reopen it before this "
                "incident can be decided."
            )
            % {"periods": ", ".join(approved)},
            code="period_approved",
        )
