"""What compliance does when a lower layer tells it something (`wealthscore.kernel.events`)."""

from __future__ import annotations

from crm.models import ImportBatch

from .services import warnings_raise


def raise_warnings(*, batch: ImportBatch, **_signal) -> dict[str, int]:
    """`batch_loaded`: the T+1 warnings of a batch, in the import's transaction."""
    return warnings_raise(batch=batch)
