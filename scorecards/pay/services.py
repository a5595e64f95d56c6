"""Writes around pay and talent (SPEC §7): the audited HR exports and the pay policy."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from scorecards.models import PayPolicy
from scorecards.pay.exports import (
    CSV_ENCODINGS,
    FORMATS,
    TALENT_COLUMNS,
    content_type,
    file_name,
    pay_columns,
    write_report,
)
from scorecards.pay.selectors import Report, pay_report, require_pay_scope, talent_report
from targets.models import OrgUnit, User, scope_of
from wealthscore.kernel.access import Role
from wealthscore.kernel.audit import audit_record
from wealthscore.kernel.errors import DomainError, ForbiddenError


@dataclass(frozen=True)
class ExportFile:
    path: Path  # a temporary file: the caller moves or streams it
    name: str
    content_type: str
    rows: int
    provisional: bool


def _format(fmt: str) -> str:
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise DomainError(
            _("The format is xlsx or csv, not %(f)s.") % {"f": fmt or "-"}, field="format"
        )
    return fmt


def _encoding(encoding: str) -> str:
    encoding = (encoding or "utf-8").lower()
    if encoding not in CSV_ENCODINGS:
        raise DomainError(
            _("The encoding is utf-8 or gb18030, not %(e)s.") % {"e": encoding},
            field="encoding",
        )
    return encoding


def _export(
    *, report: Report, stem: str, subject: str, columns, fmt: str, encoding: str,
    actor: User | None, actor_label: str, action: str,
) -> ExportFile:  # fmt: skip
    name = file_name(stem, report, fmt)
    path = Path(tempfile.mkdtemp(prefix="wealthscore-export-")) / name
    write_report(path, fmt, subject, subject, columns, report, encoding)
    with transaction.atomic():
        audit_record(
            actor=actor,
            actor_label=actor_label,
            action=action,
            object_type="period",
            object_id=report.period,
            after={"format": fmt, "encoding": encoding if fmt == "csv" else None,
                   "rows": len(report.rows), "provisional": report.provisional,
                   "status": report.status, "unit": report.unit.code if report.unit else None,
                   "file": name},
        )  # fmt: skip
    return ExportFile(path, name, content_type(fmt, encoding), len(report.rows), report.provisional)


def pay_export(
    *, actor: User | None, period_code: str, fmt: str, unit: OrgUnit | None = None,
    actor_label: str = "", encoding: str = "utf-8",
) -> ExportFile:  # fmt: skip
    """The quarter's pay adjustments as a file; audited (who, which period, how many rows).
    `actor` None is a command run on the server (`export_pay`), named by `actor_label`."""
    if actor is not None:
        require_pay_scope(actor)
    fmt, encoding = _format(fmt), _encoding(encoding)
    report = pay_report(period_code=period_code, unit=unit)
    assert report.bands is not None  # a quarter's report always has the bands in force
    return _export(
        report=report, stem="pay", subject="绩效薪酬调整", columns=pay_columns(report.bands),
        fmt=fmt, encoding=encoding, actor=actor, actor_label=actor_label, action="export.pay",
    )  # fmt: skip


def talent_export(
    *, actor: User | None, year: int, fmt: str, unit: OrgUnit | None = None,
    actor_label: str = "", encoding: str = "utf-8",
) -> ExportFile:  # fmt: skip
    """The year's ranking with the promotion and improvement lists as a file; audited."""
    if actor is not None:
        require_pay_scope(actor)
    fmt, encoding = _format(fmt), _encoding(encoding)
    report = talent_report(year=year, unit=unit)
    return _export(
        report=report, stem="talent", subject="年度人才名单", columns=TALENT_COLUMNS, fmt=fmt,
        encoding=encoding, actor=actor, actor_label=actor_label, action="export.talent",
    )  # fmt: skip


@transaction.atomic
def pay_policy_save(*, policy: PayPolicy, actor: User, created: bool) -> PayPolicy:
    """Save pay bands (admins). A policy applies to quarters ending on or after its date."""
    if scope_of(actor).role != Role.ADMIN:
        raise ForbiddenError(_("Only admins set the pay bands."))
    fields = ["effective_from", "top_from", "top_pct", "pass_from", "pass_pct", "fail_pct"]
    before = None
    if not created:
        before = PayPolicy.objects.filter(pk=policy.pk).values(*fields).first()
    policy.created_by = policy.created_by or actor
    policy.save()
    audit_record(
        actor=actor,
        action="pay_policy.create" if created else "pay_policy.update",
        object_type="pay_policy",
        object_id=str(policy.pk),
        before=before,
        after={field: getattr(policy, field) for field in fields},
    )
    return policy
