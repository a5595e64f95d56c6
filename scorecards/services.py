"""Writes of scoring (SPEC §5): scheme versions, period lifecycle and score runs.

A score run goes through three steps, each a service the Celery tasks call by id:
`score_run_start` records the run (one running run per period, in the database),
`score_run_prepare` computes every measure of every RM in a few set-based queries and
splits the RMs by branch into chunks, `score_run_chunk` scores one branch and writes its
cards, and the chunk that completes the run ranks the cards and makes the run current in
the same transaction. `score_period` runs the same steps in-process.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import BatchStatus, ImportBatch
from targets.models import Employee, UnitMembership, User
from targets.planning import Period as PeriodCode
from targets.planning import parse_period, targets_for
from targets.roles import Role, scope_of
from wealthscore.audit import audit_record
from wealthscore.errors import ConflictError, DomainError, ForbiddenError

from .engine import (
    HUNDRED,
    Card,
    Fact,
    MeasureRule,
    Rules,
    blend_year,
    rating_for,
    score_card,
    score_line,
)
from .measures import Computation
from .models import (
    Period,
    PeriodStatus,
    RunStatus,
    SchemeMeasure,
    SchemeVersion,
    Scorecard,
    ScoreLine,
    ScoreRun,
    ScoreRunChunk,
)

log = logging.getLogger(__name__)
DEFAULT_SCHEME = Path(settings.BASE_DIR) / "fixtures" / "default_scheme.json"


class ScoringError(DomainError):
    """A scoring rule refused the request."""


# ---------------------------------------------------------------- scheme versions as rules
def rules_of(version: SchemeVersion) -> Rules:
    """The version's KPIs and measures, frozen for scoring (two queries)."""
    measures = SchemeMeasure.objects.filter(kpi__version=version).select_related("kpi")
    rules = tuple(
        MeasureRule(
            measure=m.measure,
            kpi=m.kpi.code,
            kpi_name=m.kpi.name,
            dimension=m.kpi.dimension,
            method=m.method,
            window=m.window,
            weight=m.kpi.weight * m.share / HUNDRED,
            zero_at=m.zero_at,
            zero_at_target=m.zero_at_target,
            full_at=m.full_at,
            full_at_target=m.full_at_target,
            cap=m.cap,
            max_points=m.max_points,
            default_target=m.default_target,
            default_target_prorated=m.default_target_prorated,
        )
        for m in measures.order_by("kpi__position", "kpi_id", "position", "id")
    )
    return Rules(
        version_id=version.pk,
        basis=version.attribution_basis,
        rules=rules,
        quarter_share=version.quarter_share,
        review_share=version.review_share,
        hnw_threshold=version.hnw_threshold,
        affluent_threshold=version.affluent_threshold,
        dormant_days=version.dormant_days,
        rating_bands=(version.rating_a, version.rating_b, version.rating_c),
    )


def version_in_force(day: dt.date) -> SchemeVersion:
    version = SchemeVersion.objects.in_force_on(day).select_related("scheme").first()
    if version is None:
        raise ScoringError(_("No published scheme is in force on %(day)s.") % {"day": day})
    return version


# ---------------------------------------------------------------- periods
def period_get_or_create(code: str) -> Period:
    try:
        parsed = parse_period(code)
    except ValueError as exc:
        raise DomainError(str(exc), field="period") from exc
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
    "submit": ({PeriodStatus.OPEN}, PeriodStatus.IN_REVIEW, {Role.MANAGER, Role.ADMIN}),
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
        raise ConflictError(
            _("Period %(period)s is %(status)s: it cannot be %(action)s.")
            % {"period": period.code, "status": period.get_status_display(), "action": action}
        )
    if action == "reopen" and not reason.strip():
        raise DomainError(_("Reopening a period needs a reason."), field="reason")
    if action == "approve" and period.current_run_id is None:
        raise ConflictError(
            _("Period %(period)s has no scores yet: recompute it before approving.")
            % {"period": period.code}
        )
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


# ---------------------------------------------------------------- runs: start
def score_runs_reap(*, stale_after: dt.timedelta | None = None) -> int:
    """Mark failed the running runs that have shown no sign of life (a killed worker)."""
    stale_after = stale_after or dt.timedelta(seconds=settings.WEALTHSCORE_RUN_STALE_SECONDS)
    return ScoreRun.objects.filter(
        status=RunStatus.RUNNING, heartbeat_at__lt=timezone.now() - stale_after
    ).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error=_("No sign of life for %(s)s s: the worker died.")
        % {"s": int(stale_after.total_seconds())},
    )


