"""Request and response guards: a query string holding NUL is refused (RefuseNulInQuery);
every response carries the security headers (SecurityHeaders).

Refuse a query string holding a NUL character before any view reads it.

PostgreSQL text cannot hold NUL: a lookup by such a value (`?unit=`, `?employee=`) fails in
the database (a 500) instead of finding nothing. Forms and API bodies are already checked by
Django's and DRF's fields (ProhibitNullCharactersValidator); query parameters are not.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from .kernel.errors import envelope


class RefuseNulInQuery:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = [
            key
            for key, values in request.GET.lists()
            if "\x00" in key or any("\x00" in value for value in values)
        ]
        if refused:
            message = _("A query parameter holds a NUL character.")
            if request.path.startswith("/api/"):
                # The API's one error envelope (wealthscore/errors.py), naming the parameters.
                fields = {key.replace("\x00", "\\0"): [message] for key in refused}
                body = envelope("validation_failed", message, fields)
                return JsonResponse(body, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)


def _policy(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class SecurityHeaders:
    """Content-Security-Policy, Permissions-Policy, and no caching of what a user saw.

    The policy allows this origin only: no inline script, no inline style, no plugin, no
    framing, forms post only here. Every page's scripts and styles are static files (htmx's
    indicator <style> is turned off in base.html), so one policy serves the whole app; a view
    may send its own (`csp_override`), which this middleware then leaves alone.

    Anything answered to a signed-in user (a session, or an API token, which DRF reads
    inside the view) may hold scores, pay or client data: `Cache-Control: no-store`, so that
    neither the browser's back button on a shared branch PC nor a proxy keeps a copy.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = _policy(settings.WEALTHSCORE_CSP)
        self.permissions = ", ".join(
            f"{feature}=()" for feature in settings.WEALTHSCORE_PERMISSIONS_DENIED
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.csp)
        response.headers.setdefault("Permissions-Policy", self.permissions)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or "HTTP_AUTHORIZATION" in request.META:
            add_never_cache_headers(response)
        return response


def csp_override(view: Callable, **directives: str) -> Callable:
    """`view` with the app's policy changed for the given directives (`style_src="'self'
    'unsafe-inline'"`): for a third-party page whose markup we do not control."""
    policy = _policy(
        {**settings.WEALTHSCORE_CSP, **{k.replace("_", "-"): v for k, v in directives.items()}}
    )

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = policy
        return response

    return wrapped
