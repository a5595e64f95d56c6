"""Security headers on every response (CSP of this origin only, Permissions-Policy, no-store
for signed-in users), no inline script anywhere in the templates, and, in headless
Chromium, every page drawing its charts and running htmx with no CSP violation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

# The end-to-end demo server and browser set-up (Debian's Chromium), shared with tests/e2e.
from tests.e2e.conftest import (  # noqa: F401 - fixtures
    ARTIFACTS,
    browser_context_args,
    browser_type_launch_args,
    demo,
    language,
    log_in,
)

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


# ---------------------------------------------------------------- in the browser
# Collects CSP violations from the first byte of each page (an init script runs before the
# page's own and is not subject to its policy).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " +
                    (e.sourceFile || "") + ":" + (e.lineNumber || ""));
});
"""
PAGES = [  # (who, path, chart containers that must hold a drawing)
    ("rm", "/me/?period=2026-Q3", ["#trend-chart", "#radar-chart"]),
    ("manager", "/team/", ["#distribution-chart", "#heatmap-chart"]),
    ("admin", "/schemes/", []),
    ("admin", "/imports/", []),
    ("compliance", "/compliance/", []),
    ("hr", "/hr/pay/", []),
    ("admin", "/audit/", []),
    ("admin", "/", []),
]
WIDTHS = [1440, 390]


@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh"], indirect=True)
def test_the_pages_draw_and_run_htmx_with_no_csp_violation(page, demo, language):  # noqa: F811
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.add_init_script(WATCH)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    logged_in = None
    for who, path, charts in PAGES:
        username = demo.facts.get(who, who)
        if username != logged_in:
            page.context.clear_cookies()
            log_in(page, demo, username)
            logged_in = username
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(f"{demo.url}{path}")
            assert response.status == 200, path
            page.wait_for_load_state("networkidle")
            assert page.evaluate("typeof window.htmx") == "object", path
            for chart in charts:
                page.wait_for_selector(f"{chart} canvas, {chart} svg", timeout=10_000)
                box = page.locator(chart).bounding_box()
                assert box and box["height"] > 100, (path, chart, box)
            name = re.sub(r"\W+", "-", path.split("?")[0].strip("/")) or "home"
            page.screenshot(path=str(ARTIFACTS / f"csp-{name}-{width}.png"), full_page=True)
            assert page.evaluate("window.__csp") == [], (path, width)
    # htmx still swaps: a line's facts load into the card page.
    page.context.clear_cookies()
    log_in(page, demo, demo.facts["rm"])
    page.goto(f"{demo.url}/me/?period=2026-Q3")
    page.click("button[data-why=sales_attainment]")
    page.wait_for_selector("#facts [data-testid=facts-table], #facts [data-testid=facts-empty]")
    # The language switch (bound in static/js/app.js, not an onchange= attribute) still works.
    page.select_option("select[name=language]", "en")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.evaluate("window.__csp") == []
    violations = [line for line in console if "Content Security Policy" in line
                  or "Permissions-Policy" in line or "Permissions policy" in line]  # fmt: skip
    assert violations == [], violations
