"""Score runs (SPEC §5): what computes the cards of a period, and what recomputes it.

A score run goes through three steps, each a service the Celery tasks call by id:
`score_run_start` records the run (one running run per period, in the database),
`score_run_prepare` computes every measure of every RM in a few set-based queries and
splits the RMs by branch into chunks, `score_run_chunk` scores one branch and writes its
cards, and the chunk that completes the run ranks its cards. The runs of one recompute (a
month, its quarter, its year) are a group: the last of them to be scored makes them all
current in one transaction, and a failure of one fails them all. `score_period` runs the
same steps in-process. Runs beat while they work; the reaper fails the silent ones and
recomputes their periods (`score_runs_reap`, `score_groups_recover`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import overload

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import BatchStatus, ImportBatch
from scorecards.engine import (
    RANKED_SQL,
    Card,
    Fact,
    Rules,
    blend_year,
    rank_sql,
    rating_for,
    score_card,
    score_line,
)
from scorecards.models import (
    Period,
    PeriodStatus,
    RunStatus,
    Scorecard,
    ScoreLine,
    ScoreRun,
    ScoreRunChunk,
    ScoreRunGroup,
)
from scorecards.periods.selectors import locked_branches
from scorecards.periods.services import period_get_or_create
from scorecards.rules import rules_of, version_in_force
from scorecards.runs.measures import Computation, shared_queries
from targets.models import Employee, OrgUnit, UnitMembership, User, branch_code_of
from targets.plan.amounts import employee_target_amounts, is_flow
from wealthscore.kernel.access import Role
from wealthscore.kernel.audit import audit_record
from wealthscore.kernel.errors import ConflictError, DomainError
from wealthscore.kernel.jobs import enqueue, heartbeat
from wealthscore.kernel.messages import Message, as_message
from wealthscore.kernel.periods import Period as PeriodCode
from wealthscore.kernel.periods import parse_period, with_dependents

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- runs: start
def _stale_after(stale_after: dt.timedelta | None) -> dt.timedelta:
    if stale_after is None:
        return dt.timedelta(seconds=settings.WEALTHSCORE_RUN_STALE_SECONDS)
    return stale_after


def score_runs_reap(*, stale_after: dt.timedelta | None = None) -> int:
    """Mark failed the running runs whose worker died: how many. Their groups fail with
    them, marked to be recomputed (score_groups_recover, on the reaper's schedule).

    A run at work (its prepare begun, or a chunk begun and not done) beats: silent for
    `stale_after` (WEALTHSCORE_RUN_STALE_SECONDS) it is dead. A run waiting in the queue
    (nothing begun) or scored and waiting for its group does not beat: only after
    WEALTHSCORE_RUN_QUEUED_SECONDS is its message taken for lost (a worker busy with a long
    import is no reason to compute everything again). A group is alive while any of its
    runs beats. A `stale_after` given applies to both.
    """
    now = timezone.now()
    cutoff = now - _stale_after(stale_after)
    queued_cutoff = (
        cutoff
        if stale_after is not None
        else now - dt.timedelta(seconds=settings.WEALTHSCORE_RUN_QUEUED_SECONDS)
    )
    running = ScoreRun.objects.filter(status=RunStatus.RUNNING)
    alive = running.filter(heartbeat_at__gte=cutoff, group__isnull=False).values("group_id")
    begun = ScoreRunChunk.objects.filter(done=False, attempts__gt=0).values("run_id")
    at_work = Q(chunks_total=0, attempts__gt=0) | Q(pk__in=begun)
    silent = (at_work & Q(heartbeat_at__lt=cutoff)) | Q(
        scored_at__isnull=True, heartbeat_at__lt=queued_cutoff
    )
    stale = list(running.filter(silent).exclude(group_id__in=alive).values_list("id", flat=True))
    error = _("No sign of life for %(s)s s: the worker died.") % {
        "s": int((now - cutoff).total_seconds())
    }
    reaped = 0
    for run_id in stale:
        reaped += _fail(run_id, error=error, recover=True, still_stale_before=cutoff)
    if reaped:
        log.warning("reaper: %s silent score run(s) failed, to be recomputed", reaped)
    return reaped


def score_run_start(
    *,
    period_code: str,
    trigger: str,
    actor: User | None = None,
    group: ScoreRunGroup | None = None,
    employees: list[str] | None = None,
) -> tuple[ScoreRun, bool]:
    """A new running run of the period, or the one already running: (run, created).

    The new run joins `group` (the runs of one recompute request), or a group of its own;
    `employees` names the RMs it rescores when only theirs changed (ScoreRun.employees).
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
    actor = actor if actor is not None and actor.is_authenticated else None
    try:
        with transaction.atomic():
            own = group or ScoreRunGroup.objects.create(
                trigger=trigger[:60], actor=actor, codes=[period.code]
            )
            run = ScoreRun.objects.create(
                period=period, version=version, trigger=trigger[:60], actor=actor, group=own,
                employees=sorted(set(employees or [])),
            )  # fmt: skip
    except IntegrityError:
        running = ScoreRun.objects.filter(period=period, status=RunStatus.RUNNING).first()
        if running is None:  # it finished in between: start afresh
            return score_run_start(
                period_code=period_code, trigger=trigger, actor=actor, group=group,
                employees=employees,
            )  # fmt: skip
        return running, False
    return run, True


def score_run_fail(*, run_id: int, error: str, recover: bool = False) -> None:
    """Fail a run and, with it, the rest of its group (none of them is published). With
    `recover`, the failure is worth another try (the worker died, the database stayed away):
    the reaper recomputes the group's periods."""
    _fail(run_id, error=error, recover=recover)


def _fail(
    run_id: int, *, error: str, recover: bool, still_stale_before: dt.datetime | None = None
) -> int:
    """Fail the run and its group's other running runs in one transaction (the group's row
    locked first, as every writer of a group's runs does): 1 when the run was failed now."""
    group_id = ScoreRun.objects.filter(pk=run_id).values_list("group_id", flat=True).first()
    now = timezone.now()
    with transaction.atomic():
        group = (
            ScoreRunGroup.objects.select_for_update().filter(pk=group_id).first()
            if group_id is not None
            else None
        )
        runs = ScoreRun.objects.filter(pk=run_id, status=RunStatus.RUNNING)
        if still_stale_before is not None:  # the reaper: unless it beat in the meantime
            runs = runs.filter(heartbeat_at__lt=still_stale_before)
        if not runs.update(status=RunStatus.FAILED, error=error[:4000], finished_at=now):
            return 0
        if group is None:
            return 1
        ScoreRun.objects.filter(group=group, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED,
            finished_at=now,
            error=_("Run #%(run)s of the same recompute failed: none of them is published.")
            % {"run": run_id},
        )
        if group.status == RunStatus.RUNNING:
            group.status, group.error, group.finished_at = RunStatus.FAILED, error[:4000], now
            group.recover = recover
            group.save(update_fields=["status", "error", "finished_at", "recover"])
    return 1


def _dead_letter(run_id: int, what: str, attempts: int) -> None:
    """A prepare or chunk delivered past WEALTHSCORE_MAX_DELIVERIES: its worker died each
    time. The run fails for good (not recomputed: the same work would kill the next worker)
    and the message is acknowledged."""
    limit = settings.WEALTHSCORE_MAX_DELIVERIES
    reason = _("gave up after %(n)s attempts: the worker died each time") % {"n": limit}
    _fail(run_id, error=reason, recover=False)
    log.error("dead letter: %s of score run #%s delivered %s times", what, run_id, attempts)


def _beat(run_id: int) -> None:
    ScoreRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(heartbeat_at=timezone.now())


# ---------------------------------------------------------------- runs: prepare
def _rms_of(period: PeriodCode) -> list[tuple[Employee, int, str]]:
    """(employee, unit id, branch code) of every RM who belonged to a unit on the last day."""
    day = period.last_day
    memberships = (
        UnitMembership.objects.on(day)
        .filter(employee__position=Role.RM)
        .select_related("employee", "unit")
        .order_by("employee__employee_id")
    )
    return [(m.employee, m.unit_id, branch_code_of(m.unit.path)) for m in memberships]


def _targets(
    rules: Rules, period: PeriodCode, employees: list[Employee]
) -> dict[str, dict[str, Decimal | None]]:
    """Each RM's target of each measure that needs one: her own, else the scheme's default;
    an annual rate marked `prorated` is scaled to the window's months, hers or the default."""
    needing = [rule for rule in rules.rules if rule.needs_target]
    own = employee_target_amounts(employees, [rule.measure for rule in needing], period)
    result: dict[str, dict[str, Decimal | None]] = defaultdict(dict)
    for rule in needing:
        scale = Decimal(len(period.months)) / 12 if rule.default_target_prorated else Decimal(1)
        default = None if rule.default_target is None else rule.default_target * scale
        # Her own flow target arrives spread over the months already; her own rate does not.
        own_scale = Decimal(1) if is_flow(rule.measure) else scale
        for employee in employees:
            amount = own.get((employee.employee_id, rule.measure))
            result[employee.employee_id][rule.measure] = (
                default if amount is None else amount * own_scale
            )
    return result


def _quarter_totals(period: PeriodCode, group_id: int | None = None) -> dict[str, list[str]]:
    """The totals of the year's quarter cards, per RM (two queries): those of the quarter
    runs of the year run's own group (scored, published with it), else the current ones."""
    runs = dict(
        Period.objects.filter(
            kind="quarter", year=period.year, current_run__isnull=False
        ).values_list("pk", "current_run_id")
    )
    if group_id is not None:
        runs.update(
            ScoreRun.objects.filter(
                group_id=group_id,
                period__kind="quarter",
                period__year=period.year,
                status=RunStatus.RUNNING,
                scored_at__isnull=False,
            ).values_list("period_id", "pk")
        )
    cards = Scorecard.objects.filter(run_id__in=list(runs.values())).values_list(
        "employee__employee_id", "total"
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


def score_inputs(
    period: PeriodCode, rules: Rules, group_id: int | None = None
) -> tuple[Computation, dict[str, dict]]:
    """Every RM's facts, targets and (year) quarter totals: what her card is scored from."""
    computation = Computation(period, rules)
    computation.run()
    rms = _rms_of(period)
    employees = [employee for employee, _unit, _branch in rms]
    targets = _targets(rules, period, employees)
    quarters = _quarter_totals(period, group_id) if period.kind == "year" else {}
    vetoes = _vetoes(period, [employee.employee_id for employee in employees])
    entries = {}
    for employee, unit_id, branch in rms:
        key = employee.employee_id
        entries[key] = {
            "employee": employee.pk,
            "unit": unit_id,
            "branch": branch,
            "facts": {r.measure: _fact_json(computation.fact(key, r.measure)) for r in rules.rules},
            "targets": {m: None if t is None else str(t) for m, t in targets[key].items()},
            "quarters": quarters.get(key, []),
            "vetoes": vetoes.get(key, []),
        }
    return computation, entries


def score_run_prepare(
    *, run_id: int, in_memory: dict[int, dict] | None = None, retries: int = 0
) -> list[int]:
    """Compute every measure of the run's period and split the RMs by branch: chunk ids.

    Each chunk keeps its RMs' inputs for the worker that scores it, and its task is asked
    for in the same transaction (the outbox); a caller that scores the chunks itself passes
    `in_memory`, which receives them instead (chunk id → inputs). A delivery past
    WEALTHSCORE_MAX_DELIVERIES gives the run up; `retries` of its task after a transient
    error were handled, not deaths, and do not count. Safe to call twice.
    """
    # Counted before the work, in a commit of its own: a delivery that kills its worker
    # counts too.
    ScoreRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, chunks_total=0).update(
        attempts=F("attempts") + 1, heartbeat_at=timezone.now()
    )
    run = ScoreRun.objects.select_related("period", "version").get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return []
    if run.chunks_total:  # prepared before (a repeated task): its chunks are asked for
        return list(run.chunks.filter(done=False).values_list("id", flat=True))
    if run.attempts - retries > settings.WEALTHSCORE_MAX_DELIVERIES:
        _dead_letter(run_id, "prepare", run.attempts)
        return []
    period = parse_period(run.period.code)
    rules = rules_of(run.version)
    basis = _basis(run)
    entries = None if basis is None else _rescored_entries(run, basis, period, rules)
    if entries is None:  # every RM, from the facts
        basis = None
        with heartbeat(lambda: _beat(run_id)):  # the set-based queries can take minutes
            computation, entries = score_inputs(period, rules, run.group_id)
        batch_ids = _batches_used(computation)
    else:  # the few RMs named: the rest are carried, and the facts are the basis's
        assert basis is not None  # entries come from a basis
        batch_ids = basis.batch_ids
    branch_ids = dict(OrgUnit.objects.values_list("code", "id"))
    # A branch in review or approved takes no recompute (SPEC §5): its cards are carried
    # over from the current run, unchanged, and it gets no chunk.
    locked = locked_branches(period_codes=[run.period.code]).get(run.period.code, set())
    by_branch: dict[str, dict] = defaultdict(dict)
    for key, entry in entries.items():
        branch = entry.pop("branch")
        if branch not in locked:
            by_branch[branch][key] = entry
    # Whole branches, in code order, gathered until a chunk holds enough RMs; a chunk is
    # named by its first branch.
    chunks: dict[str, dict] = {}
    first = None
    for branch in sorted(by_branch):
        if first is None or len(chunks[first]) >= settings.WEALTHSCORE_SCORE_CHUNK_RMS:
            first = branch
            chunks[first] = {}
        chunks[first].update(by_branch[branch])
    with transaction.atomic():
        _lock_group(run.group_id)
        run = ScoreRun.objects.select_for_update().select_related("period").get(pk=run_id)
        if run.status != RunStatus.RUNNING or run.chunks_total:
            return list(run.chunks.filter(done=False).values_list("id", flat=True))
        locked_units = _units_of_branches(locked)
        carried = _carry_over(run, locked_units)
        if basis is not None:
            rescored = [entry["employee"] for entry in entries.values()]
            carried += _carry_unaffected(run, locked_units, rescored)
        branches = sorted(chunks)
        created = ScoreRunChunk.objects.bulk_create(
            [
                ScoreRunChunk(
                    run=run,
                    unit_id=branch_ids[branch],
                    inputs={} if in_memory is not None else chunks[branch],
                )
                for branch in branches
            ]
        )
        if in_memory is not None:
            in_memory.update(
                {chunk.pk: chunks[branch] for chunk, branch in zip(created, branches, strict=True)}
            )
        else:
            for chunk in created:
                enqueue("scorecards.chunk", chunk_id=chunk.pk)
        run.chunks_total = len(created)
        run.batch_ids = batch_ids
        run.cards = carried  # the chunks add the cards they score
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["chunks_total", "batch_ids", "cards", "heartbeat_at"])
        if not created:  # a bank with no RM: an empty run, scored at once
            _scored(run)
            return []
    return [chunk.pk for chunk in ScoreRunChunk.objects.filter(run=run).order_by("id")]


