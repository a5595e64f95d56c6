from __future__ import annotations

from celery import shared_task


@shared_task(name="wealthscore.ping")
def ping(value: str = "pong") -> str:
    """Round trip through the broker; used by /healthz checks and the worker test."""
    return value


@shared_task(name="wealthscore.jobs_dispatch", ignore_result=True)
def jobs_dispatch_task() -> int:
    """Beat: send the outbox rows the broker refused at their commit. Not retried: beat sends
    it again in a few seconds, and two at once share the rows (SKIP LOCKED)."""
    from .kernel.jobs import jobs_dispatch

    return jobs_dispatch()
