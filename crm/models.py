"""Facts imported from the CRM, HR and compliance exports (SPEC §4), and the import batches.

Fact tables reference staff, units, clients and products by their natural string keys
(`employee_id`, `unit_code`, ...), exactly as the exports carry them. The references are
checked by the import before anything is written; they are not database foreign keys
because per-row FK checks would double the cost of loading a 2-million-row month.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm import messages as _registered  # noqa: F401  (crm's codes join the registry)
from wealthscore.kernel.messages import Message, as_message, render


class ImportKind(models.TextChoices):
    ORG_UNITS = "org_units", _("Org units")
    STAFF = "staff", _("Staff")
    PRODUCTS = "products", _("Products")
    HOLDINGS = "holdings", _("Holdings")
    SALES = "sales", _("Sales")
    ACTIVITIES = "activities", _("Activities")
    SURVEYS = "surveys", _("Surveys")
    COMPLAINTS = "complaints", _("Complaints")
    RECORDING_CHECKS = "recording_checks", _("Recording checks")
    TARGETS = "targets", _("Targets")
    MANUAL_SCORES = "manual_scores", _("Manual scores")


class BatchStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    LOADED = "loaded", _("Loaded")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate (nothing changed)")
    FAILED = "failed", _("Failed")


class ImportBatchQuerySet(models.QuerySet):
    def visible_to(self, user) -> ImportBatchQuerySet:
        from wealthscore.kernel.access import Action, may

        # Import files hold client-level data: only the roles that load them see them.
        if may(user, Action.IMPORT):
            return self.all()
        return self.none()


class ImportBatch(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    # Where the file is while the batch runs (an upload's copy, or the inbox file).
    stored_path = models.CharField(_("stored at"), max_length=500, blank=True)
    size_bytes = models.BigIntegerField(_("size in bytes"), default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("job"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=BatchStatus.choices, default=BatchStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0)
    stage = models.CharField(_("stage"), max_length=40, blank=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    rows_total = models.IntegerField(_("rows in file"), default=0)
    rows_loaded = models.IntegerField(_("rows loaded"), default=0)
    rows_replaced = models.IntegerField(_("rows replaced"), default=0)
    error_count = models.IntegerField(_("errors"), default=0)
    # The first 1,000 errors: {"row", "column", "value", "reason", optional "fix"}, the
    # reason and the fix stored as codes with parameters (crm/messages.py), so that each
    # reader reads them in her language (`errors`); a batch stored before codes holds text.
    row_errors = models.JSONField(_("row errors"), default=list, blank=True, db_column="errors")
    # The batch's outcome, a code with parameters too (`message` renders it).
    notice = models.JSONField(_("message"), default=dict, blank=True)
    dropped_columns = models.JSONField(_("dropped columns"), default=list, blank=True)
    as_of_date = models.DateField(_("as-of date"), null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Who runs the batch ("host:pid") and when it last showed life (a stage, or the
    # heartbeat thread): a pending or running batch silent too long has lost its worker and
    # is dispatched again by the reaper (crm.reap_batches).
    owner = models.CharField(_("owner"), max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration_ms = models.IntegerField(_("duration (ms)"), null=True, blank=True)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same file is loaded at most once; a second arrival is recorded as duplicate.
            models.UniqueConstraint(
                fields=["kind", "sha256"],
                condition=Q(status="loaded"),
                name="importbatch_one_load_per_file",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100), name="importbatch_progress_pct"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.file_name} {self.status}"

    @property
    def message(self) -> str:
        """The batch's outcome in the active language."""
        return render(self.notice)

    @message.setter
    def message(self, value: Message | str) -> None:
        self.notice = as_message(value) or {}

    @property
    def errors(self) -> list[dict]:
        """The row errors, their reasons and fixes in the active language."""
        return [_rendered(entry) for entry in self.row_errors]

    @errors.setter
    def errors(self, value: list[dict]) -> None:
        self.row_errors = value

    @property
    def coded_errors(self) -> list[dict]:
        """The row errors rendered, with each reason's code and parameters (the API's)."""
        return [_rendered(entry, codes=True) for entry in self.row_errors]


def _rendered(entry: dict, *, codes: bool = False) -> dict:
    reason = as_message(entry.get("reason"))
    shown = {"row": entry.get("row"), "column": entry.get("column"),
             "value": entry.get("value"), "reason": render(reason)}  # fmt: skip
    if entry.get("fix"):
        shown["fix"] = render(entry["fix"])
    if codes and reason is not None:
        # A parameter that is a message itself (the why of a file over the limits) as text.
        shown["code"] = reason["code"]
        shown["params"] = {k: render(v) if isinstance(v, dict) else v
                           for k, v in reason["params"].items()}  # fmt: skip
    return shown


