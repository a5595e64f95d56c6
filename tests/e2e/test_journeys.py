"""The five journeys of the web app (issue: the web app people use), in headless Chromium on
the demo data, each in Chinese and in English, each ending with a screenshot."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from .conftest import Demo, log_in, screenshot

pytestmark = pytest.mark.browser


def test_an_rm_sees_her_quarter_card_opens_a_lines_facts_and_no_one_elses_card(
    page, demo: Demo, language, outside_requests
):
    log_in(page, demo, demo.facts["rm"])
    page.goto(f"{demo.url}/me/")
    page.select_option("#period-picker", demo.facts["quarter"])
    page.click("#period-go")
    page.wait_for_url(re.compile(r"period=2026-Q3"))
    assert page.text_content("[data-testid=card-period]").strip() == demo.facts["quarter"]
    assert re.fullmatch(r"\d+\.\d\d", page.text_content("[data-testid=card-total]").strip())
    lines = page.locator("table[data-testid=lines] tr[data-measure]")
    assert lines.count() >= 10
    page.click("button[data-why=sales_attainment]")
    page.wait_for_selector("#facts [data-testid=facts-table], #facts [data-testid=facts-empty]")
    assert page.locator("#facts [data-testid=facts-table] tbody tr").count() > 0
    # Client names are masked in the drill-down (张*三 / 张*).
    assert "*" in page.text_content("#facts [data-testid=facts-table]")
    assert page.locator("#trend-chart canvas, #trend-chart svg").count() > 0
    assert page.locator("#radar-chart canvas, #radar-chart svg").count() > 0
    screenshot(page, "1-rm-card", language)
    response = page.goto(f"{demo.url}/cards/{demo.facts['other_rm_id']}/")
    assert response.status == 404
    assert outside_requests == []


def test_a_manager_sees_his_team_by_total_opens_an_rm_and_not_another_branchs(
    page, demo: Demo, language, outside_requests
):
    log_in(page, demo, demo.facts["manager"])
    page.goto(f"{demo.url}/team/")
    rows = page.locator("table[data-testid=team-table] tbody tr[data-employee-id]")
    assert rows.count() >= 3
    totals = [
        Decimal(text.strip())
        for text in page.locator(
            "table[data-testid=team-table] tbody tr[data-employee-id] td[data-field=total]"
        ).all_text_contents()
        if re.fullmatch(r"\s*\d+\.\d\d\s*", text)
    ]
    # The latest month by default: the demo's one veto (2026-08) is not in it.
    assert len(totals) >= 3 and totals == sorted(totals, reverse=True)
    page.wait_for_selector("#distribution-chart canvas, #distribution-chart svg")
    screenshot(page, "2-team", language)
    first = rows.first.get_attribute("data-employee-id")
    rows.first.locator("a[data-testid=open-card]").click()
    page.wait_for_url(re.compile(rf"/cards/{first}/"))
    assert page.locator("[data-testid=card-total]").count() == 1
    response = page.goto(f"{demo.url}/cards/{demo.facts['other_rm_id']}/")
    assert response.status == 404
    assert outside_requests == []


def test_hr_downloads_the_pay_xlsx_of_an_approved_quarter_and_it_matches_the_page(
    page, demo: Demo, language, outside_requests, tmp_path
):
    log_in(page, demo, "hr")
    page.goto(f"{demo.url}/hr/pay/?period={demo.facts['quarter']}")
    assert page.locator("[data-testid=provisional-banner]").count() == 0  # approved
    shown = {
        row.get_attribute("data-employee-id"): (
            row.locator("td[data-field=total]").get_attribute("data-value"),
            row.locator("td[data-field=adjustment_pct]").get_attribute("data-value"),
            row.locator("td[data-field=adjusted_pay]").get_attribute("data-value"),
        )
        for row in page.locator("table[data-testid=pay-table] tbody tr[data-employee-id]").all()
    }
    assert len(shown) >= 20
    screenshot(page, "3-hr-pay", language)
    with page.expect_download() as download_info:
        page.click("a[data-testid=export-xlsx]")
    download = download_info.value
    assert download.suggested_filename == f"pay_{demo.facts['quarter']}.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    sheet = load_workbook(saved).active
    header = [cell.value for cell in sheet[3]]
    column = {
        name: header.index(name) for name in ("员工号", "季度总分", "调整比例", "调整后绩效工资")
    }
    in_file = {}
    for row in sheet.iter_rows(min_row=4, values_only=True):
        pct = row[column["调整比例"]]
        in_file[row[column["员工号"]]] = tuple(
            "" if value is None else f"{Decimal(str(value)):.2f}"
            for value in (row[column["季度总分"]], None if pct is None else pct * 100,
                          row[column["调整后绩效工资"]])
        )  # fmt: skip
    assert in_file == {key: tuple(v or "" for v in values) for key, values in shown.items()}
    assert outside_requests == []


def test_an_admin_is_refused_99_then_previews_and_publishes_100(
    page, demo: Demo, language, outside_requests
):
    log_in(page, demo, "admin")
    page.goto(f"{demo.url}/schemes/")
    before = page.locator("table[data-testid=version-history] tr[data-version]").count()
    page.click("button[data-testid=new-draft]")
    page.wait_for_selector("form[data-testid=weights-form]")
    weights = page.locator("form[data-testid=weights-form] input[name^=kpi-][name$=-weight]")
    first = weights.first
    original = Decimal(first.input_value())
    first.fill(str(original - 1))
    page.wait_for_function(
        "document.querySelector('[data-testid=weights-total]').textContent.includes('99.00')"
    )
    page.click("button[name=action][value=publish]")
    page.wait_for_selector("[data-testid=form-error]")
    assert "99.00" in page.text_content("[data-testid=form-error]")
    screenshot(page, "4a-weights-refused", language)
    first = page.locator("form[data-testid=weights-form] input[name^=kpi-][name$=-weight]").first
    assert Decimal(first.input_value()) == original - 1  # what was typed is kept
    first.fill(str(original))
    page.click("button[name=action][value=save]")
    page.wait_for_selector("form[data-testid=preview-form]")
    page.select_option("form[data-testid=preview-form] select[name=period]", "2026-10")
    page.click("button[data-testid=preview-go]")
    page.wait_for_selector("table[data-testid=preview-table]")
    assert page.locator("table[data-testid=preview-table] tbody tr").count() > 0
    screenshot(page, "4b-preview", language)
    page.click("button[name=action][value=publish]")
    page.wait_for_url(f"{demo.url}/schemes/")
    after = page.locator("table[data-testid=version-history] tr[data-version]").count()
    assert after == before + 1
    screenshot(page, "4c-published", language)
    assert outside_requests == []


def test_an_upload_of_a_bad_file_shows_its_row_errors_and_changes_nothing(
    page, demo: Demo, language, outside_requests, tmp_path
):
    sales_before = demo.count("crm.Sale")
    bad = tmp_path / "sales_bad.csv"
    bad.write_text(
        "交易流水号,交易日期,客户号,经办人工号,产品代码,金额,渠道\n"
        "TBAD0001,2026-10-05,0000000001,001001,NO_SUCH_PRODUCT,1000.00,柜面\n"
        "TBAD0002,2026-13-40,0000000001,001001,P001,-5,柜面\n",
        encoding="utf-8",
    )
    log_in(page, demo, "admin")
    page.goto(f"{demo.url}/imports/")
    page.select_option("form[data-testid=upload-form] select[name=kind]", "sales")
    page.set_input_files("form[data-testid=upload-form] input[name=file]", str(bad))
    page.click("form[data-testid=upload-form] button[type=submit]")
    page.wait_for_selector("[data-testid=batch-status][data-status=rejected]", timeout=30_000)
    errors = page.locator("table[data-testid=row-errors] tbody tr")
    assert errors.count() >= 3
    assert "2026-13-40" in page.text_content("table[data-testid=row-errors]")
    screenshot(page, "5-bad-upload", language)
    assert demo.count("crm.Sale") == sales_before
    assert outside_requests == []


def test_sorting_the_team_by_total_puts_a_vetoed_rm_where_her_rank_is(
    page, demo: Demo, language, outside_requests
):
    """Issue 18 item 4: the demo's veto (2026-08) ranks its RM after every other; sorting by
    total, best first, must show the same order as the ranks, not her points."""
    log_in(page, demo, "admin")
    page.goto(f"{demo.url}/team/?period=2026-08")
    table = page.locator("table[data-testid=team-table]")
    assert table.locator("tbody tr.vetoed").count() >= 1
    page.locator("th[data-sort=total] button").click()
    assert table.locator("th[data-sort=total]").get_attribute("aria-sort") == "descending"
    ranks = [
        int(text) for text in table.locator("tbody tr td[data-field=rank]").all_text_contents()
        if text.strip().isdigit()
    ]  # fmt: skip
    # Best total first is best rank first, the vetoed RM included.
    assert len(ranks) >= 3 and ranks == sorted(ranks)
    assert outside_requests == []


def test_an_rm_sends_an_inquiry_with_a_file_and_her_manager_downloads_it(
    page, demo: Demo, language, outside_requests, tmp_path
):
    """SPEC §8 on the live server (each request its own transaction, as in production): the
    RM raises an inquiry on a line of her card with a PDF; her branch manager opens it from
    the inquiries page and downloads it (audited)."""
    pdf = tmp_path / ("会议纪要.pdf" if language == "zh" else "minutes.pdf")
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    log_in(page, demo, demo.facts["rm"])
    page.goto(f"{demo.url}/me/")
    form = page.locator("[data-testid=inquiry-form]")
    # A line of its own per language: a line takes one open inquiry at a time.
    form.locator("select[name=measure]").select_option(index={"zh": 0, "en": 1}[language])
    form.locator("input[name=text]").fill("委员会评分与会议纪要不符")
    form.locator("[data-testid=inquiry-attachment]").set_input_files(str(pdf))
    with page.expect_navigation():
        form.locator("[data-testid=inquiry-send]").click()
    assert page.locator(f"[data-testid=inquiry-attachment-link]:has-text('{pdf.name}')").count()
    with page.expect_navigation(url=f"{demo.url}/login/*"):
        page.locator("[data-testid=log-out]").click()
    log_in(page, demo, demo.facts["manager"])
    page.goto(f"{demo.url}/inquiries/")
    link = page.locator(f"[data-testid=inquiry-attachment-link]:has-text('{pdf.name}')")
    with page.expect_download() as download:
        link.first.click()
    assert download.value.suggested_filename == pdf.name
    assert Path(download.value.path()).read_bytes() == pdf.read_bytes()
    assert outside_requests == []
