"""Audit rows for every sign-in, whichever view or backend handled it (django.contrib.auth's
signals: the page, the token endpoint, the admin site's login page, LDAP)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from wealthscore.kernel import sessions


@receiver(user_logged_in, dispatch_uid="wealthscore.signin.logged_in")
def _logged_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    if user is not None:
        sessions.login_audit(user=user, request=getattr(request, "_request", request))


@receiver(user_login_failed, dispatch_uid="wealthscore.signin.login_failed")
def _login_failed(
    sender: Any, credentials: dict[str, Any] | None = None, request: Any = None, **kwargs: Any
) -> None:
    username = str((credentials or {}).get("username") or "")
    sessions.login_failure_audit(username=username, request=getattr(request, "_request", request))
