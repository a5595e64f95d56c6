"""Security headers on every response (CSP of this origin only, Permissions-Policy, no-store
for signed-in users) and no inline script anywhere in the templates; the pages in headless
Chromium with no CSP violation are tests/e2e/test_csp.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def _signed_in(bank, who: str) -> Client:
    client = Client()
    client.force_login(bank.users[who])
    return client


def test_every_response_carries_the_policy_and_the_permissions(bank):
    responses = [
        Client().get("/login/"),
        _signed_in(bank, "rm_alice").get("/me/"),
        Client().get("/healthz"),
        bank.client("admin").get("/api/v1/me/"),
    ]
    for response in responses:
        policy = _directives(response["Content-Security-Policy"])
        assert policy["default-src"] == "'self'"
        assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
        assert policy["style-src"] == "'self'"
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
        assert policy["base-uri"] == "'self'" and policy["form-action"] == "'self'"
        features = dict(item.split("=") for item in response["Permissions-Policy"].split(", "))
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert features[feature] == "()", feature


def test_whatever_a_signed_in_user_is_answered_is_not_stored(bank):
    session = _signed_in(bank, "rm_alice")
    for path in ("/me/", "/", "/api/v1/me/"):
        response = session.get(path)
        assert "no-store" in response["Cache-Control"], path
        assert "private" in response["Cache-Control"], path
    # Token auth (DRF authenticates inside the view): not stored either.
    token = (
        Client()
        .post("/api/v1/auth/token/", {"username": "rm_alice", "password": "correct-horse-battery"})
        .json()["token"]
    )
    api = Client().get("/api/v1/me/", headers={"Authorization": f"Token {token}"})
    assert api.status_code == 200 and "no-store" in api["Cache-Control"]


def test_the_api_docs_page_loads_its_script_as_a_file(bank):
    client = _signed_in(bank, "admin")
    page = client.get("/api/v1/docs/")
    html = page.content.decode()
    assert page.status_code == 200
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline script
    # Swagger UI's own <style> block: that page alone allows inline styles.
    assert "'unsafe-inline'" in _directives(page["Content-Security-Policy"])["style-src"]
    assert "'unsafe-inline'" not in _directives(page["Content-Security-Policy"])["script-src"]
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(src|type)=)[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTR = re.compile(r"\sstyle\s*=", re.I)


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=str)
def test_no_template_holds_inline_script_handler_or_style(template: Path):
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to static/js/"
    assert not HANDLER.search(text), "on…= handler: bind it in static/js/"
    assert not STYLE_ATTR.search(text), "style= attribute: use a class or data-* + static JS"
    assert "<style" not in text, "<style> block: move it to static/css/"
