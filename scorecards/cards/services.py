"""Manual scores entered in the app (SPEC §5 `manual`: points 0–100 entered by an authorised
person): a manager for the RMs of her subtree, or an admin, for a quarter or a year.

The CRM import of `manual_scores` writes the same rows in bulk; this is the one-at-a-time
write of the team page, audited, followed by a recompute of the open periods it changes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Min
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from scorecards.models import (
    Inquiry,
    InquiryOutcome,
    InquiryStatus,
    ManualScore,
    Period,
    PeriodStatus,
    RunStatus,
    Scorecard,
    ScoreRun,
)
from scorecards.periods.services import refuse_if_unit_locked
from scorecards.rules import manual_measures_in_force, rules_of
from targets.models import Employee, OrgUnit, User, branch_code_of, scope_of, unit_on_sql
from wealthscore.kernel.access import Action, Role, allows, may
from wealthscore.kernel.audit import audit_bulk, audit_record
from wealthscore.kernel.errors import ConflictError, DomainError, ForbiddenError
from wealthscore.kernel.jobs import enqueue
from wealthscore.kernel.periods import parse_period, period_from, periods_for_months
from wealthscore.kernel.uploads import check_document, stored_name

LOWEST, HIGHEST = Decimal(0), Decimal(100)


def _snapshot(row: ManualScore | None) -> dict | None:
    if row is None:
        return None
    return {
        "period": row.period,
        "employee": row.employee.employee_id,
        "measure": row.measure,
        "score": f"{row.score:.2f}",
        "comment": row.comment,
    }


def _periods_to_recompute(code: str) -> list[str]:
    """The open periods whose cards read the manual score of `code`: a quarter's score is
    shown on its months, the quarter and (through the quarters) the year; a year's on the
    year, recomputed with its ended months and quarters. Approved periods stay as they are."""
    period = parse_period(code)
    months = {f"{period.year}-{month:02d}" for month in period.months}
    codes = periods_for_months(months)
    approved = set(
        Period.objects.filter(code__in=codes, status=PeriodStatus.APPROVED).values_list(
            "code", flat=True
        )
    )
    return [c for c in codes if c not in approved]


def _manual_period(code: str):
    parsed = period_from(code.strip())
    if parsed.kind == "month":
        raise DomainError(
            _("Manual scores are entered for a quarter or a year, not for month %(p)s.")
            % {"p": parsed.code},
            field="period",
        )
    return parsed


def parse_score(value: object) -> Decimal:
    """A manual score as entered: a number from 0 to 100 with at most two decimals."""
    try:
        score = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)  # type: ignore[arg-type]
        valid = score.is_finite() and LOWEST <= score <= HIGHEST
    except (InvalidOperation, TypeError, ValueError):
        valid = False
    if not valid:
        raise DomainError(_("A score is a number from 0 to 100."), field="score")
    if score != score.quantize(Decimal("0.01")):
        raise DomainError(_("A score has at most two decimal places."), field="score")
    return score


def _lock_unapproved(code: str) -> None:
    """Lock the period's row until the commit (so that it cannot be approved between this
    check and the write) and refuse an approved one (caller's transaction)."""
    locked = Period.objects.select_for_update().filter(code=code).first()
    if locked is not None and locked.status == PeriodStatus.APPROVED:
        raise ConflictError(approved_refusal(code), code="period_approved")


def approved_refusal(code: str) -> str:
    """Why a manual score of an approved period is refused (the form, the grid, the file)."""
    return _("Period %(period)s is approved: an admin must reopen it before its scores "
             "change.") % {"period": code}  # fmt: skip


def refused_for_locked_units(code: str, employee_ids: set[str]) -> dict[str, str]:
    """The RMs among `employee_ids` whose branch is in review or approved for period `code`,
    each with the reason (caller's transaction: the period's row is locked until its
    commit). Each RM's unit on the period's last day in one query, then one check a branch,
    not one an RM: what the grid and the manual scores file refuse."""
    last_day = period_from(code).last_day
    unit_on_day = dict(
        Employee.objects.filter(employee_id__in=employee_ids)
        .annotate(unit_on_day=RawSQL(unit_on_sql('"targets_employee"."id"', "%s"), [last_day]))
        .values_list("employee_id", "unit_on_day")
    )
    unit_paths = dict(
        OrgUnit.objects.filter(pk__in=set(unit_on_day.values())).values_list("pk", "path")
    )
    by_branch: dict[str, tuple[str, list[str]]] = {}  # branch: (a unit's path, its RMs)
    for employee_id, unit_id in unit_on_day.items():
        if unit_id is not None:
            path = unit_paths[unit_id]
            by_branch.setdefault(branch_code_of(path), (path, []))[1].append(employee_id)
    refused: dict[str, str] = {}
    for path, rms in by_branch.values():
        try:
            refuse_if_unit_locked(period_codes=[code], unit_path=path, what=_("manual score"))
        except ConflictError as exc:
            refused.update(dict.fromkeys(rms, str(exc.message)))
    return refused


def manual_score_enter(
    *,
    actor: User,
    employee: Employee,
    period: str,
    measure: str,
    score: Decimal,
    comment: str = "",
) -> ManualScore:
    """Enter (or correct) the 0–100 score of a manual measure for one RM and one quarter or
    year. Managers for the RMs of their subtree, admins for anyone; refused once the period
    is approved. Audited; the open periods it changes are recomputed after the commit."""
    scope = scope_of(actor)
    if not allows(scope.role, Action.ENTER_MANUAL_SCORES):
        raise ForbiddenError(_("Only managers and administrators enter manual scores."))
    in_scope = Employee.objects.visible_to(actor).filter(pk=employee.pk, position=Role.RM)
    if not in_scope.exists():
        raise DomainError(
            _("%(id)s is not a relationship manager of your team.") % {"id": employee.employee_id},
            field="employee",
        )
    parsed = _manual_period(period)
    score = parse_score(score)
    manual = manual_measures_in_force(parsed.last_day)
    if measure not in manual:
        raise DomainError(
            _("%(m)s is not a manually scored measure of the scheme in force for %(p)s.")
            % {"m": measure, "p": parsed.code},
            field="measure",
        )
    with transaction.atomic():
        _lock_unapproved(parsed.code)
        unit = employee.unit_on(parsed.last_day)
        if unit is not None:
            refuse_if_unit_locked(
                period_codes=[parsed.code], unit_path=unit.path, what=_("manual score")
            )
        existing = (
            ManualScore.objects.select_for_update()
            .select_related("employee")
            .filter(period=parsed.code, employee=employee, measure=measure)
            .first()
        )
        before = _snapshot(existing)
        row, _created = ManualScore.objects.update_or_create(
            period=parsed.code,
            employee=employee,
            measure=measure,
            defaults={
                "score": score,
                "comment": comment.strip(),
                "entered_by": actor,
                "batch": None,
            },
        )
        audit_record(
            actor=actor,
            action="manual_score.enter",
            object_type="manual_score",
            object_id=str(row.pk),
            before=before,
            after=_snapshot(row),
        )
        codes = _periods_to_recompute(parsed.code)
        trigger = f"manual_score:{row.pk}"
        if codes:
            # After the commit, by task name: on a worker, or (the demo) on the web process's
            # background thread, so that the page answers at once (kernel.jobs).
            enqueue("scorecards.recompute", codes=codes, trigger=trigger, actor_id=actor.pk,
                    employees=[employee.employee_id])  # only her cards change  # fmt: skip
    return row


class GridRefused(DomainError):
    """A grid save with bad cells: nothing is saved; `cells` maps "employee_id/measure" to
    what is wrong with that cell."""

    def __init__(self, cells: dict[str, str]) -> None:
        super().__init__(
            _("%(n)s cell(s) cannot be saved: nothing was saved.") % {"n": len(cells)},
            field="cells",
        )
        self.cells = cells


def manual_scores_save(*, actor: User, period: str, cells: dict[tuple[str, str], str]) -> int:
    """Save a grid of manual scores (RM × measure) for one quarter or year, all or none:
    every cell is checked as one entry is (0–100, two decimals, an RM of the actor's team,
    a manual measure in force, her branch not in review), and any bad cell saves nothing.
    Blank cells are left as they are. One audit entry a changed cell; the open periods they
    change are recomputed once, after the commit. Returns how many cells changed."""
    scope = scope_of(actor)
    if not allows(scope.role, Action.ENTER_MANUAL_SCORES):
        raise ForbiddenError(_("Only managers and administrators enter manual scores."))
    parsed = _manual_period(period)
    manual = set(manual_measures_in_force(parsed.last_day))
    wanted = {key: text.strip() for key, text in cells.items() if text.strip()}
    employees = {
        e.employee_id: e
        for e in Employee.objects.visible_to(actor).filter(
            position=Role.RM, employee_id__in={employee for employee, _m in wanted}
        )
    }
    errors: dict[str, str] = {}
    scores: dict[tuple[str, str], Decimal] = {}
    for (employee_id, measure), text in wanted.items():
        key = f"{employee_id}/{measure}"
        if employee_id not in employees:
            errors[key] = _("%(id)s is not a relationship manager of your team.") % {
                "id": employee_id
            }
        elif measure not in manual:
            errors[key] = _("%(m)s is not a manually scored measure of the scheme in force "
                            "for %(p)s.") % {"m": measure, "p": parsed.code}  # fmt: skip
        else:
            try:
                scores[(employee_id, measure)] = parse_score(text)
            except DomainError as exc:
                errors[key] = str(exc.message)
    with transaction.atomic():
        _lock_unapproved(parsed.code)
        refused = refused_for_locked_units(parsed.code, {e for e, _m in scores})
        for employee, measure in scores:
            if employee in refused:
                errors[f"{employee}/{measure}"] = refused[employee]
        if errors:
            raise GridRefused(errors)
        existing = {
            (row.employee.employee_id, row.measure): row
            for row in ManualScore.objects.select_for_update()
            .select_related("employee")
            .filter(period=parsed.code, employee__employee_id__in=list(employees))
        }
        changed = {k: v for k, v in scores.items() if k not in existing or existing[k].score != v}
        ManualScore.objects.bulk_create(
            [
                ManualScore(
                    period=parsed.code,
                    employee=employees[e],
                    measure=m,
                    score=v,
                    entered_by=actor,
                    batch=None,
                )  # fmt: skip
                for (e, m), v in changed.items()
            ],
            update_conflicts=True,
            unique_fields=["period", "employee", "measure"],
            update_fields=["score", "entered_by", "batch", "entered_at"],
        )
        if changed:
            audit_bulk(
                actor=actor, action="manual_score.enter", object_type="manual_score",
                changes=[
                    (f"{parsed.code}/{e}/{m}",
                     {"score": f"{existing[(e, m)].score:.2f}"} if (e, m) in existing else None,
                     {"period": parsed.code, "employee": e, "measure": m, "score": f"{v:.2f}"})
                    for (e, m), v in sorted(changed.items())
                ],
            )  # fmt: skip
            codes = _periods_to_recompute(parsed.code)
            trigger = f"manual_scores:{parsed.code}:{len(changed)}"
            if codes:
                enqueue("scorecards.recompute", codes=codes, trigger=trigger, actor_id=actor.pk,
                        employees=sorted({e for e, _m in changed}))  # fmt: skip
    return len(changed)


# ---------------------------------------------------------------- the facts behind a line
@transaction.atomic
def scorecard_line_facts(*, card: Scorecard, measure: str, actor: User) -> dict:
    """The facts one line was computed from, client names masked; the drill-down is audited
    (SPEC §9). HR sees scores but no client-level data (SPEC §1)."""
    from django.http import Http404

    from scorecards.runs.facts import line_facts

    if scope_of(actor).role == Role.HR:
        # For HR the facts do not exist (SPEC §1: out of scope is 404, never 403).
        raise Http404
    if not card.lines.filter(measure=measure).exists():
        raise Http404
    period = parse_period(card.run.period.code)
    facts = line_facts(period, rules_of(card.run.version), measure, card.employee.employee_id)
    audit_record(
        actor=actor, action="scorecard.facts", object_type="scorecard", object_id=str(card.pk),
        after={"measure": measure, "period": period.code, "rows": facts.get("count", 0),
               "employee": card.employee.employee_id},
    )  # fmt: skip
    return facts


# ---------------------------------------------------------------- inquiries (申诉, SPEC §8)
def inquiry_window_closes(period: Period, days: int) -> dt.datetime | None:
    """When the RMs' inquiry window of a period closes: `days` after its cards first
    appeared (its first published run); None before they appear."""
    first = ScoreRun.objects.filter(period=period, status=RunStatus.DONE).aggregate(
        at=Min("finished_at")
    )["at"]
    return None if first is None else first + dt.timedelta(days=days)


@transaction.atomic
def inquiry_raise(
    *,
    actor: User,
    period_code: str,
    measure: str,
    text: str,
    attachment: UploadedFile | None = None,
) -> Inquiry:
    """An RM questions a line of her published card, within the scheme's inquiry window
    (default 10 days after the period's cards appear), with an optional supporting file
    (checked as evidence is). Audited."""
    scope = scope_of(actor)
    if scope.role != Role.RM or scope.employee is None:
        raise ForbiddenError(_("Only an RM raises an inquiry, on her own card."))
    if not text.strip():
        raise DomainError(_("Say what is wrong with the line."), field="text")
    period = Period.objects.filter(code=period_from(period_code).code).first()
    if period is None or period.current_run_id is None:
        raise Http404
    card = (
        Scorecard.objects.filter(run_id=period.current_run_id, employee=scope.employee)
        .select_related("run__version")
        .first()
    )
    if card is None or not card.lines.filter(measure=measure).exists():
        raise Http404
    closes = inquiry_window_closes(period, card.run.version.inquiry_days)
    if closes is not None and timezone.now() > closes:
        raise ConflictError(
            _("The inquiry window of %(period)s closed on %(day)s.")
            % {"period": period.code, "day": timezone.localtime(closes).date()},
            code="inquiry_window_closed",
        )
    if Inquiry.objects.filter(period=period, employee=scope.employee, measure=measure,
                              status=InquiryStatus.OPEN).exists():  # fmt: skip
        raise ConflictError(
            _("This line already has an open inquiry: wait for its answer."), code="inquiry_open"
        )
    inquiry = Inquiry(
        period=period, employee=scope.employee, unit=card.unit, measure=measure,
        text=text.strip(), raised_by=actor,
    )  # fmt: skip
    if attachment is not None:
        _attach(inquiry, attachment)
    inquiry.save()
    audit_record(
        actor=actor, action="inquiry.raise", object_type="inquiry", object_id=str(inquiry.pk),
        after={"period": period.code, "measure": measure, "text": inquiry.text,
               "attachment_name": inquiry.attachment_name,
               "attachment_sha256": inquiry.attachment_sha256},
    )  # fmt: skip
    return inquiry


def _attach(inquiry: Inquiry, attachment: UploadedFile) -> None:
    """Check the file as evidence is and store it under a generated name (not saved yet)."""
    extension, inquiry.attachment_sha256 = check_document(
        attachment, limit=settings.WEALTHSCORE_EVIDENCE_MAX_BYTES, field="attachment",
        what=_("Attachment"),
    )  # fmt: skip
    inquiry.attachment_name = Path(attachment.name or "").name[:255]
    inquiry.attachment.save(stored_name(extension), attachment, save=False)


@transaction.atomic
def inquiry_attach(*, inquiry: Inquiry, actor: User, attachment: UploadedFile) -> Inquiry:
    """The RM sends the supporting file of her open inquiry (the API raises one from JSON,
    then sends its file on its own). Once: a file is never replaced. Audited."""
    scope = scope_of(actor)
    locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if scope.employee is None or locked.employee_id != scope.employee.pk:
        raise ForbiddenError(_("Only the RM who raised an inquiry sends its file."))
    if locked.status != InquiryStatus.OPEN:
        raise ConflictError(
            _("Inquiry #%(id)s is answered; its file can no longer change.") % {"id": locked.pk},
            field="attachment", code="inquiry_answered",
        )  # fmt: skip
    if locked.attachment:
        raise ConflictError(
            _("Inquiry #%(id)s already has its file (%(name)s).")
            % {"id": locked.pk, "name": locked.attachment_name},
            field="attachment", code="attachment_exists",
        )  # fmt: skip
    _attach(locked, attachment)
    locked.save(update_fields=["attachment", "attachment_name", "attachment_sha256"])
    audit_record(
        actor=actor, action="inquiry.attach", object_type="inquiry", object_id=str(locked.pk),
        after={"attachment_name": locked.attachment_name,
               "attachment_sha256": locked.attachment_sha256},
    )  # fmt: skip
    return locked


@transaction.atomic
def inquiry_attachment_opened(*, inquiry: Inquiry, actor: User) -> None:
    """An inquiry's file may show client data: every download is audited."""
    audit_record(
        actor=actor, action="inquiry.attachment_open", object_type="inquiry",
        object_id=str(inquiry.pk), after={"attachment_sha256": inquiry.attachment_sha256},
    )  # fmt: skip


@transaction.atomic
def inquiry_answer(
    *, actor: User, inquiry: Inquiry, accepted: bool, answer: str, outcome: str = ""
) -> Inquiry:
    """Her manager, compliance or an admin answers an open inquiry; an accepted one names
    what corrects the number (a manual score, a reopened unit, a data correction). Audited;
    the RM sees the answer on the line."""
    if not may(actor, Action.ANSWER_INQUIRIES):
        raise ForbiddenError(_("Your role does not answer inquiries."))
    locked = Inquiry.objects.visible_to(actor).select_for_update().filter(pk=inquiry.pk).first()
    if locked is None:
        raise Http404
    inquiry = locked
    if inquiry.status != InquiryStatus.OPEN:
        raise ConflictError(
            _("Inquiry #%(id)s is answered already.") % {"id": inquiry.pk}, code="inquiry_answered"
        )
    if not answer.strip():
        raise DomainError(_("An answer needs a text."), field="answer")
    if accepted and outcome not in {o.value for o in InquiryOutcome if o.value}:
        raise DomainError(_("An accepted inquiry says what corrects the number."), field="outcome")
    inquiry.status = InquiryStatus.ACCEPTED if accepted else InquiryStatus.REJECTED
    inquiry.outcome = outcome if accepted else ""
    inquiry.answer, inquiry.answered_by, inquiry.answered_at = answer.strip(), actor, timezone.now()
    inquiry.save(update_fields=["status", "outcome", "answer", "answered_by", "answered_at"])
    audit_record(
        actor=actor, action="inquiry.answer", object_type="inquiry", object_id=str(inquiry.pk),
        before={"status": InquiryStatus.OPEN},
        after={"status": inquiry.status, "outcome": inquiry.outcome, "answer": inquiry.answer},
    )  # fmt: skip
    return inquiry
