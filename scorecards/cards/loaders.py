"""The manual scores file's loader (SPEC §5, the committee's scores), registered with crm's
import pipeline: crm checks the file and calls this in the import's transaction."""

from __future__ import annotations

import pyarrow as pa
from django.utils import timezone

from crm.loaders import Loaded, register, upsert
from crm.models import ImportBatch
from crm.validation import Checked
from scorecards.models import ManualScore
from targets.models import Employee


@register("manual_scores")
def load_manual_scores(cursor, checked: Checked, batch: ImportBatch) -> Loaded:
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
