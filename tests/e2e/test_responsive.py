"""Every page on a phone (390×844) and on a desktop (1440×900), in Chinese and in English
(issue 18 item 7), and the veto and the not-applicable dimension in the card's charts
(item 4), in headless Chromium on the demo data.

For each demo role: sign in, open every page of the top bar (as tests/walk.py does) and the
card of a completed quarter, and check that the body never scrolls sideways; on a card, the
total, the rating and each line's points lie inside the viewport's width. Every page is saved
under test-artifacts/e2e/responsive-<role>-<page>-<width>-<language>.png.
"""

from __future__ import annotations

import json
import re

import pytest

from .conftest import Demo, log_in, screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
# The admin site is Django's own (walked by tests/walk.py); the password form is nav.user's.
SKIP = {"/admin/"}

# The vetoed RM of the demo (her August, Q3 and year) and a card with a dimension that does
# not apply, read from the server's database.
CHART_FACTS = """
import json
from compliance.models import Incident
from scorecards.models import Scorecard
vetoed = Incident.objects.filter(veto=True).order_by("id").first()
na = (Scorecard.objects.current().filter(run__period__kind="quarter", lines__applicable=False)
      .exclude(lines__method="bonus", lines__applicable=False)
      .select_related("employee", "run__period").order_by("employee__employee_id").first())
print(json.dumps({
    "vetoed_rm": vetoed.employee.employee_id, "vetoed_login": vetoed.employee.user.username,
    "vetoed_month": f"{vetoed.occurred_on:%Y-%m}",
}))
"""


def _role_logins(demo: Demo) -> dict[str, str]:
    return {
        "rm": demo.facts["rm"],
        "manager": demo.facts["manager"],
        "hr": "hr",
        "compliance": "compliance",
        "admin": "admin",
    }


def _nav_paths(page) -> list[str]:
    """The top bar's pages and the user's own (the password form), in order, once each."""
    hrefs = page.eval_on_selector_all("header nav a[href]", "els => els.map(a => a.getAttribute('href'))")
    return [h for h in dict.fromkeys(hrefs) if h.startswith("/") and h not in SKIP]


def _overflow(page) -> dict:
    return page.evaluate(
        """() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
                   wide: [...document.querySelectorAll('body *')]
                     .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
                     .slice(0, 5).map(el => el.tagName + '.' + el.className + '#' + el.id)})"""
    )


