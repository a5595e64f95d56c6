"""Writes of compliance (SPEC §6): incidents, their decisions, and the T+1 warnings.

A decision on a vetoing case changes the cards of the month, quarter and year of its date,
so it is refused while one of them is approved, and it is followed by a recompute of them.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import ImportBatch
from targets.models import Employee, OrgUnit, User, scope_of, unit_on_sql
from wealthscore.kernel import events
from wealthscore.kernel.access import Action, Role, may
from wealthscore.kernel.audit import audit_bulk, audit_record
from wealthscore.kernel.errors import ConflictError, DomainError, ForbiddenError
from wealthscore.kernel.periods import month_of, periods_containing
from wealthscore.kernel.uploads import check_document, stored_name

from .defaults import install_incident_types
from .models import (
    Incident,
    IncidentDecision,
    IncidentSource,
    IncidentStatus,
    IncidentType,
)

log = logging.getLogger(__name__)


# Evidence a compliance officer attaches: documents and pictures, recognised by their first
# bytes as well as their name (a renamed executable is refused).
class ComplianceError(DomainError):
    """A compliance rule refused the request."""


def require_decider(actor: User) -> None:
    if not may(actor, Action.DECIDE_INCIDENTS):
        raise ForbiddenError(_("Only compliance officers and admins record or decide incidents."))


def incident_type_get(code: str) -> IncidentType:
    incident_type = IncidentType.objects.filter(code=code).first()
    if incident_type is None and not IncidentType.objects.exists():
        install_incident_types(IncidentType)  # a flushed database (demo --reset, tests)
        incident_type = IncidentType.objects.filter(code=code).first()
    if incident_type is None:
        raise ComplianceError(
            _("Unknown incident type %(code)s.") % {"code": code}, field="type", code="unknown"
        )
    return incident_type


def _unit_on(employee: Employee, day: dt.date) -> OrgUnit:
    """The unit the case of `day` belongs to: targets' one rule (`unit_on_sql`), as the T+1
    warnings read it; refused for someone who never belonged to a unit."""
    unit = employee.unit_on(day)
    if unit is None:
        raise ComplianceError(
            _("Employee %(id)s belongs to no unit.") % {"id": employee.employee_id},
            field="employee_id",
        )
    return unit


def _check_evidence(evidence: UploadedFile) -> tuple[str, str]:
    """(extension, SHA-256) of an acceptable evidence file; refuses any other."""
    try:
        return check_document(
            evidence, limit=settings.WEALTHSCORE_EVIDENCE_MAX_BYTES, field="evidence",
            what=_("Evidence"),
        )  # fmt: skip
    except DomainError as refused:
        raise ComplianceError(refused.message, field="evidence", code=refused.code) from None


@transaction.atomic
def incident_create(
    *,
    actor: User,
    employee: Employee,
    type_code: str,
    occurred_on: dt.date,
    description: str,
    evidence: UploadedFile | None = None,
) -> Incident:
    """Record a case against an RM (open until decided). Audited."""
    require_decider(actor)
    incident_type = incident_type_get(type_code)
    if occurred_on > timezone.localdate():
        raise ComplianceError(_("The date is in the future."), field="occurred_on")
    if not description.strip():
        raise ComplianceError(_("Describe what happened."), field="description")
    incident = Incident(
        type=incident_type,
        employee=employee,
        unit=_unit_on(employee, occurred_on),
        occurred_on=occurred_on,
        description=description.strip(),
        source=IncidentSource.MANUAL,
        created_by=actor,
    )
    if evidence is not None:
        extension, sha256 = _check_evidence(evidence)
        # An uploaded file always has a name: Django and DRF refuse one without.
        assert evidence.name is not None
        incident.evidence_name = Path(evidence.name).name[:255]
        incident.evidence_sha256 = sha256
        # A generated name: the uploader's file name never chooses where we write.
        incident.evidence.save(stored_name(extension), evidence, save=False)
    incident.save()
    audit_record(
        actor=actor,
        action="incident.create",
        object_type="incident",
        object_id=str(incident.pk),
        after=_snapshot(incident),
    )
    return incident


@transaction.atomic
def incident_evidence_attach(
    *, incident: Incident, actor: User, evidence: UploadedFile
) -> Incident:
    """Attach the evidence file to an open case that has none (the API creates cases from
    JSON, then sends the file on its own). Evidence is never replaced: a second file is a
    conflict, as is one for a decided case. Audited."""
    require_decider(actor)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status != IncidentStatus.OPEN:
        raise ConflictError(
            _("Incident #%(id)s is decided; its evidence can no longer change.")
            % {"id": incident.pk},
            field="evidence",
            code="incident_decided",
        )
    if incident.evidence:
        raise ConflictError(
            _("Incident #%(id)s already has its evidence (%(name)s).")
            % {"id": incident.pk, "name": incident.evidence_name},
            field="evidence",
            code="evidence_exists",
        )
    extension, sha256 = _check_evidence(evidence)
    # An uploaded file always has a name: Django and DRF refuse one without.
    assert evidence.name is not None
    incident.evidence_name = Path(evidence.name).name[:255]
    incident.evidence_sha256 = sha256
    # A generated name: the uploader's file name never chooses where we write.
    incident.evidence.save(stored_name(extension), evidence, save=False)
    incident.save(update_fields=["evidence", "evidence_name", "evidence_sha256"])
    audit_record(
        actor=actor,
        action="incident.evidence_attach",
        object_type="incident",
        object_id=str(incident.pk),
        after={"evidence_sha256": sha256, "evidence_name": incident.evidence_name},
    )
    return incident


@transaction.atomic
def incident_type_save(*, incident_type: IncidentType, actor: User, created: bool) -> None:
    """Save a type's configuration (admins); a changed veto flag applies to cases confirmed
    from now on, never to those already decided."""
    if scope_of(actor).role != Role.ADMIN:
        raise ForbiddenError(_("Only admins configure incident types."))
    fields = ["name", "name_en", "is_veto", "position"]
    before = None
    if not created:
        before = IncidentType.objects.filter(pk=incident_type.pk).values(*fields).first()
    incident_type.save()
    audit_record(
        actor=actor,
        action="incident_type.create" if created else "incident_type.update",
        object_type="incident_type",
        object_id=incident_type.code,
        before=before,
        after={field: getattr(incident_type, field) for field in fields},
    )


@transaction.atomic
def evidence_opened(*, incident: Incident, actor: User) -> None:
    """Record who opened a case's evidence (client-level data, SPEC §9)."""
    audit_record(
        actor=actor,
        action="incident.evidence_open",
        object_type="incident",
        object_id=str(incident.pk),
        after={"evidence_sha256": incident.evidence_sha256},
    )


