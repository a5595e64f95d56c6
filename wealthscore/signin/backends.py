"""django-axes' lockout check, first of AUTHENTICATION_BACKENDS."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked-out username or address before any password is checked.

    Every sign-in over HTTP (the login page, the token endpoint, the admin site's login)
    hands `authenticate()` its request. A call without one comes from code in this process
    (a management command, the test client's `login()`): there is no address to count, and
    axes would raise, so it is left to the next backends.
    """

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> None:  # fmt: skip
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