KEPT = Decimal("1E-10")

# The columns a carried card and line keep as they are (all but their ids and their run).
CARD_COLUMNS = [
    f.column for f in Scorecard._meta.concrete_fields if f.name not in {"id", "run", "carried_over"}
]
LINE_KEPT = [f.column for f in ScoreLine._meta.concrete_fields if f.name not in {"id", "scorecard"}]


def _units_of_branches(codes: set[str]) -> list[int]:
    """The ids of every unit in the branches `codes` (one query over the org chart)."""
    if not codes:
        return []
    return [pk for pk, path in OrgUnit.objects.values_list("pk", "path")
            if branch_code_of(path) in codes]  # fmt: skip


def _carry_over(run: ScoreRun, units: list[int]) -> int:
    """Copy the cards and lines of `units` (locked branches') of the period's current run
    into `run`: they are published with it exactly as they were, ranks included."""
    if not units:
        return 0
    within = ", ".join(["%s"] * len(units))
    return _carry(run, f"{{t}}unit_id IN ({within})", units, locked=True)


def _carry_unaffected(run: ScoreRun, locked_units: list[int], rescored: list[int]) -> int:
    """Copy the cards of the current run that a run over a few RMs does not rescore, but
    for the locked branches' (`_carry_over`): ranked anew with the rescored ones."""
    where, params = ["1 = 1"], []
    for column, ids in (("unit_id", locked_units), ("employee_id", rescored)):
        if ids:
            where.append(f"{{t}}{column} NOT IN ({', '.join(['%s'] * len(ids))})")
            params += ids
    return _carry(run, " AND ".join(where), params, locked=False)