def _fact_ref(model: str, to_field: str, **kwargs) -> models.ForeignKey:
    # No index of its own either: each table declares the composite indexes its queries use,
    # and every extra index is paid for on every row of a bulk load.
    return models.ForeignKey(
        model,
        to_field=to_field,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        **kwargs,
    )


def _batch_ref(*, indexed: bool = True) -> models.ForeignKey:
    return models.ForeignKey(
        ImportBatch,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=indexed,
        related_name="+",
    )


class Product(models.Model):
    product_code = models.CharField(_("product code"), max_length=32, unique=True)
    name = models.CharField(_("product name"), max_length=200)
    category = models.CharField(_("category"), max_length=16)
    risk_level = models.PositiveSmallIntegerField(_("risk level (R)"))
    strategic_tag = models.CharField(_("strategic tag"), max_length=20, blank=True)
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(risk_level__gte=1, risk_level__lte=5), name="product_risk_r1_r5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_code} {self.name}"


def _client_id(**kwargs) -> models.CharField:
    return models.CharField(_("client ID"), max_length=32, **kwargs)


class Holding(models.Model):
    """A month-end balance of one client in one product category.

    Narrow on purpose: a month of a large bank is millions of rows, loaded by COPY. What is
    said of the client as a whole (managing RM, name, risk level) is in ClientSnapshot.
    """

    pk = models.CompositePrimaryKey("as_of_date", "client_id", "category")
    as_of_date = models.DateField(_("as-of date"))
    client_id = _client_id()
    category = models.CharField(_("category"), max_length=16)
    balance = models.DecimalField(_("balance"), max_digits=18, decimal_places=2)
    batch = _batch_ref(indexed=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="holding_balance_not_negative")
        ]


class ClientSnapshot(models.Model):
    """One client at one month-end: who manages her (管户), her total AUM, her risk level.

    The managing-RM history of each client follows from these rows: a client is managed by
    the RM of her latest snapshot on or before a day. Client names are kept for masked
    display only (SPEC §4); ID numbers, phones and addresses never reach the database.
    """

    pk = models.CompositePrimaryKey("client_id", "as_of_date")
    client_id = _client_id()
    as_of_date = models.DateField(_("as-of date"))
    name = models.CharField(_("client name"), max_length=100, blank=True)
    rm = _fact_ref("targets.Employee", "employee_id", db_column="rm_employee_id")
    unit = _fact_ref("targets.OrgUnit", "code", db_column="unit_code")
    total_balance = models.DecimalField(_("total balance"), max_digits=20, decimal_places=2)
    client_risk_level = models.PositiveSmallIntegerField(_("client risk level (C)"))
    risk_assessed_on = models.DateField(_("risk assessed on"), null=True, blank=True)
    # What the month's holdings say of the client, summed once at import (crm.holdings): the
    # cross-sell and family-trust measures then read one row a client, not her every holding.
    non_deposit_categories = models.PositiveSmallIntegerField(
        _("non-deposit categories held"), db_default=0
    )
    holds_trust = models.BooleanField(_("holds a trust"), db_default=False)
    batch = _batch_ref(indexed=False)

    class Meta:
        indexes = [models.Index(fields=["as_of_date", "rm"], name="snapshot_month_rm")]
        constraints = [
            models.CheckConstraint(
                condition=Q(client_risk_level__gte=1, client_risk_level__lte=5),
                name="snapshot_client_risk_c1_c5",
            ),
        ]


class ClientAssignment(models.Model):
    """A client first seen in a sale, before any holdings snapshot names her: the RM and day
    of her first sale. It makes her number known (leading-zero twins, crm.validation); it
    credits nothing: a fact no snapshot credits to a manager is the RM's on it (SPEC §4).
    """

    client_id = _client_id(unique=True)
    rm = _fact_ref("targets.Employee", "employee_id", db_column="rm_employee_id")
    valid_from = models.DateField(_("valid from"))
    batch = _batch_ref()


