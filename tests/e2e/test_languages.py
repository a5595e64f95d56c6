"""Every role's top-bar pages in headless Chromium on the live demo server, in Chinese and in
English: the page as the browser shows it (scripts run, charts drawn, fragments loaded) is
whole in its language, by the rule of tests/languages.py (issue 18.6). The test client's
walk (tests/wealthscore/test_languages.py) covers every page of each role; this one checks
that what the scripts add speaks the language too."""

from __future__ import annotations

import json

import pytest

from tests.languages import cjk_in_english_page, english_in_chinese_page

from .conftest import Demo, log_in, screenshot

pytestmark = pytest.mark.browser

DATA_SCRIPT = """
import json
from tests.languages import data_values
print(json.dumps(data_values(), ensure_ascii=False))
"""


def test_every_roles_pages_in_the_browser_speak_the_pages_language(
    page, demo: Demo, language, outside_requests
):
    data = json.loads(demo.manage("shell", "-c", DATA_SCRIPT).strip().splitlines()[-1])
    problems: list[str] = []
    pages = 0
    for login in [demo.facts["rm"], demo.facts["manager"], "hr", "compliance", "admin"]:
        page.context.clear_cookies()
        log_in(page, demo, login)
        links = page.eval_on_selector_all(
            "nav.pages a", "links => links.map(a => a.getAttribute('href'))"
        )
        for link in ["/", *[href for href in links if href and not href.startswith("/admin/")]]:
            page.goto(f"{demo.url}{link}")
            page.wait_for_load_state("networkidle")
            html = page.content()
            pages += 1
            found = (
                cjk_in_english_page(html, data)
                if language == "en"
                else english_in_chinese_page(html)
            )
            problems += [f"{login} {link} {p}" for p in found]
    screenshot(page, "languages-admin-last-page", language)
    assert pages >= 15
    assert not problems, "\n".join(problems[:60]) + f"\n({len(problems)} in all)"
    assert outside_requests == []
