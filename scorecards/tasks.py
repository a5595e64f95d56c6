"""Celery tasks of scoring: thin, keyed by ids, acknowledged late, safe to run twice.

A run is fanned out by branch; its state lives in the database (ScoreRun, ScoreRunChunk),
not in a chord over the result backend: the chunk that completes the run finishes it.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from . import services

TRANSIENT = (OperationalError, InterfaceError)


@shared_task(name="scorecards.prepare", acks_late=True, bind=True, max_retries=None)
def score_prepare_task(self, run_id: int) -> int:
    if services.score_run_waits(run_id=run_id):
        raise self.retry(countdown=2)
    try:
        chunk_ids = services.score_run_prepare(run_id=run_id)
    except Exception as exc:
        services.score_run_fail(run_id=run_id, error=repr(exc))
        raise
    transaction.on_commit(lambda: [score_chunk_task.delay(chunk_id=c) for c in chunk_ids])
    return len(chunk_ids)


@shared_task(name="scorecards.chunk", acks_late=True)
def score_chunk_task(chunk_id: int) -> bool:
    try:
        return services.score_run_chunk(chunk_id=chunk_id)
    except Exception as exc:
        from .models import ScoreRunChunk

        run_id = ScoreRunChunk.objects.filter(pk=chunk_id).values_list("run_id", flat=True).first()
        if run_id is not None:
            services.score_run_fail(run_id=run_id, error=repr(exc))
        raise