class Sale(models.Model):
    txn_id = models.CharField(_("transaction ID"), max_length=40, unique=True)
    txn_date = models.DateField(_("transaction date"))
    client_id = _client_id()
    rm = _fact_ref("targets.Employee", "employee_id", db_column="rm_employee_id")
    product = _fact_ref("crm.Product", "product_code", db_column="product_code")
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    fee_income = models.DecimalField(
        _("fee income"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    channel = models.CharField(_("channel"), max_length=40, blank=True)
    batch = _batch_ref()

    class Meta:
        indexes = [
            models.Index(fields=["txn_date", "rm"], name="sale_date_rm"),
            models.Index(fields=["client_id", "txn_date"], name="sale_client_date"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="sale_amount_not_negative")
        ]


class ProductCategory(models.TextChoices):
    """A holding's category, as crm/kinds.CATEGORIES reads it from a file, named for readers."""

    DEPOSIT = "deposit", _("Deposit")
    WEALTH = "wealth", _("Wealth management")
    FUND = "fund", _("Fund")
    INSURANCE = "insurance", _("Insurance")
    TRUST = "trust", _("Trust")
    PRIVATE_FUND = "private_fund", _("Private fund")
    BOND = "bond", _("Bond")
    LOAN = "loan", _("Loan")
    CREDIT_CARD = "credit_card", _("Credit card")


class ActivityType(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")
    PLAN_PROPOSED = "plan_proposed", _("Plan proposed")
    PLAN_ADOPTED = "plan_adopted", _("Plan adopted")
    EDUCATION_EVENT = "education_event", _("Investor-education event")


class Activity(models.Model):
    activity_id = models.CharField(_("activity ID"), max_length=40, unique=True)
    activity_date = models.DateField(_("activity date"))
    rm = _fact_ref("targets.Employee", "employee_id", db_column="rm_employee_id")
    client_id = _client_id(blank=True, null=True)
    activity_type = models.CharField(
        _("activity type"), max_length=20, choices=ActivityType.choices
    )
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    batch = _batch_ref()

    class Meta:
        indexes = [models.Index(fields=["activity_date", "rm"], name="activity_date_rm")]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="activity_rating_1_5",
            )
        ]


class Survey(models.Model):
    response_id = models.CharField(_("response ID"), max_length=40, unique=True)
    survey_date = models.DateField(_("survey date"))
    client_id = _client_id()
    rm = _fact_ref("targets.Employee", "employee_id", db_column="rm_employee_id")
    nps_score = models.PositiveSmallIntegerField(_("NPS score"))
    batch = _batch_ref()

    class Meta:
        indexes = [models.Index(fields=["survey_date", "rm"], name="survey_date_rm")]
        constraints = [
            models.CheckConstraint(
                condition=Q(nps_score__gte=0, nps_score__lte=10), name="survey_nps_0_10"
            )
        ]


class Complaint(models.Model):
    complaint_id = models.CharField(_("complaint ID"), max_length=40, unique=True)
    received_date = models.DateField(_("received on"))
    client_id = _client_id()
    rm = _fact_ref("targets.Employee", "employee_id", db_column="rm_employee_id")
    category = models.CharField(_("category"), max_length=60)
    resolved_date = models.DateField(_("resolved on"), null=True, blank=True)
    batch = _batch_ref()

    class Meta:
        indexes = [models.Index(fields=["received_date", "rm"], name="complaint_date_rm")]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_date__isnull=True)
                | Q(resolved_date__gte=models.F("received_date")),
                name="complaint_resolved_after_received",
            )
        ]


class RecordingCheck(models.Model):
    check_id = models.CharField(_("check ID"), max_length=40, unique=True)
    check_date = models.DateField(_("check date"))
    rm = _fact_ref("targets.Employee", "employee_id", db_column="rm_employee_id")
    txn_id = models.CharField(_("transaction ID"), max_length=40, blank=True)
    compliant = models.BooleanField(_("compliant"))
    batch = _batch_ref()

    class Meta:
        indexes = [models.Index(fields=["check_date", "rm"], name="recording_date_rm")]


class FactMonth(models.Model):
    """The version of a month's facts, raised by every import that changes them.

    Scoring caches what it computes from a month of facts (scorecards.MeasureSegment) under
    this version: a correction of September raises September's version (and the months after
    it, whose crediting may depend on it), so September is computed afresh while the months
    before it are read back. Months no import ever touched have no row and are never cached.
    """

    month = models.CharField(_("month"), max_length=7, primary_key=True)  # 2026-09
    version = models.PositiveBigIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("fact month")
        verbose_name_plural = _("fact months")


class NightlyRun(models.Model):
    """One night's inbox run (`run_nightly`): when, what it loaded and rejected, what it
    recomputed, and how it ended. Written when the run starts and when it ends, so that a run
    that died shows as running with no end (the run history, issue 17)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    trigger = models.CharField(_("trigger"), max_length=100)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.RUNNING
    )
    files_loaded = models.PositiveIntegerField(_("files loaded"), default=0)
    files_unchanged = models.PositiveIntegerField(_("files unchanged"), default=0)
    files_rejected = models.PositiveIntegerField(_("files rejected"), default=0)
    batch_ids = models.JSONField(_("import batches"), default=list, blank=True)
    recomputed = models.JSONField(_("periods recomputed"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("nightly run")
        verbose_name_plural = _("nightly runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["running", "done", "failed"]),
                name="nightlyrun_status_known",
            )
        ]

    def __str__(self) -> str:
        return f"nightly #{self.pk} {self.status}"
