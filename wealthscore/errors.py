"""One domain error type, mapped once to HTTP (here) and to form messages (in views)."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    """A rule of the domain refused a request. The message is for the user, translated."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: Any, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": str(self.message), "code": self.code}
        if self.field:
            body["field"] = self.field
        return body


class ConflictError(DomainError):
    """The request is well-formed but the current state forbids it (locked period, busy run)."""

    status_code = status.HTTP_409_CONFLICT


class ForbiddenError(DomainError):
    """The object is in the user's scope but her role may not make this change (403)."""

    status_code = status.HTTP_403_FORBIDDEN


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    return exception_handler(exc, context)


def validated_input(serializer_class, data) -> dict:
    """A request body checked by a serializer: its validated data, or a 400 naming the fields
    (a body that is not a JSON object is refused as such)."""
    if not isinstance(data, dict):
        raise DomainError("Expected a JSON object.")
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
