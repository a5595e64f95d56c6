"""The manual scores file's loader (SPEC §5, the committee's scores), registered with crm's
import pipeline: crm checks the file and calls this in the import's transaction."""

from __future__ import annotations

from collections import defaultdict

import pyarrow as pa
from django.utils import timezone

from crm.loaders import Loaded, RowsRefused, register, upsert
from crm.models import ImportBatch
from crm.validation import Checked
from scorecards.cards.services import approved_refusal_message, refused_for_locked_units
from scorecards.models import ManualScore, Period, PeriodStatus
from targets.models import Employee


@register("manual_scores")
def load_manual_scores(cursor, checked: Checked, batch: ImportBatch) -> Loaded:
    _refuse_locked_rows(checked)
    employees = dict(Employee.objects.values_list("employee_id", "pk"))
    frame = checked.table.to_pandas()
    frame["employee_id"] = frame["employee_id"].map(employees).astype("int64")
    frame["comment"] = frame["comment"].fillna("")
    frame["entered_at"] = timezone.now()
    rows = pa.Table.from_pandas(
        frame[["period", "employee_id", "measure", "score", "comment", "entered_at"]],
        preserve_index=False,
    )
    return upsert(cursor, ManualScore, rows, key=["period", "employee_id", "measure"], batch=batch)


def _refuse_locked_rows(checked: Checked) -> None:
    """A file's score for an approved period, or for an RM whose branch is in review or
    approved for it, is refused as the team page refuses it: the whole file, each such row
    named (the periods' rows locked until the import commits)."""
    periods = checked.table.column("period").to_pylist()
    employee_ids = checked.table.column("employee_id").to_pylist()
    rows_of: dict[str, set[str]] = defaultdict(set)
    for period, employee_id in zip(periods, employee_ids, strict=True):
        rows_of[period].add(employee_id)
    approved = set(
        Period.objects.select_for_update()
        .filter(code__in=list(rows_of), status=PeriodStatus.APPROVED)
        .values_list("code", flat=True)
    )
    refused = {
        period: (
            dict.fromkeys(rms, approved_refusal_message(period))
            if period in approved
            else refused_for_locked_units(period, rms)
        )  # fmt: skip
        for period, rms in rows_of.items()
    }
    numbers = checked.row_numbers
    errors = [
        {"row": None if numbers is None else int(numbers[index]), "column": "employee_id",
         "value": employee_id, "reason": refused[period][employee_id]}
        for index, (period, employee_id) in enumerate(zip(periods, employee_ids, strict=True))
        if employee_id in refused[period]
    ]  # fmt: skip
    if errors:
        raise RowsRefused(errors)
