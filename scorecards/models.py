"""Scoring models (SPEC §5): schemes and their versions, periods, score runs and cards.

A scheme version holds dimensions → KPIs → measures; it is edited as a draft and frozen once
published. A period (month, quarter, year) points at its current score run; a recompute
writes a whole new run and moves that pointer in one transaction, so readers see the old
cards or the new ones, never a mix.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from scorecards.messages import render as render_reason
from targets.models import scope_of
from wealthscore.kernel.access import Role
from wealthscore.kernel.messages import Message


class ManualScore(models.Model):
    """A 0-100 score entered for a manual measure (committee, inspection) for one period."""

    period = models.CharField(_("period"), max_length=10)
    employee = models.ForeignKey(
        "targets.Employee", on_delete=models.PROTECT, related_name="manual_scores"
    )
    measure = models.CharField(_("measure"), max_length=40)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    comment = models.TextField(_("comment"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    batch = models.ForeignKey(
        "crm.ImportBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)

    class Meta:
        verbose_name = _("manual score")
        verbose_name_plural = _("manual scores")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "employee", "measure"], name="manualscore_unique"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100), name="manualscore_0_100"
            ),
        ]


# ---------------------------------------------------------------- schemes
class AttributionBasis(models.TextChoices):
    MANAGED = "managed", _("Managing RM (管户口径)")
    TRANSACTION = "transaction", _("RM on the transaction (业务发生口径)")


class Dimension(models.TextChoices):
    # English in the code, the bank's words (业绩贡献, …) in the catalogue.
    PERFORMANCE = "performance", pgettext_lazy("dimension", "Performance")
    SERVICE = "service", pgettext_lazy("dimension", "Client service")
    COMPLIANCE = "compliance", pgettext_lazy("dimension", "Compliance")
    TEAMWORK = "teamwork", pgettext_lazy("dimension", "Teamwork")
    BONUS = "bonus", pgettext_lazy("dimension", "Bonus")


class Method(models.TextChoices):
    LINEAR = "linear", _("Linear")
    MANUAL = "manual", _("Manual")
    BONUS = "bonus", _("Bonus")


class Window(models.TextChoices):
    PERIOD = "period", _("The card's period")
    QUARTER_TO_DATE = "quarter_to_date", _("Quarter to date (month cards)")


class Scheme(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("scheme")
        verbose_name_plural = _("schemes")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SchemeVersionQuerySet(models.QuerySet):
    def visible_to(self, user) -> SchemeVersionQuerySet:
        # The rules of the game are public to every signed-in user; drafts only to admins.
        scope = scope_of(user)
        if scope.role is None:
            return self.none()
        if scope.role == Role.ADMIN:
            return self.all()
        return self.filter(status=SchemeVersion.Status.PUBLISHED)

    def in_force_on(self, day) -> SchemeVersionQuerySet:
        return self.filter(status=SchemeVersion.Status.PUBLISHED, effective_from__lte=day).order_by(
            "-effective_from", "-number"
        )


class SchemeVersion(models.Model):
    """One version of a scheme: its settings here, its KPIs and measures below it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    effective_from = models.DateField(_("effective from"))
    note = models.TextField(_("note"), blank=True)
    based_on = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attribution_basis = models.CharField(
        _("attribution basis"),
        max_length=12,
        choices=AttributionBasis.choices,
        default=AttributionBasis.MANAGED,
    )
    # Year card: quarter_share % × mean of the quarters + review_share % × the annual review.
    quarter_share = models.DecimalField(
        _("share of the quarters in the year total (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("60.00"),
    )
    review_share = models.DecimalField(
        _("share of the annual review in the year total (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("40.00"),
    )
    hnw_threshold = models.DecimalField(
        _("HNW from (元)"), max_digits=18, decimal_places=2, default=Decimal("6000000.00")
    )
    affluent_threshold = models.DecimalField(
        _("affluent from (元)"), max_digits=18, decimal_places=2, default=Decimal("500000.00")
    )
    dormant_days = models.PositiveSmallIntegerField(_("dormant after (days)"), default=180)
    # SPEC §8: an RM may question a line for this many days after the period's cards appear.
    inquiry_days = models.PositiveSmallIntegerField(_("inquiry window (days)"), default=10)
    rating_a = models.DecimalField(_("A from"), max_digits=5, decimal_places=2, default=90)
    rating_b = models.DecimalField(_("B from"), max_digits=5, decimal_places=2, default=75)
    rating_c = models.DecimalField(_("C from"), max_digits=5, decimal_places=2, default=60)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    objects = SchemeVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("scheme version")
        verbose_name_plural = _("scheme versions")
        ordering = ["scheme_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "number"], name="schemeversion_unique"),
            models.CheckConstraint(
                condition=Q(quarter_share__gte=0, review_share__gte=0)
                & Q(quarter_share=Decimal(100) - F("review_share")),
                name="schemeversion_year_shares_100",
            ),
            models.CheckConstraint(
                condition=Q(rating_a__gt=F("rating_b"), rating_b__gt=F("rating_c"), rating_c__gt=0),
                name="schemeversion_rating_bands_ordered",
            ),
            models.CheckConstraint(
                condition=Q(hnw_threshold__gt=F("affluent_threshold"), affluent_threshold__gt=0),
                name="schemeversion_tiers_ordered",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="schemeversion_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code} v{self.number}"

    @property
    def code(self) -> str:
        return f"{self.scheme.code}@v{self.number}"


class Kpi(models.Model):
    version = models.ForeignKey(SchemeVersion, on_delete=models.CASCADE, related_name="kpis")
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    dimension = models.CharField(_("dimension"), max_length=12, choices=Dimension.choices)
    # % of the total; a bonus KPI carries no weight (its points are added on top).
    weight = models.DecimalField(_("weight (%)"), max_digits=5, decimal_places=2)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("KPI")
        verbose_name_plural = _("KPIs")
        ordering = ["version_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="kpi_unique_code"),
            models.CheckConstraint(
                condition=Q(weight__gte=0, weight__lte=100), name="kpi_weight_0_100"
            ),
            models.CheckConstraint(
                condition=~Q(dimension="bonus") | Q(weight=0), name="kpi_bonus_has_no_weight"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.weight}"


class SchemeMeasure(models.Model):
    """A measure of a KPI and how it is scored.

    For `linear`, the points are 100 at `full_at` and 0 at `zero_at`, each a constant plus a
    multiple of the RM's target: 0 → target is (0, 0) → (0, 1); the complaint rate's
    "3 × target → target" is (0, 3) → (0, 1); suitability's "90 → 100" is (90, 0) → (100, 0).
    """

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="measures")
    measure = models.CharField(_("measure"), max_length=40)
    share = models.DecimalField(_("share of the KPI (%)"), max_digits=5, decimal_places=2)
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    window = models.CharField(
        _("window"), max_length=16, choices=Window.choices, default=Window.PERIOD
    )
    zero_at = models.DecimalField(_("0 points at"), max_digits=18, decimal_places=4, default=0)
    zero_at_target = models.DecimalField(
        _("0 points at (× target)"), max_digits=8, decimal_places=4, default=0
    )
    full_at = models.DecimalField(_("100 points at"), max_digits=18, decimal_places=4, default=0)
    full_at_target = models.DecimalField(
        _("100 points at (× target)"), max_digits=8, decimal_places=4, default=1
    )
    cap = models.DecimalField(_("cap (points)"), max_digits=6, decimal_places=2, default=100)
    max_points = models.DecimalField(
        _("bonus points at most"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    # The target when the RM has none of her own: for rates (NPS 50, coverage 45 %), which
    # banks set in the scheme rather than per person. Annual; `prorated` scales the annual
    # rate, hers or this default, to the window's months (an uplift that accrues over the
    # year, a count of events). Flow targets are spread over the months by `targets` itself.
    default_target = models.DecimalField(
        _("default annual target"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    default_target_prorated = models.BooleanField(
        _("prorate the annual target to the window"), default=False
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("scheme measure")
        verbose_name_plural = _("scheme measures")
        ordering = ["kpi_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kpi", "measure"], name="schememeasure_unique"),
            models.CheckConstraint(
                condition=Q(share__gte=0, share__lte=100), name="schememeasure_share_0_100"
            ),
            models.CheckConstraint(condition=Q(cap__gt=0), name="schememeasure_cap_positive"),
            models.CheckConstraint(
                condition=Q(default_target__isnull=True) | Q(default_target__gte=0),
                name="schememeasure_default_target_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(method="bonus") | Q(max_points__gt=0),
                name="schememeasure_bonus_has_max",
            ),
            models.CheckConstraint(
                condition=Q(method__in=["linear", "manual", "bonus"]),
                name="schememeasure_method_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.share}%"


# ---------------------------------------------------------------- periods and runs
class PeriodStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("period status", "Open")  # 进行中, not a case's 待处理
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")


class PeriodQuerySet(models.QuerySet):
    def visible_to(self, user) -> PeriodQuerySet:
        return self.all() if scope_of(user).role is not None else self.none()


class Period(models.Model):
    """A month `2026-10`, quarter `2026-Q3` or year `2026`, with its lifecycle."""

    code = models.CharField(_("period"), max_length=10, unique=True)
    kind = models.CharField(_("kind"), max_length=8)
    year = models.PositiveSmallIntegerField(_("year"))
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    status = models.CharField(
        _("status"), max_length=10, choices=PeriodStatus.choices, default=PeriodStatus.OPEN
    )
    current_run = models.OneToOneField(
        "ScoreRun", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("period")
        verbose_name_plural = _("periods")
        ordering = ["-last_day", "kind"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["month", "quarter", "year"]), name="period_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=PeriodStatus.values), name="period_status_known"
            ),
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")), name="period_days_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class PeriodUnit(models.Model):
    """The review state of one branch (a unit directly under head office) for one period
    (SPEC §5, per unit): its manager submits her subtree, an admin approves it or sends it
    back. No row is an open unit. The period is approved when every branch is."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="units")
    unit = models.ForeignKey("targets.OrgUnit", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=PeriodStatus.choices, default=PeriodStatus.OPEN
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    # Why it was sent back or reopened, or why an admin approved it with open items.
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("unit of a period")
        verbose_name_plural = _("units of a period")
        ordering = ["period_id", "unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["period", "unit"], name="periodunit_one_per_unit"),
            models.CheckConstraint(
                condition=Q(status__in=PeriodStatus.values), name="periodunit_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period_id} {self.unit_id} {self.status}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ScoreRunGroup(models.Model):
    """The runs of one recompute request (a month, its quarter and its year): scored apart,
    made current together, in one transaction, when the last of them is scored, and none of
    them if one fails. A group failed for a reason worth trying again (its worker died, the
    database stayed away) is recomputed by the reaper, a bounded number of times."""

    trigger = models.CharField(_("trigger"), max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The periods asked for, in scoring order (a year after its quarters).
    codes = models.JSONField(_("periods"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    # Runs fanned out to workers: the group sends each year run's prepare once its quarter
    # runs are scored (in-process groups score in order themselves).
    fan_out = models.BooleanField(_("fanned out"), default=False)
    error = models.TextField(_("error"), blank=True)
    # Failed for a reason worth another try: the reaper recomputes the group's periods.
    recover = models.BooleanField(_("to recover"), default=False)
    recovered_at = models.DateTimeField(_("recovered"), null=True, blank=True)
    # How many automatic recomputes led to this group (0: asked for by a person or a job).
    recoveries = models.PositiveSmallIntegerField(_("recoveries"), default=0)
    retry_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("score run group")
        verbose_name_plural = _("score run groups")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(recover=True, recovered_at__isnull=True),
                name="scorerungroup_to_recover",
            )
        ]

    def __str__(self) -> str:
        return f"group #{self.pk} {','.join(self.codes)} {self.status}"


class ScoreRun(models.Model):
    """One computation of every card of a period. Only the period's current run is shown."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="runs")
    group = models.ForeignKey(
        ScoreRunGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="runs"
    )
    version = models.ForeignKey(SchemeVersion, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(
        _("status"), max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    trigger = models.CharField(_("trigger"), max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The import batches whose facts the run read (the latest loaded batch of each kind and
    # each holdings month it used): what a card was computed from.
    batch_ids = models.JSONField(_("import batches"), default=list, blank=True)
    # The RMs (employee IDs) a run rescores, when what changed is theirs only (a manual
    # score, an incident decision): their cards are scored again from the facts their
    # current cards kept, with the new manual scores and vetoes, and every other card is
    # carried from the current run and ranked anew. Empty: every RM, from the facts.
    employees = models.JSONField(_("RMs rescored"), default=list, blank=True)
    chunks_total = models.PositiveIntegerField(_("branches"), default=0)
    chunks_done = models.PositiveIntegerField(_("branches done"), default=0)
    cards = models.PositiveIntegerField(_("cards"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), auto_now_add=True)
    # Every card written and ranked; current once the rest of its group is scored too.
    scored_at = models.DateTimeField(_("scored"), null=True, blank=True)
    # Deliveries of its prepare task that began: past WEALTHSCORE_MAX_DELIVERIES it is given up.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("score run")
        verbose_name_plural = _("score runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One run of a period at a time, whoever starts it.
            models.UniqueConstraint(
                fields=["period"], condition=Q(status="running"), name="scorerun_one_running"
            ),
            models.CheckConstraint(
                condition=Q(chunks_done__lte=F("chunks_total")), name="scorerun_chunks_counted"
            ),
        ]

    def __str__(self) -> str:
        return f"run #{self.pk} {self.period_id} {self.status}"


class ScoreRunChunk(models.Model):
    """One branch's share of a run: its RMs and the measure inputs computed for them."""

    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="chunks")
    unit = models.ForeignKey("targets.OrgUnit", on_delete=models.PROTECT, related_name="+")
    inputs = models.JSONField(_("inputs"), default=dict)
    done = models.BooleanField(_("done"), default=False)
    # Deliveries of its task that began scoring: past WEALTHSCORE_MAX_DELIVERIES the run fails.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "unit"], name="scorerunchunk_unique"),
        ]


class ScorecardQuerySet(models.QuerySet):
    def current(self) -> ScorecardQuerySet:
        return self.filter(run__period__current_run=F("run"))

    def visible_to(self, user) -> ScorecardQuerySet:
        """RMs their own cards; managers the cards of their subtree's units (where each card
        was scored, so a move does not carry old cards along); HR, compliance, admin all."""
        scope = scope_of(user)
        if scope.org_wide:
            return self.all()
        if scope.role == Role.MANAGER and scope.unit is not None:
            return self.filter(unit__path__startswith=scope.unit.path)
        if scope.role == Role.RM and scope.employee is not None:
            return self.filter(employee=scope.employee)
        return self.none()


class Rating(models.TextChoices):
    # The code is stored; the label is English in the code and 优秀/良好/合格/不合格 in the
    # catalogue, so that each reader sees her own language.
    A = "A", _("A Excellent")
    B = "B", _("B Good")
    C = "C", _("C Satisfactory")
    D = "D", _("D Unsatisfactory")


def rating_label(code: str) -> str:
    """A rating code with its word in the active language; "" for none."""
    return str(Rating(code).label) if code in Rating.values else code


class Scorecard(models.Model):
    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="scorecards")
    employee = models.ForeignKey(
        "targets.Employee", on_delete=models.PROTECT, related_name="scorecards"
    )
    # The RM's unit on the period's last day.
    unit = models.ForeignKey("targets.OrgUnit", on_delete=models.PROTECT, related_name="+")
    # Σ(weight × points) / Σ(applicable weight): the weighted score before the bonus; on a
    # year card, the annual review score (年度总评).
    # Kept to 10 places (engine results are exact): shown rounded once, to 2 (SPEC §5).
    weighted_score = models.DecimalField(max_digits=16, decimal_places=10, null=True, blank=True)
    bonus = models.DecimalField(max_digits=16, decimal_places=10, default=0)
    quarters_mean = models.DecimalField(max_digits=16, decimal_places=10, null=True, blank=True)
    quarters_counted = models.PositiveSmallIntegerField(default=0)
    total = models.DecimalField(_("total"), max_digits=7, decimal_places=2, null=True, blank=True)
    rating = models.CharField(_("rating"), max_length=1, choices=Rating.choices, blank=True)
    vetoed = models.BooleanField(_("vetoed"), default=False)
    veto_reasons = models.JSONField(_("veto reasons"), default=list, blank=True)
    # A code of scorecards/messages.py (older cards: the text); `no_total_message` renders it.
    no_total_reason = models.TextField(blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)
    rank_of = models.PositiveIntegerField(null=True, blank=True)
    unit_rank = models.PositiveIntegerField(null=True, blank=True)
    unit_rank_of = models.PositiveIntegerField(null=True, blank=True)
    # Copied unchanged from the period's previous current run: the RM's branch was in review
    # or approved when the run was made (SPEC §5: a locked unit takes no recompute).
    carried_over = models.BooleanField(_("carried over"), default=False)
    # What the card was scored from, but the facts' inputs (on its lines): each measure's
    # fact as [value, reason] and each target, exact (the lines keep 4 places). A run that
    # rescores a few RMs (ScoreRun.employees) starts from it, so it gives the very cards a
    # run over the facts would.
    entry = models.JSONField(default=dict, blank=True)

    objects = ScorecardQuerySet.as_manager()

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["run_id", "rank", "employee_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "employee"], name="scorecard_one_per_run"),
            models.CheckConstraint(
                condition=Q(total__isnull=True) | Q(total__gte=0), name="scorecard_total_positive"
            ),
            models.CheckConstraint(
                condition=Q(total__isnull=False) | ~Q(no_total_reason=""),
                name="scorecard_no_total_says_why",
            ),
        ]
        indexes = [models.Index(fields=["employee", "run"], name="scorecard_employee_run")]

    @property
    def no_total_message(self) -> str:
        return render_reason(self.no_total_reason)

    @property
    def rating_label(self) -> str:
        """The rating with its word in the active language (B 良好 / B Good)."""
        return rating_label(self.rating)


class ScoreLine(models.Model):
    """One measure of a card, with everything needed to explain its points."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="lines")
    measure = models.CharField(_("measure"), max_length=40)
    kpi = models.CharField(_("KPI"), max_length=40)
    dimension = models.CharField(_("dimension"), max_length=12)
    method = models.CharField(_("method"), max_length=8)
    # Kept to 10 places, so that what a page shows is the exact value rounded once, to 2:
    # 5.694967 shows 5.69, where a value kept to 4 places (5.6950) showed 5.70 (SPEC §5).
    value = models.DecimalField(max_digits=28, decimal_places=10, null=True, blank=True)
    target = models.DecimalField(max_digits=28, decimal_places=10, null=True, blank=True)
    points = models.DecimalField(max_digits=16, decimal_places=10, null=True, blank=True)
    # The measure's weight in the scheme (KPI weight × share) and, when applicable, its
    # contribution to the total after the weight of not-applicable measures is shared out.
    weight = models.DecimalField(max_digits=9, decimal_places=4)
    weighted = models.DecimalField(max_digits=16, decimal_places=10, null=True, blank=True)
    applicable = models.BooleanField()
    # Why it is not applicable: a code of scorecards/messages.py and its parameters, rendered
    # in the reader's language (`reason`). A line stored before codes holds `legacy`.
    reason_code = models.CharField(max_length=40, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["scorecard_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "measure"], name="scoreline_unique"),
            models.CheckConstraint(
                condition=Q(applicable=False) | Q(points__isnull=False),
                name="scoreline_applicable_has_points",
            ),
        ]

    @property
    def reason_message(self) -> Message | None:
        return (
            {"code": self.reason_code, "params": self.reason_params} if self.reason_code else None
        )

    @property
    def reason(self) -> str:
        """Why the line is not applicable, in the active language ("" when it is)."""
        return render_reason(self.reason_message)


class InquiryStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("inquiry status", "Open")
    ACCEPTED = "accepted", pgettext_lazy("inquiry status", "Accepted")
    REJECTED = "rejected", pgettext_lazy("inquiry status", "Rejected")


class InquiryOutcome(models.TextChoices):
    NONE = "", _("None")
    MANUAL_SCORE = "manual_score", _("Corrected manual score")
    REOPENED = "reopened", _("Unit reopened")
    DATA_CORRECTION = "data_correction", _("Data correction")


class InquiryQuerySet(models.QuerySet):
    def visible_to(self, user) -> InquiryQuerySet:
        """An RM her own; a manager her subtree's (by the card's unit); compliance and admins
        all; HR none (an inquiry is about the facts behind a number)."""
        scope = scope_of(user)
        if scope.org_wide and scope.role != Role.HR:
            return self.all()
        if scope.role == Role.MANAGER and scope.unit is not None:
            return self.filter(unit__path__startswith=scope.unit.path)
        if scope.role == Role.RM and scope.employee is not None:
            return self.filter(employee=scope.employee)
        return self.none()


class Inquiry(models.Model):
    """An RM's question on one line of her published card (申诉, SPEC §8), and its answer.
    Held by (period, RM, measure), not by card: a recompute does not lose it."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="inquiries")
    employee = models.ForeignKey(
        "targets.Employee", on_delete=models.PROTECT, related_name="inquiries"
    )
    # The unit of her card (her unit on the period's last day): who sees and answers it.
    unit = models.ForeignKey("targets.OrgUnit", on_delete=models.PROTECT, related_name="+")
    measure = models.CharField(_("measure"), max_length=40)
    text = models.TextField(_("question"))
    # An optional supporting file (SPEC §8), checked as evidence is (kernel.uploads).
    attachment = models.FileField(_("attachment"), upload_to="inquiries/%Y/%m/", blank=True)
    attachment_name = models.CharField(_("attachment file name"), max_length=255, blank=True)
    attachment_sha256 = models.CharField(_("attachment SHA-256"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=InquiryStatus.choices, default=InquiryStatus.OPEN
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    answer = models.TextField(_("answer"), blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=InquiryOutcome.choices, blank=True, default=""
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    objects = InquiryQuerySet.as_manager()

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        ordering = ["-raised_at", "-id"]
        constraints = [
            # One open question a line: a second waits for the first's answer.
            models.UniqueConstraint(
                fields=["period", "employee", "measure"],
                condition=Q(status="open"),
                name="inquiry_one_open_a_line",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=Q(status="open") | Q(answered_by__isnull=False),
                name="inquiry_answered_has_answerer",
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | ~Q(outcome=""),
                name="inquiry_accepted_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"inquiry #{self.pk} {self.period_id} {self.employee_id} {self.measure}"


class PayPolicy(models.Model):
    """Quarterly pay bands (SPEC §7), effective-dated: the policy in force on a quarter's
    last day applies. Default: total ≥ 90 → +20 %; 60 ≤ total < 90 → 0 %; total < 60 or
    vetoed → −30 %. A quarter below `pass_from` (or vetoed) is a failing quarter."""

    effective_from = models.DateField(_("effective from"), unique=True)
    top_from = models.DecimalField(_("top band from (total)"), max_digits=6, decimal_places=2)
    top_pct = models.DecimalField(_("top band adjustment (%)"), max_digits=6, decimal_places=2)
    pass_from = models.DecimalField(_("pass mark (total)"), max_digits=6, decimal_places=2)
    pass_pct = models.DecimalField(_("middle band adjustment (%)"), max_digits=6, decimal_places=2)
    fail_pct = models.DecimalField(_("failing adjustment (%)"), max_digits=6, decimal_places=2)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("pay policy")
        verbose_name_plural = _("pay policies")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pass_from__gte=0, top_from__gt=F("pass_from")),
                name="paypolicy_bands_in_order",
            ),
            models.CheckConstraint(
                condition=Q(fail_pct__lte=F("pass_pct"), pass_pct__lte=F("top_pct")),
                name="paypolicy_adjustments_in_order",
            ),
            models.CheckConstraint(
                condition=Q(fail_pct__gte=-100, top_pct__lte=100),
                name="paypolicy_adjustments_within_100",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.effective_from}: ≥{self.top_from} {self.top_pct:+}%, "
            f"<{self.pass_from} {self.fail_pct:+}%"
        )


class MeasureSegment(models.Model):
    """What one measure query found in one stretch of a month, per RM: kept so that a
    quarter and a year add up their months instead of reading every fact again.

    A stretch lies inside one month and is credited through one month-end snapshot; it is
    valid while that month's facts keep the version it was computed from (crm.FactMonth),
    and is computed afresh once an import changes them.
    """

    key = models.CharField(_("key"), max_length=200, unique=True)
    month = models.CharField(_("month"), max_length=7)
    version = models.PositiveBigIntegerField(_("version"))
    rows = models.JSONField(_("rows"), default=list)
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        verbose_name = _("measure segment")
        verbose_name_plural = _("measure segments")
