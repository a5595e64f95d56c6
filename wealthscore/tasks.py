from __future__ import annotations

from celery import shared_task


@shared_task(name="wealthscore.ping")
def ping(value: str = "pong") -> str:
    """Round trip through the broker; used by /healthz checks and the worker test."""
    return value
