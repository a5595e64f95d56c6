"""Celery tasks of scoring: thin, keyed by ids, acknowledged late, safe to run twice.

A run is fanned out by branch; its state lives in the database (ScoreRun, ScoreRunChunk),
not in a chord over the result backend: the chunk that completes the run's scoring ranks
it, and the last run of a recompute's group to be scored publishes the group. Transient
database errors are retried with a bounded exponential backoff; a run that still cannot go
on fails and is recomputed by the reaper (reap_runs, on the beat schedule).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import Retry
from django.conf import settings

from scorecards.runs import services as run_services
from wealthscore.kernel.jobs import TRANSIENT, close_broken_connections, retry_delay

log = logging.getLogger(__name__)
# Seconds between two looks of a year run at the quarter runs of other recomputes.
WAIT_SECONDS = 5
# A recompute that finds its periods being computed asks again this often, for at most this
# many times (half an hour: a bank-wide run of 10,000 RMs takes minutes).
BUSY_SECONDS, BUSY_RETRIES = 15, 120


def _retry_or_give_up(
    task, exc: Exception, *, run_id: int | None, failures: int, task_kwargs: dict
):
    """Retry after a transient database error, WEALTHSCORE_TASK_MAX_RETRIES times at most,
    backing off; then fail the run (to be recomputed) and let the error through."""
    close_broken_connections()
    if failures >= settings.WEALTHSCORE_TASK_MAX_RETRIES:
        log.error("%s: database still failing after %s retries: %r", task.name, failures, exc)
        if run_id is not None:
            try:
                run_services.score_run_fail(run_id=run_id, error=repr(exc), recover=True)
            except TRANSIENT:  # still away: the reaper fails the silent run instead
                log.exception("could not fail score run #%s", run_id)
        raise exc
    if task.request.is_eager:  # in-process: no broker to hold a countdown; again, now
        return task.run(**task_kwargs, failures=failures + 1)
    raise task.retry(
        kwargs={**task_kwargs, "failures": failures + 1},
        countdown=retry_delay(failures),
        exc=exc,
        max_retries=None,  # bounded by `failures`: the waits of a year run are not failures
    )


@shared_task(name="scorecards.prepare", acks_late=True, bind=True, ignore_result=True)
def score_prepare_task(self, run_id: int, failures: int = 0) -> int:
    try:
        # In-process (the demo) nothing else computes meanwhile: a year run never waits.
        if not self.request.is_eager and run_services.score_run_waits(run_id=run_id):
            raise self.retry(countdown=WAIT_SECONDS, max_retries=None)
        return len(run_services.score_run_prepare(run_id=run_id, retries=failures))
    except Retry:
        raise
    except TRANSIENT as exc:
        kwargs = {"run_id": run_id}
        return _retry_or_give_up(self, exc, run_id=run_id, failures=failures, task_kwargs=kwargs)
    except Exception as exc:
        run_services.score_run_fail(run_id=run_id, error=repr(exc))
        raise


@shared_task(name="scorecards.chunk", acks_late=True, bind=True, ignore_result=True)
def score_chunk_task(self, chunk_id: int, failures: int = 0) -> bool:
    try:
        return run_services.score_run_chunk(chunk_id=chunk_id, retries=failures)
    except TRANSIENT as exc:
        run_id = _run_of(chunk_id)
        kwargs = {"chunk_id": chunk_id}
        return _retry_or_give_up(self, exc, run_id=run_id, failures=failures, task_kwargs=kwargs)
    except Exception as exc:
        run_id = _run_of(chunk_id)
        if run_id is not None:
            run_services.score_run_fail(run_id=run_id, error=repr(exc))
        raise


def _run_of(chunk_id: int) -> int | None:
    from scorecards.models import ScoreRunChunk

    try:
        return ScoreRunChunk.objects.filter(pk=chunk_id).values_list("run_id", flat=True).first()
    except TRANSIENT:
        close_broken_connections()
        return None


@shared_task(
    name="scorecards.recompute",
    bind=True,
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=settings.WEALTHSCORE_TASK_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=settings.WEALTHSCORE_TASK_MAX_RETRIES,
)
def recompute_task(
    self,
    codes: list[str],
    trigger: str,
    actor_id: int | None = None,
    employees: list[str] | None = None,
) -> list[str]:
    """Recompute periods as one group, asked for by name (crm, compliance; `employees`: only
    theirs changed). Safe to repeat. A period already being computed keeps its run, which
    may have read the facts before the change that asked for this one: then the whole
    request is asked again once that run is over (a worker; in-process, the tasks run one
    after the other and none is ever found running)."""
    from django.utils import timezone

    from targets.models import User

    asked_at = timezone.now()
    actor = None if actor_id is None else User.objects.filter(pk=actor_id).first()
    runs = run_services.recompute_periods(
        codes=codes, trigger=trigger, actor=actor, employees=employees
    )
    busy = [code for code, run in runs.items() if run is not None and run.created_at < asked_at]
    if busy and not self.request.is_eager:
        log.info("recompute %s: %s being computed, asked again after it", trigger, busy)
        raise self.retry(countdown=BUSY_SECONDS, max_retries=BUSY_RETRIES)
    return [code for code, run in runs.items() if run is not None]


@shared_task(name="scorecards.reap_runs", ignore_result=True)
def reap_runs_task() -> dict:
    """Beat: fail the silent runs (a dead worker) and recompute their periods. Not retried:
    beat runs it again within WEALTHSCORE_REAP_SECONDS."""
    reaped = run_services.score_runs_reap()
    recovered = run_services.score_groups_recover()
    return {"reaped": reaped, "recovered": recovered}
