"""Celery tasks of the import pipeline: thin, keyed by ids, acknowledged late, repeatable."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

TRANSIENT = (OperationalError, InterfaceError)


@shared_task(
    name="crm.import_batch",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    max_retries=5,
)
def import_batch_task(batch_id: int) -> str:
    return services.import_run_and_score(batch_id=batch_id).status


@shared_task(
    name="crm.run_nightly",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=30,
    max_retries=3,
)
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