def score_run_start(
    *, period_code: str, trigger: str, actor: User | None = None
) -> tuple[ScoreRun, bool]:
    """A new running run of the period, or the one already running: (run, created).

    Approved periods are never recomputed; reopen them first.
    """
    score_runs_reap()
    period = period_get_or_create(period_code)
    if period.status == PeriodStatus.APPROVED:
        raise ConflictError(
            _("Period %(period)s is approved: reopen it before recomputing.")
            % {"period": period.code}
        )
    version = version_in_force(period.last_day)
    try:
        with transaction.atomic():
            run = ScoreRun.objects.create(
                period=period,
                version=version,
                trigger=trigger,
                actor=actor if actor is not None and actor.is_authenticated else None,
            )
    except IntegrityError:
        running = ScoreRun.objects.filter(period=period, status=RunStatus.RUNNING).first()
        if running is None:  # it finished in between: start afresh
            return score_run_start(period_code=period_code, trigger=trigger, actor=actor)
        return running, False
    return run, True


def score_run_fail(*, run_id: int, error: str) -> None:
    ScoreRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, error=error[:4000], finished_at=timezone.now()
    )


# ---------------------------------------------------------------- runs: prepare
def _branch_of(path: str) -> str:
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) > 1 else parts[0]


def _rms_of(period: PeriodCode) -> list[tuple[Employee, int, str]]:
    """(employee, unit id, branch code) of every RM who belonged to a unit on the last day."""
    day = period.last_day
    memberships = (
        UnitMembership.objects.on(day)
        .filter(employee__position=Role.RM)
        .select_related("employee", "unit")
        .order_by("employee__employee_id")
    )
    return [(m.employee, m.unit_id, _branch_of(m.unit.path)) for m in memberships]


def _targets(
    rules: Rules, period: PeriodCode, employees: list[Employee]
) -> dict[str, dict[str, Decimal | None]]:
    """Each RM's target of each measure that needs one: her own, else the scheme's default."""
    result: dict[str, dict[str, Decimal | None]] = defaultdict(dict)
    for rule in rules.rules:
        if not rule.needs_target:
            continue
        own = targets_for(employees, rule.measure, period, explain=False)
        default = rule.default_target
        if default is not None and rule.default_target_prorated:
            default = default * len(period.months) / 12
        for employee in employees:
            amount = own[employee.employee_id].amount
            result[employee.employee_id][rule.measure] = amount if amount is not None else default
    return result


def _quarter_totals(period: PeriodCode, employee_ids: list[str]) -> dict[str, list[str]]:
    """The totals of the year's quarter cards now current, per RM (one query)."""
    cards = (
        Scorecard.objects.current()
        .filter(run__period__kind="quarter", run__period__year=period.year)
        .values_list("employee__employee_id", "total")
    )
    totals: dict[str, list[str]] = defaultdict(list)
    for employee_id, total in cards:
        if total is not None:
            totals[employee_id].append(str(total))
    return totals


def _batches_used(computation: Computation) -> list[int]:
    """The loaded batches a run read: each snapshot month it used, the latest of the rest."""
    loaded = ImportBatch.objects.filter(status=BatchStatus.LOADED)
    months = loaded.filter(kind="holdings", as_of_date__in=computation.used_snapshots)
    latest = loaded.exclude(kind="holdings").values("kind").annotate(last=Max("id"))
    ids = set(months.values_list("id", flat=True)) | {row["last"] for row in latest}
    return sorted(ids)


def _fact_json(fact: Fact) -> list:
    return [None if fact.value is None else str(fact.value), fact.inputs, fact.reason]


def score_run_prepare(*, run_id: int) -> list[int]:
    """Compute every measure of the run's period and split the RMs by branch: chunk ids."""
    run = ScoreRun.objects.select_related("period", "version").get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return []
    existing = list(run.chunks.filter(done=False).values_list("id", flat=True))
    if run.chunks_total:  # prepared before (a repeated task): hand back what is left
        return existing
    period = parse_period(run.period.code)
    rules = rules_of(run.version)
    computation = Computation(period, rules)
    computation.run()
    rms = _rms_of(period)
    employees = [employee for employee, _unit, _branch in rms]
    targets = _targets(rules, period, employees)
    quarters = (
        _quarter_totals(period, [e.employee_id for e in employees]) if period.kind == "year" else {}
    )
    from targets.models import OrgUnit

    branch_ids = dict(OrgUnit.objects.values_list("code", "id"))
    chunks: dict[str, dict] = defaultdict(dict)
    for employee, unit_id, branch in rms:
        key = employee.employee_id
        chunks[branch][key] = {
            "employee": employee.pk,
            "unit": unit_id,
            "facts": {r.measure: _fact_json(computation.fact(key, r.measure)) for r in rules.rules},
            "targets": {m: None if t is None else str(t) for m, t in targets[key].items()},
            "quarters": quarters.get(key, []),
        }
    with transaction.atomic():
        run = ScoreRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING or run.chunks_total:
            return list(run.chunks.filter(done=False).values_list("id", flat=True))
        created = ScoreRunChunk.objects.bulk_create(
            [
                ScoreRunChunk(run=run, unit_id=branch_ids[branch], inputs=inputs)
                for branch, inputs in sorted(chunks.items())
            ]
        )
        run.chunks_total = len(created)
        run.batch_ids = _batches_used(computation)
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["chunks_total", "batch_ids", "heartbeat_at"])
    if not created:  # a bank with no RM: an empty run, current at once
        with transaction.atomic():
            _finish(ScoreRun.objects.select_for_update().get(pk=run_id))
        return []
    return [chunk.pk for chunk in ScoreRunChunk.objects.filter(run=run).order_by("id")]


