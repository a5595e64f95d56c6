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

# The vetoed RM of the demo (her August, Q3 and year), read from the server's database.
CHART_FACTS = """
import json
from compliance.models import Incident
vetoed = Incident.objects.filter(veto=True).select_related("employee__user").order_by("id").first()
print(json.dumps({"vetoed_login": vetoed.employee.user.username,
                  "vetoed_month": f"{vetoed.occurred_on:%Y-%m}"}))
"""
# Every 2026-Q4 card of the demo has no teamwork line that applies yet (no manual scores).
NA_QUARTER = "2026-Q4"
LINE_POINTS = "table[data-testid=lines] tr[data-measure] td[data-field=points]"


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
    hrefs = page.eval_on_selector_all(
        "header nav a[href]", "els => els.map(a => a.getAttribute('href'))"
    )
    return [h for h in dict.fromkeys(hrefs) if h.startswith("/") and h not in SKIP]


def _links(page, pattern: str) -> list[str]:
    """The first link of the page's main part whose address is `pattern` (whole)."""
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(a => a.getAttribute('href'))")
    return [h for h in hrefs if re.fullmatch(pattern, h)][:1]


def _overflow(page) -> dict:
    return page.evaluate(
        """() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
                   wide: [...document.querySelectorAll('body *')]
                     .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
                     .slice(0, 5).map(el => el.tagName + '.' + el.className + '#' + el.id)})"""
    )


def _outside_viewport(page, selector: str) -> list[str]:
    """The elements matching `selector` whose box is not inside the viewport's width (or
    that are not shown at all): the measure of a line, else the start of the element."""
    return page.eval_on_selector_all(
        selector,
        """els => els.filter(el => {
               const r = el.getBoundingClientRect();
               return r.width === 0 || r.left < 0 || r.right > window.innerWidth;
           }).map(el => (el.closest('tr[data-measure]') || {dataset: {}}).dataset.measure
                        || el.outerHTML.slice(0, 80))""",
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
        paths.append(f"/team/manual-scores/?period={demo.facts['quarter']}")
    if role == "admin":
        paths.append(f"/schemes/periods/{demo.facts['quarter']}/")
    assert len(paths) >= 3, paths
    problems, cards = [], 0
    for path in paths:
        response = page.goto(f"{demo.url}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        # The pages one step down that a list links to: a scheme version, an import batch.
        for href in _links(page, r"/(schemes|imports)/\d+/"):
            if href not in paths:
                paths.append(href)
        width = _overflow(page)
        if width["scroll"] > width["inner"]:
            problems.append(f"{path}: {width}")
        if page.locator("[data-testid=card-total]").count():
            cards += 1
            assert page.locator(LINE_POINTS).count() >= 10, path
            for selector in ("[data-testid=card-total]", "[data-testid=card-rating]", LINE_POINTS):
                off = _outside_viewport(page, selector)
                if off:
                    problems.append(f"{path}: {selector} outside the viewport: {off}")
        screenshot(page, f"responsive-{role}-{_slug(path)}-{viewport['width']}", language)
    assert problems == []
    # The card pages were among them (an RM's own, a manager's or an admin's look at one).
    assert cards >= (1 if role in ("rm", "manager", "admin") else 0)
    assert outside_requests == []


def test_the_top_bar_is_a_menu_on_a_phone_that_the_keyboard_opens_and_closes(
    page, demo: Demo, language, outside_requests
):
    page.set_viewport_size(PHONE)
    # Signed out there is no menu: the language switch sits beside the brand, on one line.
    page.goto(f"{demo.url}/login/")
    width = _overflow(page)
    assert width["scroll"] <= width["inner"], width
    assert page.locator("[data-testid=menu-toggle]").count() == 0
    assert page.locator("select[name=language]").is_visible()
    assert page.locator("header.topbar").bounding_box()["height"] < 80
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
    """The option an ECharts chart was drawn with, as JSON."""
    instance = f"echarts.getInstanceByDom(document.getElementById('{node_id}'))"
    page.wait_for_function(f"window.echarts && {instance}")
    return page.evaluate(f"() => JSON.parse(JSON.stringify({instance}.getOption()))")


def test_the_trend_marks_the_vetoed_month_with_a_labelled_triangle(
    page, demo: Demo, language, outside_requests, chart_facts
):
    log_in(page, demo, chart_facts["vetoed_login"])
    page.goto(f"{demo.url}/me/?period={demo.facts['quarter']}")
    assert page.locator("[data-testid=veto-banner] [data-testid=veto-case]").count() == 1
    trend = _option(page, "trend-chart")
    months = trend["xAxis"][0]["data"]
    index = months.index(chart_facts["vetoed_month"])
    series = {s["id"]: s for s in trend["series"]}
    total, veto = series["total"], series["vetoed"]
    # The vetoed month is a point of a series of its own, named in the legend, drawn as
    # another shape in another colour, with a label: it reads without colour too.
    assert veto["data"][index] == total["data"][index] is not None
    assert [i for i, value in enumerate(veto["data"]) if value is not None] == [index]
    assert veto["name"] == ("一票否决" if language == "zh" else "Vetoed")
    assert veto["name"] in trend["legend"][0]["data"] and trend["legend"][0]["show"]
    assert (veto["symbol"], total["symbol"]) == ("triangle", "circle")
    assert veto["itemStyle"]["color"] != total["itemStyle"]["color"]
    assert veto["label"]["show"] is True
    screenshot(page, "responsive-veto-trend", language)
    assert outside_requests == []


def test_the_radar_has_no_point_for_a_dimension_that_does_not_apply(
    page, demo: Demo, language, outside_requests
):
    # An RM of the other branch, seen by the admin: the grid journey (test_grid) enters the
    # Q4 committee scores of the first branch's team, after which none of its dimensions is n/a.
    log_in(page, demo, "admin")
    page.goto(f"{demo.url}/cards/{demo.facts['other_rm_id']}/?period={NA_QUARTER}")
    radar = _option(page, "radar-chart")
    names = [indicator["name"] for indicator in radar["radar"][0]["indicator"]]
    values = radar["series"][0]["data"][0]["value"]
    na = "不适用" if language == "zh" else "n/a"
    # The table beside the radar says which dimension does not apply.
    rows = page.locator("table.shares tr")
    shown = [(row.locator("th").inner_text(), row.locator("td").inner_text()) for row in rows.all()]
    assert len(shown) == len(names) == len(values) == 4
    not_applicable = [i for i, (_label, cell) in enumerate(shown) if cell.strip() == na]
    assert not_applicable, shown  # the demo's Q4 has one (teamwork: no committee score yet)
    for i, (label, _cell) in enumerate(shown):
        assert names[i].startswith(label.strip())
        if i in not_applicable:
            assert values[i] is None and names[i].endswith(f"({na})"), (names[i], values[i])
        else:
            assert values[i] is not None and na not in names[i], (names[i], values[i])
    screenshot(page, "responsive-radar-na", language)
    assert outside_requests == []