def _snapshot(incident: Incident) -> dict:
    return {
        "type": incident.type_id,
        "employee": incident.employee.employee_id,
        "occurred_on": incident.occurred_on,
        "status": incident.status,
        "veto": incident.veto,
        "evidence_sha256": incident.evidence_sha256 or None,
    }


def periods_of_day(day: dt.date) -> list[str]:
    """The month, quarter and year that contain a day: what a veto on that day fails."""
    return [period.code for period in periods_containing(month_of(day))]


DECISIONS = {"confirm": IncidentStatus.CONFIRMED, "dismiss": IncidentStatus.DISMISSED}


def incident_decide(*, incident: Incident, actor: User, decision: str, reason: str) -> Incident:
    """Confirm or dismiss an incident, or reverse an earlier decision (a new event).

    A decision that makes or unmakes a veto recomputes the open periods of its date.
    """
    return incidents_decide(
        incident_ids=[incident.pk], actor=actor, decision=decision, reason=reason
    )[0]


def incidents_decide(
    *, incident_ids: list[int], actor: User, decision: str, reason: str
) -> list[Incident]:
    """Confirm or dismiss several incidents with one reason (compliance triage), all or none:
    a case the actor cannot see, or one already so decided, refuses the whole batch. Each
    decision is its own row and audit entry; the periods whose cards they change are
    recomputed once, after the commit."""
    status = DECISIONS[decision]
    require_decider(actor)
    if not reason.strip():
        raise ComplianceError(_("A decision needs a reason."), field="reason")
    wanted = sorted(set(incident_ids))
    if not wanted:
        raise ComplianceError(_("Choose at least one incident."), field="ids")
    months: set[str] = set()
    employees: set[str] = set()  # whose cards the decisions change
    with transaction.atomic():
        incidents = list(
            Incident.objects.visible_to(actor)
            .select_for_update(of=("self",))
            .select_related("type", "employee", "unit")
            .filter(pk__in=wanted)
            .order_by("pk")
        )
        if len(incidents) != len(wanted):
            raise Http404  # out of scope is not found, and nothing changes
        decided = [i for i in incidents if i.status == status]
        if decided:
            raise ConflictError(
                _("Incident %(ids)s is already %(status)s.")
                % {
                    "ids": ", ".join(f"#{i.pk}" for i in decided),
                    "status": decided[0].get_status_display(),
                },  # fmt: skip
                code="already_decided",
            )
        # Scoring refuses decisions in approved periods and locked branches: asked once for
        # the batch, before any decision is written.
        events.vetoes_changing.send(sender=Incident, cases=[
            {"period_codes": periods_of_day(i.occurred_on), "unit_path": i.unit.path,
             "changes_cards": _changes_cards(i, status)}
            for i in incidents
        ])  # fmt: skip
        for incident in incidents:
            if _decide_one(incident, actor=actor, status=status, decision=decision,
                           reason=reason.strip()):  # fmt: skip
                months.add(month_of(incident.occurred_on).code)
                employees.add(incident.employee.employee_id)
    if months:  # after the decisions commit (a caller's transaction defers it further)
        _recompute(months, wanted, sorted(employees), actor)
    return incidents