def _carry(run: ScoreRun, where: str, params: list[int], *, locked: bool) -> int:
    """Copy the cards (`where` over the current run's, its columns prefixed by `{t}`) and
    their lines into `run` (two INSERT … SELECT); `locked` cards keep their ranks."""
    previous = run.period.current_run_id
    if previous is None:
        return 0
    cards, lines = Scorecard._meta.db_table, ScoreLine._meta.db_table
    kept = ", ".join(CARD_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {cards} (run_id, carried_over, {kept}) "
            f"SELECT %s, %s, {kept} FROM {cards} WHERE run_id = %s AND {where.format(t='')}",
            [run.pk, locked, previous, *params],
        )
        carried = cursor.rowcount
        line_kept = ", ".join(LINE_KEPT)
        line_from = ", ".join(f"l.{c}" for c in LINE_KEPT)
        cursor.execute(
            f"INSERT INTO {lines} (scorecard_id, {line_kept}) "
            f"SELECT new.id, {line_from} FROM {lines} l "
            f"JOIN {cards} old ON l.scorecard_id = old.id "
            f"JOIN {cards} new ON new.run_id = %s AND new.employee_id = old.employee_id "
            f"WHERE old.run_id = %s AND {where.format(t='old.')}",
            [run.pk, previous, *params],
        )
    return carried