# ---------------------------------------------------------------- runs: score a branch
def _vetoes(period: PeriodCode, employee_ids: list[str]) -> dict[str, list[str]]:
    """Veto reasons per RM for the period. Compliance (its own issue) records vetoes; until
    then no card is vetoed."""
    return {}


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def score_one(rules: Rules, period_kind: str, entry: dict) -> Card:
    """Score one RM from her chunk entry: (Card, lines)."""
    lines = []
    for rule in rules.rules:
        value, inputs, reason = entry["facts"][rule.measure]
        fact = Fact(_dec(value), inputs, reason)
        lines.append(score_line(rule, fact, _dec(entry["targets"].get(rule.measure))))
    card = score_card(lines)
    if period_kind == "year":
        card = blend_year(card, [Decimal(t) for t in entry["quarters"]], rules)
    return card


def _q4(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.0001"))


def score_run_chunk(*, chunk_id: int) -> bool:
    """Score one branch of a run and write its cards; the last branch finishes the run.

    Returns True when this chunk completed the run. Safe to call twice.
    """
    with transaction.atomic():
        chunk = (
            ScoreRunChunk.objects.select_for_update()
            .select_related("run__period", "run__version")
            .get(pk=chunk_id)
        )
        run = chunk.run
        if chunk.done or run.status != RunStatus.RUNNING:
            return False
        rules = rules_of(run.version)
        period = parse_period(run.period.code)
        vetoes = _vetoes(period, list(chunk.inputs))
        cards, all_lines = [], []
        for employee_id, entry in chunk.inputs.items():
            card = score_one(rules, period.kind, entry)
            reasons = vetoes.get(employee_id, [])
            cards.append(
                Scorecard(
                    run=run,
                    employee_id=entry["employee"],
                    unit_id=entry["unit"],
                    weighted_score=_q4(card.weighted_score),
                    bonus=_q4(card.bonus),
                    quarters_mean=_q4(card.quarters_mean),
                    quarters_counted=card.quarters_counted,
                    total=card.total,
                    rating=rating_for(card.total, bool(reasons), rules.rating_bands),
                    vetoed=bool(reasons),
                    veto_reasons=reasons,
                    no_total_reason=card.no_total_reason,
                )
            )
            all_lines.append(card.lines)
        Scorecard.objects.bulk_create(cards, batch_size=2000)
        ScoreLine.objects.bulk_create(
            [
                ScoreLine(
                    scorecard=card,
                    measure=line.rule.measure,
                    kpi=line.rule.kpi,
                    dimension=line.rule.dimension,
                    method=line.rule.method,
                    value=_q4(line.value),
                    target=_q4(line.target),
                    points=_q4(line.points),
                    weight=_q4(line.rule.weight),
                    weighted=_q4(line.weighted),
                    applicable=line.applicable,
                    reason=line.reason[:200],
                    inputs=line.inputs,
                    position=position,
                )
                for card, lines in zip(cards, all_lines, strict=True)
                for position, line in enumerate(lines)
            ],
            batch_size=5000,
        )
        chunk.done = True
        chunk.inputs = {}  # what it held is now in the cards' lines
        chunk.save(update_fields=["done", "inputs"])
        run = ScoreRun.objects.select_for_update().get(pk=run.pk)
        run.chunks_done = F("chunks_done") + 1
        run.cards = F("cards") + len(cards)
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["chunks_done", "cards", "heartbeat_at"])
        run.refresh_from_db(fields=["chunks_done", "chunks_total", "cards"])
        if run.chunks_done < run.chunks_total:
            return False
        _finish(run)
        return True


# ---------------------------------------------------------------- runs: finish
RANK_SQL = """
UPDATE scorecards_scorecard SET rank = r.rank, rank_of = r.n, unit_rank = r.unit_rank,
  unit_rank_of = r.unit_n
FROM (
  SELECT id,
    RANK() OVER (ORDER BY vetoed, COALESCE(total, -1) DESC) AS rank,
    COUNT(*) OVER () AS n,
    RANK() OVER (PARTITION BY unit_id ORDER BY vetoed, COALESCE(total, -1) DESC) AS unit_rank,
    COUNT(*) OVER (PARTITION BY unit_id) AS unit_n
  FROM scorecards_scorecard
  WHERE run_id = %s AND (total IS NOT NULL OR vetoed)
) r
WHERE scorecards_scorecard.id = r.id
"""


