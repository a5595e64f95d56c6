"""In headless Chromium on the demo server, every page draws its charts and runs htmx with no
CSP violation (the headers themselves are tested in tests/wealthscore/test_headers.py).

It lives among the journeys so that it shares their session's demo server: imported into
another folder, the fixture built a second demo bank (about a minute of every test run)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS, log_in

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
def test_the_pages_draw_and_run_htmx_with_no_csp_violation(page, demo, language):
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
    # At 390 px it is in the top bar's menu, which its button opens (app.js too).
    toggle = page.locator("[data-testid=menu-toggle]")
    if toggle.is_visible():
        toggle.click()
    with page.expect_navigation():  # the form's answer, not the page it was on
        page.select_option("select[name=language]", "en")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.evaluate("window.__csp") == []
    violations = [line for line in console if "Content Security Policy" in line
                  or "Permissions-Policy" in line or "Permissions policy" in line]  # fmt: skip
    assert violations == [], violations
