"""The import pipeline's stored messages: row errors, their fixes and the batches' outcomes.

A batch stores each as a code with parameters (`wealthscore.kernel.messages.msg`); the
batch page, the API, the error report and `import_crm` render them in the reader's language.
Codes are stable: add, never rename.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from wealthscore.kernel import identifiers as _identifiers  # noqa: F401  (an import stores its codes)
from wealthscore.kernel import messages

MESSAGES: dict[str, str] = {
    "number_cell_id": gettext_noop(
        "the cell is a number, not text, so the ID's leading zeros may be lost"
    ),
    "unknown_parent_unit": gettext_noop("unknown parent unit"),
    "own_parent": gettext_noop("a unit cannot be its own parent"),
    "parent_loop": gettext_noop("the parent chain loops back on itself"),
    "scope_both": gettext_noop("both a unit code and an employee ID"),
    "scope_unknown": gettext_noop("neither a known unit code nor a known employee ID"),
    "unknown_measure_code": gettext_noop("unknown measure code"),
    "unknown_distribution_profile": gettext_noop("unknown distribution profile"),
    "resolved_before_received": gettext_noop("resolved before it was received"),
    "required_empty": gettext_noop("required value is empty"),
    "too_long": gettext_noop("longer than %(n)s characters"),
    "not_a_date": gettext_noop(
        "not a date (use 2026-10-31, 2026/10/31, 20261031 or 2026年10月31日)"
    ),
    "has_time_of_day": gettext_noop("has a time of day; a date column takes a day only"),
    "fix_date_only": gettext_noop("Export the column as a date (2026-10-31), without the time."),
    "date_future": gettext_noop("date is in the future"),
    "not_number": gettext_noop("not a number"),
    "too_precise": gettext_noop("more than 2 decimal places"),
    "not_whole_number": gettext_noop("not a whole number"),
    "not_a_period": gettext_noop("not a period (2026-Q3 or 2026)"),
    "unknown_employee_id": gettext_noop("unknown employee ID"),
    "unknown_unit_code": gettext_noop("unknown unit code"),
    "unknown_product_code": gettext_noop("unknown product code"),
    "client_several_rms": gettext_noop("client has rows under several RMs"),
    "client_several_units": gettext_noop("client has rows under several units"),
    "not_manual_measure": gettext_noop("not a manually scored measure (%(codes)s)"),
    "score_out_of_range": gettext_noop("must be between 0 and 100"),
    "negative_amount": gettext_noop("negative amount"),
    "not_one_of": gettext_noop("not one of: %(values)s"),
    "duplicate_key": gettext_noop("duplicate %(key)s within the file"),
    "several_head_offices": gettext_noop(
        "More than one head office (units without a parent): %(codes)s"
    ),
    "holdings_several_dates": gettext_noop(
        "A holdings file is one month-end snapshot, but it holds %(n)s as-of dates: %(d)s"
    ),
    "not_month_end": gettext_noop("The as-of date %(d)s is not a month-end."),
    "out_of_range": gettext_noop("must be between %(lo)s and %(hi)s"),
    "mixed_encodings_from_row": gettext_noop(
        "Mixed encodings: the file reads as UTF-8 until row %(row)s, which is not UTF-8. Export"
        " the whole file in one encoding."
    ),
    "old_xls": gettext_noop("This is an old .xls workbook; save it as .xlsx or CSV."),
    "file_empty": gettext_noop("The file is empty."),
    "utf16_file": gettext_noop(
        "The file is UTF-16 (Unicode) text; save it as CSV UTF-8 or GB18030 and import again."
    ),
    "binary_file": gettext_noop("The file is not text (binary content); is it the right file?"),
    "mac_line_endings": gettext_noop(
        "The file's lines end with a carriage return only (old Mac line endings). Save it as "
        "CSV with Windows (CRLF) or Unix (LF) line endings and import again."
    ),
    "no_data_rows": gettext_noop("The file has a header row but no data rows."),
    "value_too_long": gettext_noop(
        "Row %(row)s, column %(column)s: a value longer than %(limit)s MB. No column takes "
        "values that long; is a quote left open?"
    ),
    "csv_parse_error": gettext_noop("The CSV cannot be parsed: %(error)s"),
    "missing_columns": gettext_noop("Missing required column(s) for %(kind)s: %(names)s."),
    "file_cut_short_at": gettext_noop(
        "The file ends in the middle of a character in row %(row)s: it was cut short."
    ),
    "mixed_encodings_rows": gettext_noop(
        "Mixed encodings: row %(a)s is UTF-8 but row %(b)s is not. Export the whole file in one"
        " encoding."
    ),
    "invalid_xlsx": gettext_noop("The file is not a valid .xlsx workbook."),
    "no_worksheet": gettext_noop("The workbook has no worksheet."),
    "sheet_too_wide": gettext_noop(
        "The sheet refers to cell %(cell)s, in column %(n)s; a sheet may have at most %(limit)s"
        " columns. Delete the far cells (or save only the table) and import again."
    ),
    "sheet_too_large": gettext_noop(
        "The sheet refers to cell %(cell)s: %(rows)s rows × %(cols)s columns, more than the "
        "%(limit)s cells a sheet may span. Delete the far cells and import again."
    ),
    "workbook_formulas": gettext_noop(
        "The workbook contains formulas. Paste the values only (Paste Special → Values) and "
        "import again."
    ),
    "no_header_row": gettext_noop("No header row found in the first %(n)s rows."),
    "duplicate_column": gettext_noop("Columns %(a)s and %(b)s both mean %(name)s."),
    "required_column_missing": gettext_noop("required column missing"),
    "file_cut_short": gettext_noop("file cut short"),
    "undecodable_file": gettext_noop(
        "The file is neither UTF-8 nor GB18030/GBK text (undecodable bytes in row %(row)s)."
    ),
    "unreadable_header": gettext_noop(
        "The header row (row %(row)s) cannot be read as CSV: %(error)s"
    ),
    "wrong_field_count": gettext_noop("row has %(got)s fields, the header has %(want)s"),
    "workbook_too_big": gettext_noop(
        "The workbook declares %(size)s MB of content; refused as unsafe."
    ),
    "undecodable_bytes": gettext_noop("undecodable bytes"),
    "unreadable_workbook": gettext_noop("The workbook cannot be read: %(error)s"),
    "worksheet_too_big": gettext_noop(
        "The worksheet declares %(rows)s rows × %(cols)s columns; refused."
    ),
    "reader_exit_code": gettext_noop(
        "the reader ended with exit code %(code)s (memory limit %(n)s MB)"
    ),
    "over_limits": gettext_noop("The file could not be read within the limits: %(why)s."),
    "reader_signal": gettext_noop("the reader was stopped by %(signal)s (memory limit %(n)s MB)"),
    "over_time": gettext_noop("it took longer than %(n)s seconds"),
    "over_memory": gettext_noop("it needed more than %(n)s MB of memory"),
    "reader_failed": gettext_noop("The file could not be read: %(error)s"),
    # fixes of a number-typed ID cell
    "fix_text_column": gettext_noop("Format the column as text and re-enter the leading zeros."),
    "fix_text_column_twins": gettext_noop(
        "Format the column as text and re-enter the leading zeros. Did you mean %(id)s?"
    ),
    # a batch's outcome
    "import_failed": gettext_noop("The import failed: %(error)s"),
    "identical_batch": gettext_noop("Identical to batch #%(id)s: nothing changed."),
    "loaded": gettext_noop("Loaded %(n)s rows (%(r)s replaced)."),
    "loaded_with_warnings": gettext_noop(
        "Loaded %(n)s rows (%(r)s replaced). %(w)s compliance warning(s) raised."
    ),
    "rejected": gettext_noop(
        "%(n)s error(s); nothing was loaded. Correct the file and import it again."
    ),
    "gave_up": gettext_noop("gave up after %(n)s attempts: the worker died each time"),
}

messages.register(MESSAGES)
