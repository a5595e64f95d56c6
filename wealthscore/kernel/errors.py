"""One domain error type, mapped once to HTTP (here) and to form messages (in views).

Every API error, whoever raises it (a service's DomainError, a serializer, DRF's auth,
permission, parsing and throttling, an unknown /api/ address, axes' lockout, a crash), answers
one envelope, so that a client has a single error model to generate and to handle:

    {"code": "period_approved", "message": "…", "fields": {"reason": ["…"]}}

`code` is stable and machine-readable (never translated), `message` is for a person in the
request's language, `fields` maps a request field or query parameter to its messages (empty
when the error is not about one). The codes a client can meet are listed in ERROR_CODES; the
schema documents them (wealthscore/schema.py).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

# code → what it means; the schema's Error component lists them for client authors.
ERROR_CODES: dict[str, str] = {
    "validation_failed": "a field or query parameter is invalid (see `fields`)",
    "invalid": "a domain rule refused the request (400)",
    "invalid_credentials": "wrong username or password (POST auth/token/)",
    "parse_error": "the body is not valid JSON (or not a valid form)",
    "not_authenticated": "no credentials were sent",
    "authentication_failed": "the token or session is invalid or expired",
    "permission_denied": "your role may not call this endpoint",
    "forbidden": "the object is yours to see but your role may not change it",
    "not_found": "no such object in your scope, or no such API address",
    "method_not_allowed": "the address does not take this HTTP method",
    "not_acceptable": "the Accept header asks for a format the endpoint cannot answer",
    "unsupported_media_type": "the body's Content-Type is not the one the endpoint takes",
    "conflict": "the current state forbids the request (a locked period, a busy run)",
    "no_pay_policy": "no pay policy is in force for the quarter: an admin adds one",
    "too_large": "the uploaded file is larger than the limit (413)",
    "file_type": "the uploaded file is not of an accepted type",
    "unknown": "a code the request names does not exist (an incident type, …)",
    "period_approved": "the period is approved: an admin must reopen it first (409)",
    "already_decided": "the incident is already confirmed or dismissed (409)",
    "vetoes_changed": "a veto was decided after the scores: recompute before approving (409)",
    "throttled": "too many requests; retry after the Retry-After header's seconds",
    "locked_out": "too many failed sign-ins; signing in is locked for a while",
    "server_error": "an unexpected error (logged for the operators)",
}


class DomainError(Exception):
    """A rule of the domain refused a request. The message is for the user, translated.

    `code` is the machine-readable reason; each class has its own default, so that a 409 or a
    403 never carries the 400's code. Raise sites pass a more precise one where a client may act
    on it (`period_approved`, `already_decided`, …)."""

    status_code: int = status.HTTP_400_BAD_REQUEST  # subclasses set their own
    default_code = "invalid"

    def __init__(self, message: Any, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or self.default_code

    def as_dict(self) -> dict[str, Any]:
        message = str(self.message)
        return envelope(self.code, message, {self.field: [message]} if self.field else {})


class ConflictError(DomainError):
    """The request is well-formed but the current state forbids it (locked period, busy run)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class ForbiddenError(DomainError):
    """The object is in the user's scope but her role may not make this change (403)."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "forbidden"


def envelope(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """A serializer's nested errors as `{"lines.0.weight": ["…"]}`: one level, lists of text,
    whatever the nesting (a typed client gets `dict[str, list[str]]`, never Any)."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            flat.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    messages = [str(item) for item in detail] if isinstance(detail, list) else [str(detail)]
    return {prefix: messages} if messages else {}


def _validation_envelope(exc: exceptions.ValidationError) -> dict:
    detail = exc.detail
    non_field_key = api_settings.NON_FIELD_ERRORS_KEY
    if not isinstance(detail, dict):
        detail = {non_field_key: detail}
    fields = _flatten(detail)
    general = fields.pop(non_field_key, []) + fields.pop("", [])
    # The message alone tells the whole story (a log line, a toast): each field's first problem.
    parts = general + [f"{name}: {messages[0]}" for name, messages in fields.items()]
    message = " ".join(general) if general and not fields else "; ".join(parts)
    return envelope("validation_failed", message or _("Invalid input."), fields)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every handled error in the envelope, with DRF's headers
    (WWW-Authenticate on 401, Retry-After on 429). Anything else is a 500 (handler500)."""
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    # Only NotAuthenticated/AuthenticationFailed (set by DRF) and Throttled carry these.
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if wait:
        headers["Retry-After"] = f"{int(wait)}"
    if isinstance(exc, exceptions.ValidationError):
        body = _validation_envelope(exc)
    else:
        # DRF's own errors carry one message; a list or a dict (rare) is flattened the same way.
        detail = exc.detail
        code = getattr(detail, "code", None) or exc.default_code
        fields = _flatten(detail) if isinstance(detail, dict | list) else {"": [str(detail)]}
        general = fields.pop("", [])
        text = " ".join(general) or "; ".join(f"{k}: {v[0]}" for k, v in fields.items())
        body = envelope(str(code), text or str(exc.default_detail), fields)
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


@csrf_exempt  # as DRF's views are: a token client's POST gets the 404, not a CSRF page
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any /api/ address that no route takes: the envelope, not the pages' HTML 404. A missing
    trailing slash is named, since the API never redirects (a client would lose its POST)."""
    message = _("No API endpoint at %(path)s.") % {"path": request.path}
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            message = _("No API endpoint at %(path)s; did you mean %(slashed)s?") % {
                "path": request.path,
                "slashed": request.path + "/",
            }
    return JsonResponse(envelope("not_found", message), status=status.HTTP_404_NOT_FOUND)


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """handler500: the envelope under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        body = envelope("server_error", _("An unexpected error occurred."))
        return JsonResponse(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)


def validated_input(serializer_class, data) -> dict:
    """A request body checked by a serializer: its validated data, or a 400 naming the fields
    (a body that is not a JSON object is refused as such)."""
    if not isinstance(data, dict):
        raise exceptions.ValidationError(_("Expected a JSON object."))
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
