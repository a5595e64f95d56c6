"""Refuse a query string holding a NUL character before any view reads it.

PostgreSQL text cannot hold NUL: a lookup by such a value (`?unit=`, `?employee=`) fails in
the database (a 500) instead of finding nothing. Forms and API bodies are already checked by
Django's and DRF's fields (ProhibitNullCharactersValidator); query parameters are not.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _


class RefuseNulInQuery:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            message = _("A query parameter holds a NUL character.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "code": "invalid"}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)
