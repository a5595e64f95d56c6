"""HR's files (SPEC §7): the quarterly pay adjustments and the annual talent lists, as XLSX
and as CSV, in the bank's working language whatever the user's.

Two files for two readers. The XLSX is for people: payroll opens it in Excel, numbers are
numeric cells (money to the fen, percentages as percentages), IDs are text (leading zeros),
and a period that is not approved says PROVISIONAL on its first row. The CSV is for systems:
the header on row 1 with stable English field names (CONTRACT.md's pay-adjustment fields),
one row per RM, a `status` column (`final` or `provisional`) instead of title lines, codes
instead of labels, UTF-8 without a BOM or GB18030 on request. In both, no cell is ever a
formula and no text can turn into one (`wealthscore.kernel.cells.neutralise`). The provisional state
is in the file's content, so that the caller (the `--out` of a command) chooses its name.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from django.utils import timezone

from scorecards.pay.outcomes import Bands
from scorecards.pay.selectors import (
    FLAG_CONSECUTIVE_FAILURE,
    FLAG_NO_BASE_PAY,
    FLAG_NO_TOTAL,
    PayRow,
    Report,
)
from wealthscore.kernel.cells import neutralise

FORMATS = {"xlsx", "csv"}
# A machine CSV's encodings: UTF-8 (no BOM: a loader would read it into the first field
# name) or GB18030, which many of a bank's older systems expect.
CSV_ENCODINGS = {"utf-8": "utf-8", "gb18030": "gb18030"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def content_type(fmt: str, encoding: str = "utf-8") -> str:
    return XLSX_TYPE if fmt == "xlsx" else f"text/csv; charset={encoding}"


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
    """One column of both files. `code` is the record's attribute and the machine CSV's field
    name, so a system reads the value itself; a person reads `label` of it where one is given
    (a band's bounds, 是/否, the flags in words)."""

    code: str
    header: str  # the XLSX's, in the bank's working language
    kind: str  # text | money | score | pct | int
    width: int = 12
    label: Callable[[Any], Any] | None = None

    def value(self, record: Any) -> Any:
        return getattr(record, self.code)

    def shown(self, record: Any) -> Any:
        return self.label(record) if self.label else self.value(record)


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
    Column("employee_id", "员工号", "text", 10),
    Column("name", "姓名", "text", 10),
    Column("unit_code", "机构号", "text", 10),
    Column("unit_name", "机构名称", "text", 16),
]
RATING_AND_VETO = [
    Column("rating", "评级", "text", 6),
    Column("vetoed", "一票否决", "text", 9, label=lambda r: "是" if r.vetoed else "否"),
    Column("veto_reasons", "否决原因", "text", 24, label=lambda r: "；".join(r.veto_reasons)),
]


def pay_columns(bands: Bands) -> list[Column]:
    return [
        *WHO,
        Column("period", "考核期", "text", 9),
        Column("total", "季度总分", "score", 10),
        *RATING_AND_VETO,
        Column("band", "薪酬档位", "text", 10, label=lambda r: _band_label(r, bands)),
        Column("adjustment_pct", "调整比例", "pct", 10),
        Column("base_pay", "绩效工资基数", "money", 14),
        Column("adjusted_pay", "调整后绩效工资", "money", 15),
        Column("previous_total", "上季度总分", "score", 11),
        Column(
            "flags", "标记", "text", 30, label=lambda r: "；".join(FLAG_LABELS[f] for f in r.flags)
        ),
    ]


TALENT_COLUMNS = [
    Column("rank", "名次", "int", 6),
    *WHO,
    Column("total", "年度总分", "score", 10),
    *RATING_AND_VETO,
    Column("list", "名单", "text", 14, label=lambda r: LIST_LABELS[r.list]),
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


def _machine(value: Any, kind: str) -> str:
    """A value as a system reads it: plain decimals (a percentage as its number: -30.00),
    true/false, lists joined by ";", text that can never become a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return neutralise(";".join(str(item) for item in value))
    if kind == "text":
        return neutralise(str(value))
    return str(value)


def write_csv(path: Path, report: Report, columns: list[Column], encoding: str) -> None:
    """The machine file: the header on row 1, one row per RM, the status on every row."""
    with open(path, "w", encoding=CSV_ENCODINGS[encoding], newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([column.code for column in columns] + ["period_status", "status"])
        status = "provisional" if report.provisional else "final"
        for row in report.rows:
            writer.writerow(
                [_machine(c.value(row), c.kind) for c in columns] + [report.status, status]
            )


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
            value = column.shown(record)
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
    path: Path, fmt: str, subject: str, sheet: str, columns: list[Column], report: Report,
    encoding: str = "utf-8",
) -> None:  # fmt: skip
    if fmt == "xlsx":
        write_xlsx(path, sheet, title_lines(subject, report), columns, report.rows)
    else:
        write_csv(path, report, columns, encoding)
