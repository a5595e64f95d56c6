"""Reads of the import pipeline, always through the user's scope (the page and the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from .models import ImportBatch

if TYPE_CHECKING:
    from targets.models import User


def import_batch_list(*, user: User) -> QuerySet[ImportBatch]:
    """The batches the user may see (admins and HR only; none for others), newest first."""
    return ImportBatch.objects.visible_to(user).select_related("actor")


def import_batch_get(*, user: User, pk: int) -> ImportBatch:
    """One batch in the user's scope, with the batch it duplicates; 404 outside it."""
    batch = import_batch_list(user=user).select_related("duplicate_of").filter(pk=pk).first()
    if batch is None:
        raise Http404
    return batch
