"""What a locked-out sign-in sees (django-axes' AXES_LOCKOUT_CALLABLE).

The same answer whether or not the username exists: axes counts failures per username and
per address alike, so an unknown name is locked out exactly as a real one would be.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from wealthscore.kernel.errors import envelope

LOCKED_OUT_STATUS = 429


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_message() -> str:
    return _(
        "Too many failed sign-ins for this username or from this address. Signing in is "
        "locked for %(minutes)s minutes; try again later or ask an administrator."
    ) % {"minutes": lockout_minutes()}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            # The API's error envelope (wealthscore/errors.py), as every other API error.
            envelope("locked_out", lockout_message()),
            status=LOCKED_OUT_STATUS,
        )
    else:
        response = render(
            request,
            "login.html",
            {"form": AuthenticationForm(request), "locked_out": lockout_message()},
            status=LOCKED_OUT_STATUS,
        )
    response["Retry-After"] = retry_after
    return response