def _basis(run: ScoreRun) -> ScoreRun | None:
    """The current run a run over a few RMs rescores from: the period's, under the same
    scheme version; none (every RM, from the facts) otherwise."""
    if not run.employees or run.period.current_run_id is None:
        return None
    basis = ScoreRun.objects.get(pk=run.period.current_run_id)
    return basis if basis.version_id == run.version_id else None


def _rescored_entries(
    run: ScoreRun, basis: ScoreRun, period: PeriodCode, rules: Rules
) -> dict[str, dict] | None:
    """The chunk entries of the RMs `run` names, from their cards of `basis`: the facts and
    targets each card kept (`Scorecard.entry`, the inputs from its lines), the manual scores
    and vetoes read now, and (a year) the quarter totals of the run's group. None when a
    card kept no entry or another scheme's measures: then every RM is scored from the facts.
    An RM without a card in the basis has none in a run over the facts either."""
    cards = list(
        Scorecard.objects.filter(run=basis, employee__employee_id__in=run.employees).values_list(
            "pk", "employee_id", "employee__employee_id", "unit_id", "unit__path", "entry"
        )
    )
    measures = {rule.measure for rule in rules.rules}
    if any(set(entry.get("facts", {})) != measures for *_rest, entry in cards):
        return None
    inputs: dict[int, dict[str, dict]] = defaultdict(dict)
    for card_id, measure, kept in ScoreLine.objects.filter(
        scorecard_id__in=[card[0] for card in cards]
    ).values_list("scorecard_id", "measure", "inputs"):
        inputs[card_id][measure] = kept
    manual = Computation(period, rules)
    manual.manual_only()
    manual_measures = [rule.measure for rule in rules.rules if rule.method == "manual"]
    employee_ids = [card[2] for card in cards]
    vetoes = _vetoes(period, employee_ids)
    quarters = _quarter_totals(period, run.group_id) if period.kind == "year" else {}
    entries = {}
    for card_id, employee, employee_id, unit_id, path, entry in cards:
        facts = {
            measure: [value, inputs[card_id].get(measure, {}), reason]
            for measure, (value, reason) in entry["facts"].items()
        }
        for measure in manual_measures:
            facts[measure] = _fact_json(manual.fact(employee_id, measure))
        entries[employee_id] = {
            "employee": employee,
            "unit": unit_id,
            "branch": branch_code_of(path),
            "facts": facts,
            "targets": entry["targets"],
            "quarters": quarters.get(employee_id, []),
            "vetoes": vetoes.get(employee_id, []),
        }
    return entries


