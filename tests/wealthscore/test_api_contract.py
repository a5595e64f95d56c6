"""The API's cross-cutting contract (issue 15, item 3): one error envelope for every error, a
JSON 404 under /api/, JSON request bodies, every error documented, and a schema that does not
depend on the language of whoever fetched it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.test import Client, RequestFactory
from rest_framework.exceptions import ValidationError

from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from wealthscore.kernel.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    api_exception_handler,
    server_error,
)

ENVELOPE_KEYS = {"code", "message", "fields"}
# The operations that receive a file: the only ones whose body is multipart.
FILE_OPERATIONS = {
    "imports_create",
    "compliance_incidents_evidence_create",
    "inquiries_attachment_create",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}  # requests speak Chinese unless they ask


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == ENVELOPE_KEYS, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["fields"], dict), body
    assert all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in body["fields"].values()
    ), body
    return body


@pytest.fixture
def period(bank):
    """September 2026 scored (an open period) for the bank's RMs."""
    scheme_services.install_default_scheme()
    run_services.score_period(period_code="2026-09", trigger="test")
    return "2026-09"


# ---------------------------------------------------------------- the envelope, status by status
def test_a_missing_field_is_validation_failed_naming_it(bank):
    body = assert_envelope(
        Client().post("/api/v1/auth/token/", {"username": "hr"}, content_type="application/json"),
        400,
        "validation_failed",
    )
    assert set(body["fields"]) == {"password"} and "password" in body["message"]


def test_wrong_credentials_have_their_own_code(bank):
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": "hr", "password": "not-the-password"},
        content_type="application/json",
        **EN,
    )
    body = assert_envelope(response, 400, "invalid_credentials")
    assert body["fields"] == {} and "Wrong username or password" in body["message"]


def test_a_domain_rule_names_its_field(bank, period):
    response = bank.client("admin").post(f"/api/v1/periods/{period}/submit/")
    assert response.status_code == 200
    body = assert_envelope(
        bank.client("admin").post(f"/api/v1/periods/{period}/reopen/", {}, format="json"),
        400,
        "invalid",
    )
    assert list(body["fields"]) == ["reason"] and body["fields"]["reason"] == [body["message"]]


def test_a_body_that_is_not_json_is_a_parse_error(bank):
    response = bank.client("admin").post(
        "/api/v1/targets/", "{not json", content_type="application/json"
    )
    assert_envelope(response, 400, "parse_error")


def test_no_credentials_and_bad_credentials_are_401_with_distinct_codes(bank):
    missing = assert_envelope(Client().get("/api/v1/me/"), 401, "not_authenticated")
    assert missing["fields"] == {}
    bad = Client().get("/api/v1/me/", headers={"Authorization": "Token not-a-token"})
    assert_envelope(bad, 401, "authentication_failed")
    assert bad["WWW-Authenticate"].startswith("Token")


def test_a_role_that_may_not_act_is_403_forbidden(bank, period):
    response = bank.client("rm_alice").post(f"/api/v1/periods/{period}/submit/", **EN)
    body = assert_envelope(response, 403, "forbidden")
    assert "may not submit" in body["message"]


def test_a_session_post_without_csrf_is_403_permission_denied(bank, period):
    client = Client(enforce_csrf_checks=True)
    client.force_login(bank.users["admin"])
    response = client.post(f"/api/v1/periods/{period}/submit/", {}, content_type="application/json")
    body = assert_envelope(response, 403, "permission_denied")
    assert "CSRF" in body["message"]


def test_a_nul_in_a_query_parameter_is_refused_naming_it(bank):
    response = bank.client("admin").get("/api/v1/scorecards/?unit=A%00&period=2026-09")
    body = assert_envelope(response, 400, "validation_failed")
    assert list(body["fields"]) == ["unit"]


def test_an_object_out_of_scope_is_404_not_found(bank, period):
    assert_envelope(bank.client("admin").get("/api/v1/scorecards/999999999/"), 404, "not_found")
    assert_envelope(bank.client("admin").get("/api/v1/periods/1999-01/"), 404, "not_found")


