"""Compliance (SPEC §6): incident types, incidents and their decisions, sale checks.

An incident is a case against one RM: recorded by a compliance officer, or raised by an
import (T+1 warnings). Its status is the result of its latest decision; every decision is
a row of its own (IncidentDecision, append-only), so a reversed veto is a new event and
nothing is edited in place. Whether a confirmed incident vetoes is fixed when it is
confirmed (from its type's configuration then), so a later change of configuration never
changes a decided case silently.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from targets.models import scope_of
from wealthscore.kernel.access import Action, Role, allows


def incident_type_name(code: str, name: str, name_en: str) -> str:
    """A type's name in the reader's language: its English name on an English page (its
    Chinese one where it has none), else its Chinese name; the code if it has neither."""
    if (translation.get_language() or "").startswith("en"):
        return name_en or name or code
    return name or code


class IncidentType(models.Model):
    """A kind of incident; `is_veto` types fail the RM's periods when confirmed (一票否决)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60)
    is_veto = models.BooleanField(_("one-vote veto"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # Days a case of this type may wait for a decision after it is raised (admin-set):
    # past them an open case is overdue, flagged on the list and counted on the board.
    sla_days = models.PositiveSmallIntegerField(_("days to decide"), default=5)

    class Meta:
        verbose_name = _("incident type")
        verbose_name_plural = _("incident types")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class IncidentStatus(models.TextChoices):
    # "Open" is a period's status too; a case that is open waits for a decision (待处理).
    OPEN = "open", pgettext_lazy("incident status", "Open")
    CONFIRMED = "confirmed", _("Confirmed")
    DISMISSED = "dismissed", _("Dismissed")


class IncidentSource(models.TextChoices):
    MANUAL = "manual", _("Recorded by compliance")
    AUTOMATIC = "automatic", _("Raised by an import (T+1)")


class IncidentQuerySet(models.QuerySet):
    def visible_to(self, user) -> IncidentQuerySet:
        """Compliance and admins all; managers their subtree's (read-only); RMs their own
        confirmed ones; HR none (no client-level data, SPEC §1)."""
        scope = scope_of(user)
        if allows(scope.role, Action.DECIDE_INCIDENTS):
            return self.all()
        if scope.role == Role.MANAGER and scope.unit is not None:
            return self.filter(unit__path__startswith=scope.unit.path)
        if scope.role == Role.RM and scope.employee is not None:
            return self.filter(employee=scope.employee, status=IncidentStatus.CONFIRMED)
        return self.none()


class Incident(models.Model):
    type = models.ForeignKey(
        IncidentType, on_delete=models.PROTECT, to_field="code", db_column="type_code",
        related_name="+", verbose_name=_("type"),
    )  # fmt: skip
    employee = models.ForeignKey(
        "targets.Employee", on_delete=models.PROTECT, related_name="incidents",
        verbose_name=_("RM"),
    )  # fmt: skip
    # The RM's unit on the day of the incident: where it is counted and who may see it.
    unit = models.ForeignKey(
        "targets.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    occurred_on = models.DateField(_("date"))
    description = models.TextField(_("description"))
    source = models.CharField(
        _("source"), max_length=10, choices=IncidentSource.choices, default=IncidentSource.MANUAL
    )
    # An automatic warning's identity ("unsuitable_sale:T20261000000123"): raised once.
    warning_key = models.CharField(_("warning key"), max_length=80, null=True, blank=True)
    client_id = models.CharField(_("client ID"), max_length=32, blank=True)
    txn_id = models.CharField(_("transaction ID"), max_length=40, blank=True)
    batch = models.ForeignKey(
        "crm.ImportBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    evidence = models.FileField(_("evidence"), upload_to="evidence/%Y/%m/", blank=True)
    evidence_name = models.CharField(_("evidence file name"), max_length=255, blank=True)
    evidence_sha256 = models.CharField(_("evidence SHA-256"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    # Set when confirmed: does this case veto the RM's periods (its type's setting then).
    veto = models.BooleanField(_("veto"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("recorded by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("decided by"),
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    # The compliance officer (or admin) who works the case.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("assigned to"),
    )  # fmt: skip

    objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-occurred_on", "-id"]
        indexes = [
            models.Index(fields=["status", "occurred_on"], name="incident_status_day"),
            models.Index(fields=["employee", "occurred_on"], name="incident_rm_day"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["warning_key"], name="incident_warning_once"),
            # Only a confirmed case vetoes; an open or dismissed one never does.
            models.CheckConstraint(
                condition=Q(veto=False) | Q(status=IncidentStatus.CONFIRMED),
                name="incident_veto_only_confirmed",
            ),
            models.CheckConstraint(
                condition=Q(status=IncidentStatus.OPEN)
                | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="incident_decided_has_decider",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type_id} {self.employee_id} {self.occurred_on} {self.status}"

    @property
    def due_on(self) -> dt.date:
        """The day a decision is due: the day the case was raised plus its type's SLA."""
        raised = timezone.localdate(self.created_at) if self.created_at else timezone.localdate()
        return raised + dt.timedelta(days=self.type.sla_days)

    @property
    def overdue(self) -> bool:
        return self.status == IncidentStatus.OPEN and timezone.localdate() > self.due_on


class DecisionQuerySet(models.QuerySet):
    def update(self, **kwargs):  # noqa: ARG002 - decisions are events: never rewritten
        raise TypeError("Incident decisions are append-only.")

    def delete(self):
        raise TypeError("Incident decisions are append-only.")


class IncidentDecision(models.Model):
    """One decision on an incident: confirm, dismiss, or a later reversal of either."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="decisions")
    status = models.CharField(_("decided"), max_length=10, choices=IncidentStatus.choices)
    previous_status = models.CharField(
        _("previous status"), max_length=10, choices=IncidentStatus.choices
    )
    veto = models.BooleanField(_("veto"))
    previous_veto = models.BooleanField(_("previous veto"))
    reason = models.TextField(_("reason"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident decision")
        verbose_name_plural = _("incident decisions")
        ordering = ["incident_id", "at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=IncidentStatus.OPEN), name="decision_not_open"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="decision_has_reason"),
        ]


class SaleCheck(models.Model):
    """The T+1 suitability check of one sale, written by the import that loaded it.

    `suitable` and `assessment_stale` are null when the client's risk level was unknown on
    the sale date (no client snapshot yet): no evidence either way.
    """

    txn_id = models.CharField(_("transaction ID"), max_length=40, unique=True)
    txn_date = models.DateField(_("transaction date"))
    client_id = models.CharField(_("client ID"), max_length=32)
    employee_id = models.CharField(_("employee ID"), max_length=32)
    unit_code = models.CharField(_("unit code"), max_length=32, blank=True)
    product_risk = models.PositiveSmallIntegerField(_("product risk (R)"))
    client_risk = models.PositiveSmallIntegerField(_("client risk (C)"), null=True)
    risk_assessed_on = models.DateField(_("risk assessed on"), null=True)
    suitable = models.BooleanField(_("suitable"), null=True)
    assessment_stale = models.BooleanField(_("assessment out of date"), null=True)
    batch_id = models.BigIntegerField(_("import batch"))

    class Meta:
        verbose_name = _("sale check")
        verbose_name_plural = _("sale checks")
        indexes = [models.Index(fields=["txn_date", "unit_code"], name="salecheck_day_unit")]
