"""Writes of the sign-in: token revocation and password changes, audited in their transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from knox.models import get_token_model

from wealthscore.kernel.audit import audit_record

if TYPE_CHECKING:
    from django.http import HttpRequest

    from targets.models import User

LABEL_MAX = 100  # AuditEntry.actor_label
OBJECT_ID_MAX = 64  # AuditEntry.object_id


def client_address(request: HttpRequest | None) -> str | None:
    """The address the lockout counts (axes' own reading: REMOTE_ADDR unless configured)."""
    if request is None:
        return None
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request)


def _channel(request: HttpRequest | None) -> str:
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/"):
        return "token"
    if path.startswith("/admin/"):
        return "admin"
    return "page" if path else "other"


@transaction.atomic
def tokens_revoke(*, user: User) -> int:
    """Delete every API token of the user; returns how many there were."""
    deleted, _by_model = get_token_model().objects.filter(user=user).delete()
    return deleted


@transaction.atomic
def login_audit(*, user: User, request: HttpRequest | None) -> None:
    audit_record(
        actor=user,
        action="user.login",
        object_type="user",
        object_id=user.get_username()[:OBJECT_ID_MAX],
        after={"address": client_address(request), "via": _channel(request)},
    )


@transaction.atomic
def login_failure_audit(*, username: str, request: HttpRequest | None) -> None:
    """A failed attempt has no user (it may name no one): the name tried is the label.

    Whether the name exists is not recorded, so the log tells no more than the page does.
    """
    audit_record(
        actor=None,
        actor_label=f"login:{username}"[:LABEL_MAX],
        action="user.login_failed",
        object_type="user",
        object_id=username[:OBJECT_ID_MAX],
        after={
            "address": client_address(request),
            "via": _channel(request),
            "locked_out": bool(getattr(request, "axes_locked_out", False)),
        },
    )


@transaction.atomic
def logout_record(*, user: User, request: HttpRequest | None, revoke: str) -> int:
    """A sign-out: `revoke="all"` (the pages: every token of the user goes) or `"presented"`
    (DELETE auth/token/: the caller's token only, deleted by the caller). Audited."""
    revoked = tokens_revoke(user=user) if revoke == "all" else 1
    audit_record(
        actor=user,
        action="user.logout",
        object_type="user",
        object_id=user.get_username()[:OBJECT_ID_MAX],
        after={"address": client_address(request), "via": _channel(request),
               "tokens_revoked": revoked},
    )  # fmt: skip
    return revoked


@transaction.atomic
def password_changed(*, user: User, actor: User, request: HttpRequest | None) -> int:
    """After a password change (own page or the admin site): every API token of the user is
    revoked, and the change is audited (never the hash). Call in the change's transaction."""
    revoked = tokens_revoke(user=user)
    after: dict[str, Any] = {
        "address": client_address(request),
        "via": _channel(request),
        "tokens_revoked": revoked,
    }
    audit_record(
        actor=actor,
        action="user.password_change",
        object_type="user",
        object_id=user.get_username()[:OBJECT_ID_MAX],
        after=after,
    )
    return revoked