def test_a_method_the_address_does_not_take_is_405(bank):
    assert_envelope(bank.client("admin").put("/api/v1/me/", {}), 405, "method_not_allowed")


def test_a_format_the_endpoint_cannot_answer_is_406(bank):
    response = bank.client("admin").get("/api/v1/me/", HTTP_ACCEPT="text/csv")
    assert_envelope(response, 406, "not_acceptable")


def test_a_conflict_is_409_and_never_says_invalid(bank, period):
    # The period is open: reopening it is refused by its state, not by the request.
    response = bank.client("admin").post(
        f"/api/v1/periods/{period}/reopen/", {"reason": "复核"}, format="json"
    )
    body = assert_envelope(response, 409, "conflict")
    assert period in body["message"] and body["fields"] == {}


def test_a_form_body_is_415_where_the_endpoint_takes_json(bank, period):
    response = bank.client("admin").post(
        f"/api/v1/periods/{period}/reopen/",
        "reason=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert_envelope(response, 415, "unsupported_media_type")


def test_each_domain_error_class_has_its_own_code_and_explicit_codes_stay():
    assert (DomainError("x").code, ConflictError("x").code, ForbiddenError("x").code) == (
        "invalid", "conflict", "forbidden"
    )  # fmt: skip
    assert ConflictError("x", code="period_approved").as_dict() == {
        "code": "period_approved", "message": "x", "fields": {}
    }  # fmt: skip
    assert DomainError("x", field="reason").as_dict()["fields"] == {"reason": ["x"]}


def test_nested_serializer_errors_are_flattened_to_lists_of_text():
    exc = ValidationError(
        {"lines": [{}, {"weight": ["A weight is 0 to 100."]}], "non_field_errors": ["Bad."]}
    )
    response = api_exception_handler(exc, {})
    assert response.status_code == 400
    assert response.data["code"] == "validation_failed"
    assert response.data["fields"] == {"lines.1.weight": ["A weight is 0 to 100."]}
    assert response.data["message"] == "Bad.; lines.1.weight: A weight is 0 to 100."


def test_a_crash_under_the_api_answers_the_envelope_and_pages_keep_their_page():
    api = server_error(RequestFactory().get("/api/v1/scorecards/"))
    assert api.status_code == 500 and json.loads(api.content)["code"] == "server_error"
    page = server_error(RequestFactory().get("/me/"))
    assert page.status_code == 500 and not page["Content-Type"].startswith("application/json")


# ---------------------------------------------------------------- JSON 404 under /api/
@pytest.mark.parametrize(
    "path", ["/api/v1/unknown/", "/api/v1/scorecards/1/nothing/", "/api/v2/", "/api/", "/api"]
)
def test_an_unknown_api_address_is_a_json_404(bank, path):
    for client in (Client(), bank.client("admin")):
        assert_envelope(client.get(path), 404, "not_found")
        assert_envelope(client.post(path, {}, content_type="application/json"), 404, "not_found")


def test_a_missing_trailing_slash_is_named(bank):
    body = assert_envelope(bank.client("admin").get("/api/v1/me", **EN), 404, "not_found")
    assert "/api/v1/me/" in body["message"]


def test_pages_keep_their_html_404(bank):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_the_lockout_answers_the_envelope(bank, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = Client(REMOTE_ADDR="10.3.3.3")
    for _attempt in range(2):
        client.post("/api/v1/auth/token/", {"username": "hr", "password": "wrong-password-1"},
                    content_type="application/json")  # fmt: skip
    locked = client.post("/api/v1/auth/token/", {"username": "hr", "password": "x"},
                         content_type="application/json")  # fmt: skip
    assert_envelope(locked, 429, "locked_out")
    assert locked["Retry-After"]


# ---------------------------------------------------------------- the schema
@pytest.fixture
def schema(bank) -> dict:
    response = bank.client("admin").get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_the_schema_is_the_same_in_every_language(bank):
    client = bank.client("admin")
    english = client.get("/api/v1/schema/", headers={"accept-language": "en"})
    chinese = client.get("/api/v1/schema/", headers={"accept-language": "zh-hans"})
    asked = client.get("/api/v1/schema/?lang=zh-hans", headers={"accept-language": "zh-hans"})
    assert english.status_code == chinese.status_code == asked.status_code == 200
    assert english.content == chinese.content == asked.content
    # Rendered in English (DRF's own descriptions too), whatever the request asked for.
    text = json.dumps(yaml.safe_load(english.content), ensure_ascii=False)
    assert "Number of results to return per page." in text and "每页返回的结果数量" not in text


def test_every_operation_takes_one_request_format(schema):
    for path, method, operation in _operations(schema):
        content = operation.get("requestBody", {}).get("content", {})
        if not content:
            continue
        assert len(content) == 1, (method, path, list(content))
        expected = (
            "multipart/form-data"
            if operation["operationId"] in FILE_OPERATIONS
            else "application/json"
        )
        assert list(content) == [expected], (method, path, list(content))


def test_every_operation_documents_its_errors_with_the_envelope(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == ENVELOPE_KEYS
    assert error["properties"]["fields"]["additionalProperties"]["items"] == {"type": "string"}
    for path, method, operation in _operations(schema):
        expected = {"400", "401", "403", "404"} | ({"409"} if method in WRITE_METHODS else set())
        if operation.get("requestBody"):
            expected.add("415")
        responses = operation["responses"]
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in expected:
            content = responses[status]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_the_token_endpoint_is_json_without_auth_and_documents_429(schema):
    post = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert post.get("security") in (None, [], [{}])
    assert list(post["requestBody"]["content"]) == ["application/json"]
    assert post["responses"]["429"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Error"
    )


def test_every_response_format_is_one_a_generated_client_reads(schema):
    """openapi-python-client (.ci/client) drops a response in any other format: a file download
    is documented as application/octet-stream (the real Content-Type is the file's)."""
    for path, method, operation in _operations(schema):
        for status, response in operation["responses"].items():
            for media_type in response.get("content", {}):
                assert media_type in ("application/json", "application/octet-stream") or (
                    media_type.startswith("text/")
                ), (method, path, status, media_type)


def test_a_client_generated_from_the_schema_imports_whole(bank, tmp_path):
    """What .ci/client does against a live server, here on the test schema: every module
    openapi-python-client writes imports (0.29.1 once made 10 of 46 endpoint modules fail)."""
    response = bank.client("admin").get("/api/v1/schema/?format=json")
    (tmp_path / "schema.json").write_bytes(response.content)
    (tmp_path / "config.yml").write_text("package_name_override: generated_client\n")
    binaries = Path(sys.executable).parent
    subprocess.run(
        [binaries / "openapi-python-client", "generate", "--path", tmp_path / "schema.json",
         "--config", tmp_path / "config.yml", "--meta", "none",
         "--output-path", tmp_path / "generated_client"],
        check=True, capture_output=True, cwd=tmp_path,
        env={**os.environ, "PATH": f"{binaries}{os.pathsep}{os.environ.get('PATH', '')}"},
    )  # fmt: skip
    check = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_MODULE],
        capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    # The sign-in is callable without a token, the rest need one.
    token = (tmp_path / "generated_client/api/auth/auth_token_create.py").read_text()
    cards = (tmp_path / "generated_client/api/scorecards/scorecards_list.py").read_text()
    assert "client: AuthenticatedClient | Client," in token
    assert "client: AuthenticatedClient," in cards


IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys
import generated_client
names = [m.name for m in pkgutil.walk_packages(generated_client.__path__, "generated_client.")]
broken = []
for name in names:
    try:
        importlib.import_module(name)
    except Exception as exc:
        broken.append(f"{name}: {exc!r}")
assert len(names) > 100, names
if broken:
    sys.exit("\\n".join(broken))
"""