def incidents_assign(
    *, incident_ids: list[int], assignee: str | None, actor: User
) -> list[Incident]:
    """Give cases to a compliance officer or an admin, by username (None: to no one), all or
    none; one audit entry a case whose assignee changes."""
    require_decider(actor)
    user: User | None = None
    if assignee is not None:
        user = User.objects.filter(username=assignee, is_active=True).first()
        if user is None:
            raise ComplianceError(_("No user %(user)s.") % {"user": assignee}, field="assignee")
    if user is not None and not may(user, Action.DECIDE_INCIDENTS):
        raise ComplianceError(
            _("%(user)s does not decide incidents: assign cases to a compliance officer or an "
              "administrator.") % {"user": user.username},
            field="assignee",
        )  # fmt: skip
    wanted = sorted(set(incident_ids))
    if not wanted:
        raise ComplianceError(_("Choose at least one incident."), field="ids")
    with transaction.atomic():
        incidents = list(
            Incident.objects.visible_to(actor)
            .select_for_update(of=("self",))
            .select_related("assignee")
            .filter(pk__in=wanted)
            .order_by("pk")
        )
        if len(incidents) != len(wanted):
            raise Http404  # out of scope is not found, and nothing changes
        name = user.username if user else None
        moved = [i for i in incidents if i.assignee_id != (user.pk if user else None)]
        changes: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = [
            (str(i.pk), {"assignee": i.assignee.username if i.assignee else None},
             {"assignee": name})
            for i in moved
        ]  # fmt: skip
        Incident.objects.filter(pk__in=[i.pk for i in moved]).update(assignee=user)
        if changes:
            audit_bulk(actor=actor, action="incident.assign", object_type="incident",
                       changes=changes)  # fmt: skip
        for incident in incidents:
            incident.assignee = user
    return incidents


def _changes_cards(incident: Incident, status: str) -> bool:
    """Whether a decision makes or unmakes a veto (and so changes its periods' cards)."""
    return (status == IncidentStatus.CONFIRMED and incident.type.is_veto) or incident.veto


def _decide_one(
    incident: Incident, *, actor: User, status: str, decision: str, reason: str
) -> bool:
    """Record one decision (caller's transaction, the incident's row locked): True when it
    makes or unmakes a veto, so that its periods' cards change."""
    before = _snapshot(incident)
    veto = status == IncidentStatus.CONFIRMED and incident.type.is_veto
    changes_cards = _changes_cards(incident, status)
    IncidentDecision.objects.create(
        incident=incident,
        status=status,
        previous_status=incident.status,
        veto=veto,
        previous_veto=incident.veto,
        reason=reason,
        actor=actor,
    )
    incident.status, incident.veto = status, veto
    incident.decided_by, incident.decided_at = actor, timezone.now()
    incident.decision_reason = reason
    incident.save(update_fields=["status", "veto", "decided_by", "decided_at", "decision_reason"])
    audit_record(
        actor=actor,
        action=f"incident.{decision}",
        object_type="incident",
        object_id=str(incident.pk),
        before=before,
        after=_snapshot(incident),
        reason=reason,
    )
    return bool(changes_cards)


