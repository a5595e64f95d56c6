"""Writing audit rows. Call inside the transaction of the change it records."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .models import AuditEntry


def audit_record(
    *,
    actor: Any | None,
    action: str,
    object_type: str,
    object_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    actor_label: str = "",
) -> AuditEntry:
    # An audit row written outside the change's transaction could survive a rolled-back
    # change, or be lost with a committed one: refuse to write it that way.
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change")
    user = actor if getattr(actor, "is_authenticated", False) else None
    if user is None and not actor_label:
        actor_label = "system"
    return AuditEntry.objects.create(
        actor=user,
        actor_label=actor_label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        reason=reason,
    )


def audit_bulk(
    *,
    actor: Any | None,
    actor_label: str = "",
    action: str,
    object_type: str,
    changes: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]],
    reason: str = "",
) -> int:
    """One audit row per (object_id, before, after), written in one INSERT (bulk changes)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_bulk must run inside the transaction of the change")
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = actor_label or ("" if user else "system")
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=user,
                actor_label=label,
                action=action,
                object_type=object_type,
                object_id=str(object_id),
                before=before,
                after=after,
                reason=reason,
            )
            for object_id, before, after in changes
        ],
        batch_size=2000,
    )
    return len(changes)


def audit_read(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: str,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record a read that SPEC §9 audits (an export, a bulk read of pay, import row errors).

    A read has no change whose transaction the row could join, so the row is its own
    transaction (or joins the caller's, when there is one).
    """
    with transaction.atomic():
        return audit_record(
            actor=actor, action=action, object_type=object_type, object_id=object_id,
            after=after,
        )  # fmt: skip