def _carry_late_locks(run: ScoreRun) -> None:
    """A branch submitted while the run was computing keeps the cards its manager submitted:
    the run's fresh cards of it give way to the current run's (caller's transaction, the
    period's row locked, as the submission locks it)."""
    locked = locked_branches(period_codes=[run.period.code]).get(run.period.code, set())
    if not locked:
        return
    fresh = Scorecard.objects.filter(run=run, carried_over=False)
    paths = fresh.values_list("unit__path", flat=True).order_by().distinct()
    late = {branch_code_of(path) for path in paths} & locked
    units = _units_of_branches(late)
    if not units:
        return
    ScoreLine.objects.filter(scorecard__run=run, scorecard__unit_id__in=units).delete()
    Scorecard.objects.filter(run=run, unit_id__in=units).delete()
    _carry_over(run, units)


def _lock_group(group_id: int | None) -> ScoreRunGroup | None:
    """Lock a group's row: taken first by every transaction that changes its runs' state
    (prepare, a chunk's end, a failure, the publication), so that they never deadlock."""
    if group_id is None:
        return None
    return ScoreRunGroup.objects.select_for_update().get(pk=group_id)


# ---------------------------------------------------------------- runs: score a branch
def _vetoes(period: PeriodCode, employee_ids: list[str]) -> dict[str, list[str]]:
    """Veto reasons per RM: her confirmed vetoing incidents dated in the period (SPEC §6)."""
    from compliance.selectors import veto_reasons

    return veto_reasons(
        first_day=period.first_day, last_day=period.last_day, employee_ids=employee_ids
    )


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def score_one(rules: Rules, period_kind: str, entry: dict) -> Card:
    """Score one RM's card (its lines included) from her chunk entry."""
    lines = []
    for rule in rules.rules:
        value, inputs, reason = entry["facts"][rule.measure]
        fact = Fact(_dec(value), inputs, reason)
        lines.append(score_line(rule, fact, _dec(entry["targets"].get(rule.measure))))
    card = score_card(lines)
    if period_kind == "year":
        card = blend_year(card, [Decimal(t) for t in entry["quarters"]], rules)
    return card


@overload
def _kept(value: Decimal) -> Decimal: ...
@overload
def _kept(value: None) -> None: ...
def _kept(value: Decimal | None) -> Decimal | None:
    """A figure as a card keeps it: to 10 places (the columns'), shown rounded once, to 2."""
    return None if value is None else value.quantize(KEPT)


def score_run_chunk(*, chunk_id: int, inputs: dict | None = None, retries: int = 0) -> bool:
    """Score one branch of a run and write its cards; the last branch finishes the run.

    `inputs` are the chunk's own (score_run_prepare's `in_memory`) when the caller kept them.
    Returns True when this chunk completed the run's scoring. Safe to call twice; a delivery
    past WEALTHSCORE_MAX_DELIVERIES gives the run up (its task's `retries` after transient
    errors do not count: those deliveries ended well). A light thread keeps the run's
    heartbeat while the branch is scored, however long that takes.
    """
    # Counted before the work, in a commit of its own: a delivery that kills its worker
    # counts too.
    ScoreRunChunk.objects.filter(pk=chunk_id, done=False).update(attempts=F("attempts") + 1)
    state = ScoreRunChunk.objects.filter(pk=chunk_id).values("run_id", "done", "attempts").first()
    if state is None or state["done"]:
        return False
    if state["attempts"] - retries > settings.WEALTHSCORE_MAX_DELIVERIES:
        _dead_letter(state["run_id"], f"chunk #{chunk_id}", state["attempts"])
        return False
    _beat(state["run_id"])
    with heartbeat(lambda: _beat(state["run_id"])):
        return _score_chunk(chunk_id, inputs)