def _recompute(
    months: set[str], incident_ids: list[int], employees: list[str], actor: User
) -> None:
    from wealthscore.kernel.jobs import enqueue
    from wealthscore.kernel.periods import periods_for_months

    # Only periods that have ended (or the year to date); a month still running picks the
    # veto up when it is scored at its end. Asked for by task name (after the commit):
    # compliance does not import the scoring services, and the request outlives a broker
    # that is down. One recompute for a whole batch of decisions, of the RMs they concern.
    first = incident_ids[0]
    trigger = f"incident:{first}" if len(incident_ids) == 1 else f"incidents:{first}+"
    enqueue(
        "scorecards.recompute",
        codes=periods_for_months(months),
        trigger=trigger,
        actor_id=actor.pk,
        employees=employees,
    )


# ---------------------------------------------------------------- T+1 warnings of an import
def _c(column: str) -> str:
    """A key compared with the C-collated keys of the partitioned CRM tables (PostgreSQL):
    with one collation on both sides the primary-key index serves the lookup."""
    return f'{column} COLLATE "C"' if connection.vendor == "postgresql" else column


def _months_before(column: str, months: int) -> str:
    if connection.vendor == "postgresql":
        return f"({column} - interval '{int(months)} months')::date"
    return f"date({column}, '-{int(months)} months')"


def _unit_of_rm_on(day: str) -> str:
    """SQL join giving `u`, the unit of the RM `e` on `day` (targets' `unit_on_sql`, as an
    incident recorded by hand gets it)."""
    return f"LEFT JOIN targets_orgunit u ON u.id = {unit_on_sql('e.id', day)}"


def _check_sales_sql(valid_months: int) -> str:
    # The client's risk level on the sale date: her latest month-end snapshot on or before
    # it, as the suitability_match measure reads it; with none, unknown (no warning).
    return f"""
    INSERT INTO compliance_salecheck (txn_id, txn_date, client_id, employee_id, unit_code,
      product_risk, client_risk, risk_assessed_on, suitable, assessment_stale, batch_id)
    SELECT x.txn_id, x.txn_date, x.client_id, x.rm_employee_id, COALESCE(u.code, ''),
      p.risk_level, s.client_risk_level, s.risk_assessed_on,
      CASE WHEN s.client_id IS NULL THEN NULL ELSE p.risk_level <= s.client_risk_level END,
      CASE WHEN s.risk_assessed_on IS NULL THEN NULL
           ELSE s.risk_assessed_on < {_months_before("x.txn_date", valid_months)} END,
      x.batch_id
    FROM crm_sale x
    JOIN crm_product p ON p.product_code = x.product_code
    LEFT JOIN targets_employee e ON e.employee_id = x.rm_employee_id
    {_unit_of_rm_on("x.txn_date")}
    LEFT JOIN crm_clientsnapshot s ON s.client_id = {_c("x.client_id")} AND s.as_of_date =
      (SELECT MAX(a.as_of_date) FROM crm_clientsnapshot a
        WHERE a.client_id = {_c("x.client_id")} AND a.as_of_date <= x.txn_date)
    WHERE x.batch_id = %s
    ON CONFLICT (txn_id) DO UPDATE SET txn_date = excluded.txn_date,
      client_id = excluded.client_id, employee_id = excluded.employee_id,
      unit_code = excluded.unit_code, product_risk = excluded.product_risk,
      client_risk = excluded.client_risk, risk_assessed_on = excluded.risk_assessed_on,
      suitable = excluded.suitable, assessment_stale = excluded.assessment_stale,
      batch_id = excluded.batch_id
    """


# (type, condition on the sale check `c`, description built in SQL): the stored text is
# the bank's working language, as an officer would have written it.
SALE_WARNINGS = [
    (
        "unsuitable_sale",
        "c.suitable = %s",
        "'产品风险等级 R' || c.product_risk || ' 高于客户风险承受能力 C' || c.client_risk"
        " || '（交易 ' || c.txn_id || '）'",
    ),
    (
        "stale_risk_assessment",
        "c.assessment_stale = %s",
        "'客户风险测评日期 ' || c.risk_assessed_on || ' 已超过有效期 ' || %s"
        " || ' 个月（交易 ' || c.txn_id || '）'",
    ),
]

