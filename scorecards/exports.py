"""HR's files (SPEC §7): the quarterly pay adjustments and the annual talent lists, as XLSX
and as CSV, in the bank's working language whatever the user's.

Payroll opens them in Excel: numbers are numeric cells (money to the fen, percentages as
percentages), IDs are text (leading zeros), no cell is ever a formula and no text can turn
into one (`wealthscore.cells.neutralise`), and a file from a period that is not approved
says PROVISIONAL in its name and on its first row.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from django.utils import timezone

from wealthscore.cells import neutralise

from .outcomes import Bands
from .pay_selectors import (
    FLAG_CONSECUTIVE_FAILURE,
    FLAG_NO_BASE_PAY,
    FLAG_NO_TOTAL,
    PayRow,
    Report,
)

FORMATS = {"xlsx", "csv"}
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
STATUS_LABELS = {
    "open": "进行中",
    "in_review": "审核中",
    "approved": "已审批",
    "unscored": "未计分",
}
FLAG_LABELS = {
    FLAG_CONSECUTIVE_FAILURE: "连续两个季度不合格：调岗或待岗培训",
    FLAG_NO_BASE_PAY: "缺绩效工资基数",
    FLAG_NO_TOTAL: "无季度总分",
}
LIST_LABELS = {"promotion": "优先晋升", "improvement": "能力提升计划", "": ""}


@dataclass(frozen=True)
class Column:
    header: str
    kind: str  # text | money | score | pct | int
    value: Callable[[Any], Any]
    width: int = 12


def _band_label(row: PayRow, bands: Bands) -> str:
    return {
        "top": f"≥ {bands.top_from:.0f}",
        "pass": f"{bands.pass_from:.0f}–{bands.top_from:.0f}",
        "fail": f"< {bands.pass_from:.0f}",
        "vetoed": "一票否决",
        "no_total": "无总分",
    }[row.band]


# The RM and her veto, in the same words and widths in both files.
WHO = [
    Column("员工号", "text", lambda r: r.employee_id, 10),
    Column("姓名", "text", lambda r: r.name, 10),
    Column("机构号", "text", lambda r: r.unit_code, 10),
    Column("机构名称", "text", lambda r: r.unit_name, 16),
]
RATING_AND_VETO = [
    Column("评级", "text", lambda r: r.rating, 6),
    Column("一票否决", "text", lambda r: "是" if r.vetoed else "否", 9),
    Column("否决原因", "text", lambda r: "；".join(r.veto_reasons), 24),
]


def pay_columns(bands: Bands) -> list[Column]:
    return [
        *WHO,
        Column("考核期", "text", lambda r: r.period, 9),
        Column("季度总分", "score", lambda r: r.total, 10),
        *RATING_AND_VETO,
        Column("薪酬档位", "text", lambda r: _band_label(r, bands), 10),
        Column("调整比例", "pct", lambda r: r.adjustment_pct, 10),
        Column("绩效工资基数", "money", lambda r: r.base_pay, 14),
        Column("调整后绩效工资", "money", lambda r: r.adjusted_pay, 15),
        Column("上季度总分", "score", lambda r: r.previous_total, 11),
        Column("标记", "text", lambda r: "；".join(FLAG_LABELS[f] for f in r.flags), 30),
    ]


TALENT_COLUMNS = [
    Column("名次", "int", lambda r: r.rank, 6),
    *WHO,
    Column("年度总分", "score", lambda r: r.total, 10),
    *RATING_AND_VETO,
    Column("名单", "text", lambda r: LIST_LABELS[r.list], 14),
]


def file_name(stem: str, report: Report, fmt: str) -> str:
    """pay_2026-Q3.xlsx, or pay_2026-Q3_PROVISIONAL.xlsx for a period not yet approved."""
    unit = f"_{report.unit.code}" if report.unit is not None else ""
    provisional = "_PROVISIONAL" if report.provisional else ""
    return f"{stem}_{report.period}{unit}{provisional}.{fmt}"


def title_lines(subject: str, report: Report) -> list[str]:
    status = STATUS_LABELS.get(report.status, report.status)
    first = f"{subject} {report.period} · 状态：{status}"
    if report.provisional:
        first = f"PROVISIONAL 暂定（考核期未审批）— {first}"
    scope = f"{report.unit.code} {report.unit.name}" if report.unit is not None else "全行"
    generated = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    return [first, f"范围：{scope} · {len(report.rows)} 人 · 生成于 {generated}"]


def _plain(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "text":
        return neutralise(str(value))
    return str(value)


def write_csv(path: Path, title: list[str], columns: list[Column], rows: Iterable) -> None:
    """UTF-8 with a BOM, so Excel shows the Chinese; numbers as plain decimals."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        for line in title:
            writer.writerow([neutralise(line)])
        writer.writerow([f"{c.header}(%)" if c.kind == "pct" else c.header for c in columns])
        for row in rows:
            writer.writerow([_plain(c.value(row), c.kind) for c in columns])


NUMBER_FORMATS = {"money": "#,##0.00", "score": "0.00", "pct": "0.00%", "int": "0"}


def write_xlsx(
    path: Path, sheet: str, title: list[str], columns: list[Column], rows: Iterable
) -> None:
    """One sheet: the title lines, the header (frozen, with filters), then a row a record."""
    workbook = xlsxwriter.Workbook(
        str(path),
        # Rows are written once, in order, and flushed: memory stays flat at any size; and
        # no string is ever taken for a formula, a number or a link.
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
         "strings_to_urls": False},
    )  # fmt: skip
    worksheet = workbook.add_worksheet(sheet)
    bold = workbook.add_format({"bold": True})
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    formats = {kind: workbook.add_format({"num_format": f}) for kind, f in NUMBER_FORMATS.items()}
    for index, column in enumerate(columns):
        worksheet.set_column(index, index, column.width)
    for line_number, line in enumerate(title):
        worksheet.write_string(line_number, 0, neutralise(line), bold)
    header_row = len(title)
    for index, column in enumerate(columns):
        worksheet.write_string(header_row, index, column.header, header)
    last_row = header_row
    for record in rows:
        last_row += 1
        for index, column in enumerate(columns):
            value = column.value(record)
            if value is None or value == "":
                continue
            if column.kind == "text":
                worksheet.write_string(last_row, index, neutralise(str(value)))
            elif column.kind == "pct":
                worksheet.write_number(last_row, index, float(value / 100), formats["pct"])
            else:
                worksheet.write_number(last_row, index, float(value), formats[column.kind])
    worksheet.freeze_panes(header_row + 1, 0)
    worksheet.autofilter(header_row, 0, last_row, len(columns) - 1)
    workbook.close()


def write_report(
    path: Path, fmt: str, subject: str, sheet: str, columns: list[Column], report: Report
) -> None:
    title = title_lines(subject, report)
    if fmt == "xlsx":
        write_xlsx(path, sheet, title, columns, report.rows)
    else:
        write_csv(path, title, columns, report.rows)
