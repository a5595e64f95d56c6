"""The manual-score grid in Chromium (issue 17 item 3): a block pasted from Excel fills the
cells from the focused one on, the changed cells are highlighted and counted (with how many
overwrite an entered score), and one save stores them all."""

from __future__ import annotations

from tests.e2e.conftest import Demo, log_in, screenshot

BLOCK = {"zh": ("71.5", "72", "73", "74.25"), "en": ("61.5", "62", "63", "64.25")}

PASTE = """([text]) => {
  const start = document.querySelector("#manual-grid tbody tr input[data-original]");
  const data = new DataTransfer();
  data.setData("text", text);
  start.focus();
  start.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true,
                                                   cancelable: true}));
}"""


def test_a_block_pasted_from_excel_fills_the_grid_and_is_saved(
    page, demo: Demo, language, outside_requests
):
    a, b, c, d = BLOCK[language]
    log_in(page, demo, demo.facts["manager"])
    page.goto(f"{demo.url}/team/manual-scores/?period=2026-Q4")
    rows = page.locator("[data-testid=manual-grid] tbody tr")
    assert rows.count() >= 2
    page.evaluate(PASTE, [f"{a}\t{b}\r\n{c}\t{d}\r\n"])
    first = rows.nth(0).locator("input[data-original]")
    second = rows.nth(1).locator("input[data-original]")
    assert [first.nth(0).input_value(), first.nth(1).input_value()] == [a, b]
    assert [second.nth(0).input_value(), second.nth(1).input_value()] == [c, d]
    assert page.locator("#manual-grid input.changed").count() == 4
    assert "4" in page.locator("[data-testid=grid-status]").inner_text()
    screenshot(page, "grid-pasted", language)
    page.locator("[data-testid=grid-save]").click()
    page.wait_for_url("**/team/manual-scores/?period=2026-Q4*")
    first = (
        page.locator("[data-testid=manual-grid] tbody tr").nth(0).locator("input[data-original]")
    )
    assert first.nth(0).input_value() == f"{float(a):.2f}"
    assert page.locator("#manual-grid input.changed").count() == 0
    assert outside_requests == []