def _score_chunk(chunk_id: int, inputs: dict | None) -> bool:
    if settings.WEALTHSCORE_SCORE_CHUNK_DELAY:  # failure drills: time to kill a worker
        time.sleep(settings.WEALTHSCORE_SCORE_CHUNK_DELAY)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The lines' foreign keys are checked at COMMIT by a plan PostgreSQL prepares once
            # a session. Prepared while the cards table is nearly empty (a new bank, or after
            # a clean-up), it scans the table, and every later check scans it again: at
            # 10,000 RMs a branch's commit took a second and grew with each one. Checked by
            # index, the commit is immediate at any size.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
                # A branch is one commit of hundreds a run: not waiting for each to reach the
                # disk keeps the run's pace. A crash can lose only the last commits, whole:
                # the run is then unfinished, never half-published, and is computed again.
                cursor.execute("SET LOCAL synchronous_commit = off")
        # The chunk's row only: its run's row is locked at the end, after its group's.
        chunk = (
            ScoreRunChunk.objects.select_for_update(of=("self",))
            .select_related("run__period", "run__version")
            .get(pk=chunk_id)
        )
        run = chunk.run
        if chunk.done or run.status != RunStatus.RUNNING:
            return False
        rules = rules_of(run.version)
        period = parse_period(run.period.code)
        entries = chunk.inputs if inputs is None else inputs
        # The vetoes were read with the facts (score_run_prepare); a chunk prepared before
        # they were reads them now.
        vetoes = (
            {}
            if all("vetoes" in entry for entry in entries.values())
            else _vetoes(period, list(entries))
        )
        cards, all_lines = [], []
        for employee_id, entry in entries.items():
            card = score_one(rules, period.kind, entry)
            reasons = entry["vetoes"] if "vetoes" in entry else vetoes.get(employee_id, [])
            cards.append(
                Scorecard(
                    run=run,
                    employee_id=entry["employee"],
                    unit_id=entry["unit"],
                    weighted_score=_kept(card.weighted_score),
                    bonus=_kept(card.bonus),
                    quarters_mean=_kept(card.quarters_mean),
                    quarters_counted=card.quarters_counted,
                    total=card.total,
                    rating=rating_for(card.total, bool(reasons), rules.rating_bands),
                    vetoed=bool(reasons),
                    veto_reasons=reasons,
                    no_total_reason=card.no_total_reason,
                    entry={
                        "facts": {m: [v, r] for m, (v, _inputs, r) in entry["facts"].items()},
                        "targets": entry["targets"],
                    },
                )
            )
            all_lines.append(card.lines)
        Scorecard.objects.bulk_create(cards, batch_size=2000)
        _insert_lines(
            (card.pk, line.rule.measure, line.rule.kpi, line.rule.dimension, line.rule.method,
             _kept(line.value), _kept(line.target), _kept(line.points), _kept(line.rule.weight),
             _kept(line.weighted), line.applicable, *_reason_columns(line.reason), line.inputs,
             position)
            for card, lines in zip(cards, all_lines, strict=True)
            for position, line in enumerate(lines)
        )  # fmt: skip
        chunk.done = True
        chunk.inputs = {}  # what it held is now in the cards' lines
        chunk.save(update_fields=["done", "inputs"])
        _lock_group(run.group_id)
        run = ScoreRun.objects.select_for_update().select_related("period").get(pk=run.pk)
        if run.status != RunStatus.RUNNING:  # its group failed meanwhile: nothing to keep
            transaction.set_rollback(True)
            return False
        run.chunks_done = F("chunks_done") + 1
        run.cards = F("cards") + len(cards)
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["chunks_done", "cards", "heartbeat_at"])
        run.refresh_from_db(fields=["chunks_done", "chunks_total", "cards"])
        if run.chunks_done < run.chunks_total:
            return False
        _scored(run)
        return True


LINE_COLUMNS = (
    "scorecard_id", "measure", "kpi", "dimension", "method", "value", "target", "points",
    "weight", "weighted", "applicable", "reason_code", "reason_params", "inputs", "position",
)  # fmt: skip


def _reason_columns(reason: Message | str | None) -> tuple[str, dict]:
    """A line's reason as its code and parameters (an older entry's text: legacy)."""
    message = as_message(reason)
    return ("", {}) if message is None else (message["code"], message["params"])


def _insert_lines(rows: Iterable[tuple]) -> None:
    """Write a branch's lines: COPY on PostgreSQL (a run writes ~17 lines an RM), plain
    INSERTs elsewhere. `reason_params` and `inputs` (the JSON columns) are the third and
    second from the end of each row."""
    table, columns = ScoreLine._meta.db_table, ", ".join(LINE_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg.types.json import Jsonb

            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row[:-3], Jsonb(row[-3]), Jsonb(row[-2]), row[-1]))
            return
        placeholders = ", ".join(["%s"] * len(LINE_COLUMNS))
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
            [(*row[:-3], json.dumps(row[-3], ensure_ascii=False),
              json.dumps(row[-2], ensure_ascii=False), row[-1]) for row in rows],
        )  # fmt: skip


# ---------------------------------------------------------------- runs: finish
# A run's cards ranked bank-wide and within their unit, by the ranking rule of engine.py.
RANK_SQL = f"""
UPDATE scorecards_scorecard SET rank = r.rank, rank_of = r.n, unit_rank = r.unit_rank,
  unit_rank_of = r.unit_n
FROM (
  SELECT id,
    {rank_sql()} AS rank,
    COUNT(*) OVER () AS n,
    {rank_sql("unit_id")} AS unit_rank,
    COUNT(*) OVER (PARTITION BY unit_id) AS unit_n
  FROM scorecards_scorecard
  WHERE run_id = %s AND {RANKED_SQL}
) r
WHERE scorecards_scorecard.id = r.id AND NOT scorecards_scorecard.carried_over
"""


