"""The OpenAPI schema's error half: one `Error` component (wealthscore/errors.py's envelope)
and the error responses every operation can answer, added after drf-spectacular has built
the 2xx half (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]).

Documented, a generated client parses a 400 or a 409 into a typed `Error` instead of giving
up, and schemathesis checks that every error body really has the envelope's shape.
"""

from __future__ import annotations

from typing import Any

from .kernel.errors import ERROR_CODES

ERROR_REF = {"$ref": "#/components/schemas/Error"}
WRITE_METHODS = {"post", "put", "patch", "delete"}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every API error. `code` is one of: "
    + "; ".join(f"`{code}` ({meaning})" for code, meaning in ERROR_CODES.items())
    + ". New codes may be added: handle an unknown one by its HTTP status.",
    "properties": {
        "code": {"type": "string", "description": "Stable, machine-readable; never translated."},
        "message": {"type": "string", "description": "For a person, in the request's language."},
        "fields": {
            "type": "object",
            "description": "Request field or query parameter → its messages (nested fields "
            "dotted: `lines.0.weight`); empty when the error is not about one.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["code", "message", "fields"],
}

# status → description; which operations get which is decided in _statuses_for.
DESCRIPTIONS = {
    "400": "Invalid request: `validation_failed` (see `fields`), `parse_error`, or a domain "
    "rule's code.",
    "401": "`not_authenticated` (no credentials) or `authentication_failed` (bad or expired "
    "token).",
    "403": "`permission_denied` (your role may not call this) or `forbidden` (it may not make "
    "this change).",
    "404": "`not_found`: no such object in your scope (out of scope is never 403).",
    "409": "`conflict` or a precise code: the current state forbids it (a locked period, a "
    "decided incident).",
    "413": "`too_large`: the file exceeds the upload limit.",
    "415": "`unsupported_media_type`: send the body in the documented format.",
    "429": "`throttled` or `locked_out`: too many attempts; see Retry-After.",
}


def _statuses_for(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    statuses = ["400", "401", "403", "404"]
    if method in WRITE_METHODS:
        statuses.append("409")
    content = operation.get("requestBody", {}).get("content", {})
    if content:
        statuses.append("415")
    if "multipart/form-data" in content:
        statuses.append("413")
    # Only the sign-in is throttled and locked out (settings.REST_FRAMEWORK, axes).
    if operation.get("operationId") == "auth_token_create":
        statuses.append("429")
    return statuses


def document_errors(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the envelope on every operation's error statuses.
    A status an operation documents with a body of its own is kept as it is."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status in _statuses_for(path, method, operation):
                documented = responses.setdefault(status, {"description": DESCRIPTIONS[status]})
                documented.setdefault("content", {"application/json": {"schema": ERROR_REF}})
            # Sorted by status, so that the schema's bytes do not depend on insertion order.
            operation["responses"] = dict(sorted(responses.items()))
    return result