def _finish(run: ScoreRun) -> None:
    """Rank the run's cards and make it the period's current run (caller's transaction)."""
    period = Period.objects.select_for_update().get(pk=run.period_id)
    if period.status == PeriodStatus.APPROVED:
        run.status, run.error = RunStatus.FAILED, _("The period was approved during the run.")
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        return
    with connection.cursor() as cursor:
        cursor.execute(RANK_SQL, [run.pk])
    previous = period.current_run_id
    run.status, run.finished_at = RunStatus.DONE, timezone.now()
    run.save(update_fields=["status", "finished_at"])
    period.current_run = run
    period.save(update_fields=["current_run"])
    audit_record(
        actor=run.actor,
        actor_label="" if run.actor_id else f"job:{run.trigger}",
        action="score_run.publish",
        object_type="period",
        object_id=period.code,
        before={"run": previous},
        after={
            "run": run.pk,
            "cards": run.cards,
            "version": run.version_id,
            "batches": run.batch_ids,
        },  # fmt: skip
    )


# ---------------------------------------------------------------- in-process and fanned out
def score_period(*, period_code: str, trigger: str, actor: User | None = None) -> ScoreRun:
    """Compute a period in this process, start to finish; returns the run (done or failed)."""
    run, created = score_run_start(period_code=period_code, trigger=trigger, actor=actor)
    if not created:
        raise ConflictError(
            _("Period %(period)s is being computed (run #%(run)s).")
            % {"period": run.period.code, "run": run.pk}
        )
    try:
        for chunk_id in score_run_prepare(run_id=run.pk):
            score_run_chunk(chunk_id=chunk_id)
    except Exception as exc:
        score_run_fail(run_id=run.pk, error=repr(exc))
        raise
    run.refresh_from_db()
    return run


def score_period_async(*, period_code: str, trigger: str, actor: User | None = None) -> ScoreRun:
    """Start a run whose branches are scored by Celery workers; returns it at once."""
    from .tasks import score_prepare_task

    run, created = score_run_start(period_code=period_code, trigger=trigger, actor=actor)
    if created:
        transaction.on_commit(lambda: score_prepare_task.delay(run_id=run.pk))
    return run


def periods_of_year(year: int, through: dt.date | None = None) -> list[str]:
    """Months, then quarters, then the year: the order in which a year is scored (a year
    card reads its quarters). Only months that have ended (or end by `through`)."""
    through = through or timezone.localdate()
    months = [
        code
        for code in (f"{year}-{m:02d}" for m in range(1, 13))
        if parse_period(code).last_day <= through
    ]
    if not months:
        return []
    last_month = int(months[-1][-2:])
    quarters = [f"{year}-Q{q}" for q in range(1, (last_month - 1) // 3 + 2)]
    return [*months, *quarters, str(year)]


def periods_touched(period_code: str) -> list[str]:
    """A month's recompute takes its quarter and its year along (in that order)."""
    period = parse_period(period_code)
    if period.kind == "month":
        quarter = (period.months[0] - 1) // 3 + 1
        return [period.code, f"{period.year}-Q{quarter}", str(period.year)]
    if period.kind == "quarter":
        return [period.code, str(period.year)]
    return [period.code]


# ---------------------------------------------------------------- the default scheme
def install_default_scheme(apps=None) -> None:
    """Create the default scheme of SPEC §5 from fixtures/default_scheme.json, unless a
    scheme exists. Called by a migration (with its historical models) and by tests."""
    from . import models as current

    def model(name: str):
        return apps.get_model("scorecards", name) if apps else getattr(current, name)

    classes = {
        "scorecards.scheme": model("Scheme"),
        "scorecards.schemeversion": model("SchemeVersion"),
        "scorecards.kpi": model("Kpi"),
        "scorecards.schememeasure": model("SchemeMeasure"),
    }
    if classes["scorecards.scheme"].objects.exists():
        return
    # The fixture's keys only link its rows: the database numbers them, so that its
    # sequences stay right.
    created: dict[tuple[str, int], object] = {}
    parents = {"scheme": "scorecards.scheme", "version": "scorecards.schemeversion",
               "kpi": "scorecards.kpi"}  # fmt: skip
    for row in json.loads(DEFAULT_SCHEME.read_text(encoding="utf-8")):
        fields = {
            name: created[(parents[name], value)] if name in parents else value
            for name, value in row["fields"].items()
        }
        created[(row["model"], row["pk"])] = classes[row["model"]].objects.create(**fields)