def _scored(run: ScoreRun) -> None:
    """Every card of the run is written: rank them, and publish the run's group if it was
    the last of the group to be scored (caller's transaction, the group's row locked)."""
    with connection.cursor() as cursor:
        cursor.execute(RANK_SQL, [run.pk])
    run.scored_at = timezone.now()
    run.save(update_fields=["scored_at"])
    if run.group_id is None:  # a run from before groups
        _finish(run)
        return
    group = run.group
    assert group is not None  # group_id was checked above
    if group.runs.filter(status=RunStatus.RUNNING, scored_at__isnull=True).exists():
        if group.fan_out and run.period.kind == "quarter":
            _send_ready_years(group, run.period.year)
        return
    _publish(group)


def _send_ready_years(group: ScoreRunGroup, year: int) -> None:
    """A year run reads its group's quarter runs: once the last of them is scored, its
    prepare is asked for (once: only a quarter's completion asks, and each completes once)."""
    quarters = group.runs.filter(status=RunStatus.RUNNING, period__kind="quarter",
                                 period__year=year)  # fmt: skip
    if quarters.filter(scored_at__isnull=True).exists():
        return
    years = group.runs.filter(
        status=RunStatus.RUNNING, period__kind="year", period__year=year, chunks_total=0
    )
    for run_id in years.values_list("pk", flat=True):
        enqueue("scorecards.prepare", run_id=run_id)


def _publish(group: ScoreRunGroup) -> None:
    """Make every scored run of the group its period's current run, in this one transaction:
    readers see the month, its quarter and its year all old or all new."""
    for run in group.runs.filter(status=RunStatus.RUNNING).order_by("id"):
        _finish(run)
    group.status, group.finished_at = RunStatus.DONE, timezone.now()
    group.save(update_fields=["status", "finished_at"])


def _finish(run: ScoreRun) -> None:
    """Make a ranked run the period's current run (caller's transaction)."""
    period = Period.objects.select_for_update().get(pk=run.period_id)
    if period.status == PeriodStatus.APPROVED:
        # Approved while it ran: the admin approved the cards she saw; they stay.
        run.status, run.error = RunStatus.FAILED, _("The period was approved during the run.")
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        return
    previous = period.current_run_id
    run.period = period
    _carry_late_locks(run)
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
            "group": run.group_id,
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
    _score_here(run)
    run.refresh_from_db()
    return run


def _score_here(run: ScoreRun) -> None:
    """Prepare and score a started run in this process (its group publishes it when the rest
    of the group is scored too); a failure fails the run and its group."""
    try:
        inputs: dict[int, dict] = {}
        for chunk_id in score_run_prepare(run_id=run.pk, in_memory=inputs):
            score_run_chunk(chunk_id=chunk_id, inputs=inputs[chunk_id])
    except Exception as exc:
        score_run_fail(run_id=run.pk, error=repr(exc))
        raise


def score_period_async(*, period_code: str, trigger: str, actor: User | None = None) -> ScoreRun:
    """Start a run whose branches are scored by Celery workers; returns it at once."""
    with transaction.atomic():
        run, created = score_run_start(period_code=period_code, trigger=trigger, actor=actor)
        if created:
            enqueue("scorecards.prepare", run_id=run.pk)
    return run


# ---------------------------------------------------------------- what to recompute
def _eager() -> bool:
    from wealthscore.celery import app

    return bool(app.conf.task_always_eager)


def recompute_periods(
    *,
    codes: list[str],
    trigger: str,
    actor: User | None = None,
    retry_of: ScoreRunGroup | None = None,
    employees: list[str] | None = None,
) -> dict[str, ScoreRun | None]:
    """Recompute the periods as one group, skipping approved ones: in this process when tasks
    run in-process (the demo), else as runs fanned out to the Celery workers. The group's
    runs become current together when the last is scored, or none of them does.

    `codes` in scoring order (months, quarters, years: a year card reads its quarters).
    `employees`: only these RMs' cards change (a manual score, a decision): they are
    rescored and the rest carried (ScoreRun.employees). A period already being computed
    keeps that run (returned; not in this group).
    """
    if not codes:
        return {}
    with shared_queries():
        if _eager():
            return _recompute_here(codes, trigger, actor, retry_of, employees)
        with transaction.atomic():  # the runs and their tasks' outbox rows, together
            group, runs, created = _start_group(
                codes, trigger, actor, retry_of, fan_out=True, employees=employees
            )
            for run in created:
                if not _waits_for_quarters(run, created):
                    enqueue("scorecards.prepare", run_id=run.pk)
        return runs


