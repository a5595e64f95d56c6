"""Celery tasks of the import pipeline: thin, keyed by ids, acknowledged late, repeatable.

A delivery that dies with its worker comes back (late ack, a visibility timeout of minutes)
or is dispatched again by the reaper; the batch counts its starts (ImportBatch.attempts) and
is given up past WEALTHSCORE_MAX_DELIVERIES, so no message is delivered forever.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from wealthscore.kernel.jobs import TRANSIENT

from . import services

# Transient database errors: 2, 4, 8 … s (jittered, capped), a bounded number of times.
RETRY = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": settings.WEALTHSCORE_TASK_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": settings.WEALTHSCORE_TASK_MAX_RETRIES,
}


@shared_task(name="crm.import_batch", acks_late=True, bind=True, ignore_result=True, **RETRY)
def import_batch_task(self, batch_id: int) -> str:
    # Retries after a transient error are starts that ended well: not deaths of a worker.
    retries = self.request.retries or 0
    return services.import_run_and_score(batch_id=batch_id, retries=retries).status


@shared_task(name="crm.run_nightly", acks_late=True, **{**RETRY, "retry_backoff": 30})
def run_nightly_task() -> dict:
    result = services.run_nightly()
    return {
        "ran": result.ran,
        "batches": result.batches,
        "loaded": result.loaded,
        "unchanged": result.unchanged,
        "rejected": result.rejected,
        "touched_months": sorted(result.touched_months),
        "recomputed": result.recomputed,
    }


@shared_task(name="crm.reap_batches", ignore_result=True)
def reap_batches_task() -> dict:
    """Beat: dispatch again the batches whose worker died (or give them up). Not retried:
    beat runs it again within WEALTHSCORE_REAP_SECONDS."""
    return services.import_batches_reap()