RAISE_COLUMNS = (
    "type_code, employee_id, unit_id, occurred_on, description, source, warning_key, "
    "client_id, txn_id, batch_id, evidence, evidence_name, evidence_sha256, status, veto, "
    "created_at, decision_reason"
)


def _raise_from_sales(cursor, batch: ImportBatch, now: dt.datetime, valid_months: int) -> None:
    for code, condition, description in SALE_WARNINGS:
        incident_type_get(code)  # installed, if a flush emptied the types
        params: list = [] if code == "unsuitable_sale" else [str(valid_months)]
        flag = code == "stale_risk_assessment"  # unsuitable: suitable = false
        cursor.execute(
            f"""
            INSERT INTO compliance_incident ({RAISE_COLUMNS})
            SELECT %s, e.id, u.id, c.txn_date, {description}, %s, %s || c.txn_id,
              c.client_id, c.txn_id, %s, '', '', '', %s, %s, %s, ''
            FROM compliance_salecheck c
            JOIN targets_employee e ON e.employee_id = c.employee_id
            JOIN targets_orgunit u ON u.code = c.unit_code
            WHERE c.batch_id = %s AND {condition}
            ON CONFLICT (warning_key) DO NOTHING
            """,
            [code, *params, IncidentSource.AUTOMATIC, f"{code}:", batch.pk,
             IncidentStatus.OPEN, False, now, batch.pk, flag],
        )  # fmt: skip


def _raise_from_recordings(cursor, batch: ImportBatch, now: dt.datetime) -> None:
    code = "non_compliant_recording"
    incident_type_get(code)
    cursor.execute(
        f"""
        INSERT INTO compliance_incident ({RAISE_COLUMNS})
        SELECT %s, e.id, u.id, r.check_date,
          '双录抽查不合规（抽查 ' || r.check_id || CASE WHEN r.txn_id <> ''
            THEN '，交易 ' || r.txn_id ELSE '' END || '）',
          %s, %s || r.check_id, '', r.txn_id, %s, '', '', '', %s, %s, %s, ''
        FROM crm_recordingcheck r
        JOIN targets_employee e ON e.employee_id = r.rm_employee_id
        {_unit_of_rm_on("r.check_date")}
        WHERE r.batch_id = %s AND r.compliant = %s AND u.id IS NOT NULL
        ON CONFLICT (warning_key) DO NOTHING
        """,
        [code, IncidentSource.AUTOMATIC, f"{code}:", batch.pk, IncidentStatus.OPEN, False,
         now, batch.pk, False],
    )  # fmt: skip


def warnings_raise(*, batch: ImportBatch) -> dict[str, int]:
    """Check what the batch loaded and raise each new T+1 warning as an open incident.

    Runs in the import's transaction (a rejected or failed load raises nothing). A warning
    is keyed by its sale or check, so a re-import never raises it twice. Returns the count
    of new incidents by type.
    """
    if batch.kind not in {"sales", "recording_checks"}:
        return {}
    now = timezone.now()
    with connection.cursor() as cursor:
        if batch.kind == "sales":
            valid_months = settings.WEALTHSCORE_RISK_ASSESSMENT_VALID_MONTHS
            cursor.execute(_check_sales_sql(valid_months), [batch.pk])
            _raise_from_sales(cursor, batch, now, valid_months)
        else:
            _raise_from_recordings(cursor, batch, now)
    raised = list(
        Incident.objects.filter(batch=batch, source=IncidentSource.AUTOMATIC)
        .select_related("employee")
        .order_by("id")
    )
    audit_bulk(
        actor=batch.actor,
        actor_label=batch.actor_label,
        action="incident.raise",
        object_type="incident",
        changes=[(str(incident.pk), None, _snapshot(incident)) for incident in raised],
        reason=_("T+1 warning of import batch #%(id)s") % {"id": batch.pk},
    )
    counts: dict[str, int] = {}
    for incident in raised:
        counts[incident.type_id] = counts.get(incident.type_id, 0) + 1
    if counts:
        log.info("batch #%s raised %s", batch.pk, counts)
    return counts