def _waits_for_quarters(run: ScoreRun, runs: list[ScoreRun]) -> bool:
    """A year run of a group with quarter runs of its year is asked for once they are
    scored (_send_ready_years), not before: it reads them."""
    if run.period.kind != "year":
        return False
    return any(r.period.kind == "quarter" and r.period.year == run.period.year for r in runs)


def _start_group(
    codes: list[str],
    trigger: str,
    actor: User | None,
    retry_of: ScoreRunGroup | None,
    *,
    fan_out: bool,
    employees: list[str] | None = None,
) -> tuple[ScoreRunGroup, dict[str, ScoreRun | None], list[ScoreRun]]:
    """A group and a started run of each period in it: (group, runs by code, the new runs)."""
    actor = actor if actor is not None and actor.is_authenticated else None
    group = ScoreRunGroup.objects.create(
        trigger=trigger[:60],
        actor=actor,
        codes=list(codes),
        fan_out=fan_out,
        retry_of=retry_of,
        recoveries=0 if retry_of is None else retry_of.recoveries + 1,
    )
    runs: dict[str, ScoreRun | None] = {}
    created: list[ScoreRun] = []
    for code in codes:
        try:
            run, new = score_run_start(
                period_code=code, trigger=trigger, actor=actor, group=group, employees=employees
            )
        except DomainError as exc:  # approved, or no scheme in force for it
            log.warning("recompute %s skipped: %s", code, exc.message)
            runs[code] = None
            continue
        runs[code] = run
        if new:
            created.append(run)
    if not created:  # nothing of its own to compute
        group.status, group.finished_at = RunStatus.DONE, timezone.now()
        group.save(update_fields=["status", "finished_at"])
    return group, runs, created


def _recompute_here(
    codes: list[str],
    trigger: str,
    actor: User | None,
    retry_of: ScoreRunGroup | None,
    employees: list[str] | None = None,
) -> dict[str, ScoreRun | None]:
    group, started, created = _start_group(
        codes, trigger, actor, retry_of, fan_out=False, employees=employees
    )
    runs: dict[str, ScoreRun | None] = dict(started)
    for run in created:  # in order: the year after its quarters
        try:
            _score_here(run)
        except DomainError as exc:
            log.warning("recompute %s failed: %s", run.period.code, exc.message)
            runs[run.period.code] = None
            break  # the group failed with it: the rest are failed too
    for done in runs.values():
        if done is not None:
            done.refresh_from_db()
    return runs


def score_groups_recover(*, limit: int = 20) -> list[int]:
    """Recompute the periods of the groups failed for a reason worth another try (a dead
    worker, a database away too long), with the periods that depend on them: the new
    groups' ids. Each failure is recovered once, and a chain of them at most
    WEALTHSCORE_MAX_DELIVERIES times (work that kills every worker is not tried forever).
    Safe to run concurrently (SKIP LOCKED)."""
    started: list[int] = []
    for _n in range(limit):
        with transaction.atomic():
            group = (
                ScoreRunGroup.objects.select_for_update(skip_locked=True)
                .filter(status=RunStatus.FAILED, recover=True, recovered_at__isnull=True)
                .order_by("id")
                .first()
            )
            if group is None:
                break
            group.recovered_at = timezone.now()
            group.save(update_fields=["recovered_at"])
            if group.recoveries >= settings.WEALTHSCORE_MAX_DELIVERIES:
                log.error(
                    "score run group #%s (%s) failed after %s recomputes: not tried again",
                    group.pk, ",".join(group.codes), group.recoveries,
                )  # fmt: skip
                continue
            codes = with_dependents(group.codes)
            recompute_periods(codes=codes, trigger=group.trigger, actor=group.actor,
                              retry_of=group)  # fmt: skip
            new = ScoreRunGroup.objects.filter(retry_of=group).values_list("pk", flat=True)
            started.extend(new)
            log.warning("recovering score run group #%s: %s", group.pk, ",".join(codes))
    return started


def score_run_waits(*, run_id: int) -> bool:
    """A year run waits while a quarter run of its year is still going (it reads them): one
    of another recompute, or one of its own group not yet scored. It beats while it waits,
    and after WEALTHSCORE_RUN_WAIT_SECONDS it stops waiting: it fails, to be recomputed."""
    run = ScoreRun.objects.select_related("period").get(pk=run_id)
    if run.period.kind != "year" or run.status != RunStatus.RUNNING:
        return False
    quarters = ScoreRun.objects.filter(
        period__kind="quarter", period__year=run.period.year, status=RunStatus.RUNNING
    )
    if run.group_id is not None:
        quarters = quarters.exclude(group_id=run.group_id, scored_at__isnull=False)
    if not quarters.exists():
        return False
    waited = timezone.now() - run.created_at
    if waited > dt.timedelta(seconds=settings.WEALTHSCORE_RUN_WAIT_SECONDS):
        score_run_fail(
            run_id=run_id,
            error=_("Waited %(s)s s for the quarter runs of %(year)s: to be computed again.")
            % {"s": int(waited.total_seconds()), "year": run.period.year},
            recover=True,
        )
        return False
    _beat(run_id)
    return True