def _outside_viewport(page, selector: str) -> list[str]:
    """The elements matching `selector` whose box is not inside the viewport's width."""
    return page.eval_on_selector_all(
        selector,
        """els => els.filter(el => {
                 const r = el.getBoundingClientRect();
                 return r.width === 0 || r.left < 0 || r.right > window.innerWidth;
               }).map(el => (el.closest('tr') || el).getAttribute('data-measure') || el.outerHTML.slice(0, 80))""",
    )


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1440"])
@pytest.mark.parametrize("role", ["rm", "manager", "hr", "compliance", "admin"])
def test_every_page_of_each_role_fits_the_screen_width(
    page, demo: Demo, language, outside_requests, role, viewport
):
    page.set_viewport_size(viewport)
    log_in(page, demo, _role_logins(demo)[role])
    paths = ["/", *_nav_paths(page)]
    if role == "rm":
        paths.append(f"/me/?period={demo.facts['quarter']}")
    if role in ("manager", "admin"):
        paths.append(f"/cards/{demo.facts['rm_id']}/?period={demo.facts['quarter']}")
    assert len(paths) >= 3, paths
    problems = []
    for path in paths:
        response = page.goto(f"{demo.url}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        width = _overflow(page)
        if width["scroll"] > width["inner"]:
            problems.append(f"{path}: {width}")
        if page.locator("[data-testid=card-total]").count():
            for selector in ("[data-testid=card-total]", "[data-testid=card-rating]",
                             "table[data-testid=lines] tr[data-measure] td[data-field=points]"):  # fmt: skip
                off = _outside_viewport(page, selector)
                if off:
                    problems.append(f"{path}: {selector} outside the viewport: {off}")
            assert page.locator("table[data-testid=lines] tr[data-measure] td[data-field=points]").count() >= 10
        screenshot(page, f"responsive-{role}-{_slug(path)}-{viewport['width']}", language)
    assert problems == []
    assert outside_requests == []


def test_the_top_bar_is_a_menu_on_a_phone_that_the_keyboard_opens_and_closes(
    page, demo: Demo, language, outside_requests
):
    page.set_viewport_size(PHONE)
    log_in(page, demo, "admin")
    page.goto(f"{demo.url}/team/")
    toggle = page.locator("[data-testid=menu-toggle]")
    nav = page.locator("#site-menu")
    assert toggle.is_visible() and not nav.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    header = page.locator("header.topbar").bounding_box()
    assert header is not None and header["height"] < 80  # one line, not four
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert nav.is_visible()
    assert nav.locator("a[href='/team/']").is_visible()
    screenshot(page, "responsive-menu-open-390", language)
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false" and not nav.is_visible()
    assert page.evaluate("document.activeElement.dataset.testid") == "menu-toggle"
    # On a desktop the links are on the bar and the button is not shown.
    page.set_viewport_size(DESKTOP)
    assert nav.is_visible() and not toggle.is_visible()
    assert outside_requests == []


@pytest.fixture(scope="module")
def chart_facts(demo: Demo) -> dict:
    return json.loads(demo.manage("shell", "-c", CHART_FACTS).strip().splitlines()[-1])


def _option(page, node_id: str) -> dict:
    page.wait_for_function(f"window.echarts && echarts.getInstanceByDom(document.getElementById('{node_id}'))")
    return page.evaluate(
        f"""() => {{
              const o = echarts.getInstanceByDom(document.getElementById('{node_id}')).getOption();
              return JSON.parse(JSON.stringify(o));
            }}"""
    )


def test_the_trend_marks_the_vetoed_month_and_the_radar_draws_no_point_for_na(
    page, demo: Demo, language, outside_requests, chart_facts
):
    log_in(page, demo, chart_facts["vetoed_login"])
    page.goto(f"{demo.url}/me/?period={demo.facts['quarter']}")
    banner = page.locator("[data-testid=veto-banner]")
    assert banner.count() == 1
    trend = _option(page, "trend-chart")
    months = trend["xAxis"][0]["data"]
    assert chart_facts["vetoed_month"] in months
    index = months.index(chart_facts["vetoed_month"])
    series = {s["id"]: s for s in trend["series"]}
    # The vetoed month: a point of its own series (so the legend names it), another shape.
    veto = series["vetoed"]
    assert veto["data"][index] is not None and veto["symbol"] == "triangle"
    assert all(value is None for i, value in enumerate(veto["data"]) if i != index)
    assert veto["name"] in trend["legend"][0]["data"]
    assert veto["symbol"] != series["total"].get("symbol", "circle")
    assert veto["itemStyle"]["color"] != series["total"]["itemStyle"]["color"]
    assert veto["label"]["show"] is True
    # The radar: 不适用 / n/a in the label of a dimension that does not apply, and no point.
    shares = page.locator("table.shares tr")
    labels = shares.locator("th").all_text_contents()
    cells = shares.locator("td").all_text_contents()
    radar = _option(page, "radar-chart")
    names = [indicator["name"] for indicator in radar["radar"][0]["indicator"]]
    na = "不适用" if language == "zh" else "n/a"
    values = radar["series"][0]["data"][0]["value"]
    assert len(values) == len(names) == len(labels) == 4
    for label, cell, name, value in zip(labels, cells, names, values, strict=True):
        assert name.startswith(label.strip())
        if na in cell or "n/a" in cell or "不适用" in cell:
            assert na in name and value is None, (name, value)
        else:
            assert na not in name and value is not None and value > 0, (name, value)
    screenshot(page, "responsive-veto-card", language)
    assert outside_requests == []
