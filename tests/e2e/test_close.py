"""The close of a quarter, branch by branch, walked through the pages in Chromium (issue 17
item 1; SPEC §5 per unit): branch A submits while B is open; a manual score in A is refused
with the reason while B's is accepted; the admin reads the checklist and sends A back; A
submits again, B submits; the admin approves both (confirming the open items with a
reason); the period shows approved and HR's pay page drops PROVISIONAL.

Each language walks its own quarter (zh 2026-Q2, en 2026-Q1): the demo server is shared.
"""

from __future__ import annotations

from tests.e2e.conftest import Demo, log_in, screenshot

QUARTER = {"zh": "2026-Q2", "en": "2026-Q1"}


def _log_out(page, demo: Demo) -> None:
    # Signed out as a user signs out, which ends the session on the server: merely clearing
    # the cookies left it alive, and a recompute-status poll of the old page that answered
    # late (every response saves the session) set the old user's cookie again, so the next
    # user's pages were the previous one's.
    with page.expect_navigation(url=f"{demo.url}/login/*"):
        page.locator("[data-testid=log-out]").click()


def _unit_row(page, branch: str):
    return page.locator(f"[data-testid=unit-states] tr[data-unit='{branch}']")


def _enter_manual_score(page, demo: Demo, quarter: str, score: str) -> None:
    page.goto(f"{demo.url}/team/?period={quarter}")
    form = page.locator("[data-testid=manual-score-form]")
    form.locator("select[name=period]").select_option(quarter)
    form.locator("select[name=employee]").select_option(index=1)
    form.locator("select[name=measure]").select_option(index=1)
    form.locator("input[name=score]").fill(score)
    with page.expect_navigation():  # the answer, not the page the form was on
        form.locator("[data-testid=manual-score-save]").click()


def test_a_quarter_closes_branch_by_branch(page, demo: Demo, language, outside_requests):
    quarter, a, b = QUARTER[language], demo.facts["branch"], demo.facts["other_branch"]

    # Branch A's manager submits; she must tick the confirmation first.
    log_in(page, demo, demo.facts["manager"])
    page.goto(f"{demo.url}/team/?period={quarter}")
    assert _unit_row(page, a).get_attribute("data-status") == "open"
    page.locator("[data-testid=submit-confirm]").check()
    page.locator("[data-testid=submit-period]").click()
    page.wait_for_url(f"**/team/?period={quarter}*")
    assert _unit_row(page, a).get_attribute("data-status") == "in_review"
    assert page.locator("[data-testid=submit-period]").count() == 0
    # A manual score in A is refused, and the page says why.
    _enter_manual_score(page, demo, quarter, "71.50")
    error = page.locator("[data-testid=manual-error]")
    assert error.count() == 1 and quarter in error.inner_text()
    screenshot(page, "close-1-refused", language)

    # B is still open: its manager's score is accepted.
    _log_out(page, demo)
    log_in(page, demo, demo.facts["other_manager"])
    page.goto(f"{demo.url}/team/?period={quarter}")
    assert _unit_row(page, b).get_attribute("data-status") == "open"
    _enter_manual_score(page, demo, quarter, "72.50")
    assert page.locator("[data-testid=manual-error]").count() == 0

    # The admin reads the checklist and sends A back with a reason.
    _log_out(page, demo)
    log_in(page, demo, "admin")
    page.goto(f"{demo.url}/schemes/periods/{quarter}/")
    board = page.locator("[data-testid=close-board]")
    assert board.locator(f"tr[data-unit='{a}']").get_attribute("data-status") == "in_review"
    assert board.locator(f"tr[data-unit='{b}']").get_attribute("data-status") == "open"
    screenshot(page, "close-2-board", language)
    page.locator("[data-testid=send-back-unit]").select_option(a)
    page.locator("[data-testid=send-back-reason]").fill("营销积分需复核")
    with page.expect_navigation():
        page.locator("[data-testid=send-back]").click()
    row = page.locator(f"[data-testid=close-board] tr[data-unit='{a}']")
    assert row.get_attribute("data-status") == "open" and "营销积分需复核" in row.inner_text()

    # A submits again, B submits.
    for manager in (demo.facts["manager"], demo.facts["other_manager"]):
        _log_out(page, demo)
        log_in(page, demo, manager)
        page.goto(f"{demo.url}/team/?period={quarter}")
        page.locator("[data-testid=submit-confirm]").check()
        page.locator("[data-testid=submit-period]").click()
        page.wait_for_url(f"**/team/?period={quarter}*")

    # The demo bank has a third branch: the admin submits what is left, from the team page
    # (an admin may submit any branch).
    _log_out(page, demo)
    log_in(page, demo, "admin")
    page.goto(f"{demo.url}/team/?period={quarter}")
    page.locator("[data-testid=submit-confirm]").check()
    page.locator("[data-testid=submit-period]").click()
    page.wait_for_url(f"**/team/?period={quarter}*")

    # The admin approves every branch; with open items, only once confirmed with a reason.
    page.goto(f"{demo.url}/schemes/periods/{quarter}/")
    boxes = page.locator("[data-testid=close-board] input[name=unit]")
    assert boxes.count() >= 2
    for index in range(boxes.count()):
        boxes.nth(index).check()
    page.locator("[data-testid=confirm-open-items]").check()
    page.locator("[data-testid=approve-reason]").fill("分行考核委员会已确认")
    with page.expect_navigation():
        page.locator("[data-testid=approve-selected]").click()
    assert page.locator("[data-testid=period-status]").get_attribute("class").endswith("approved")
    screenshot(page, "close-3-approved", language)

    # HR: the quarter's pay is final now.
    _log_out(page, demo)
    log_in(page, demo, "hr")
    page.goto(f"{demo.url}/hr/pay/?period={quarter}")
    assert page.locator("[data-testid=provisional-banner]").count() == 0
    assert outside_requests == []
