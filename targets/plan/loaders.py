"""The targets file's loader (SPEC §3), registered with crm's import pipeline: crm checks the
file (columns, scopes, measures) and calls this in the import's transaction."""

from __future__ import annotations

import pyarrow as pa

from crm.loaders import Loaded, register, stage
from crm.models import ImportBatch
from crm.validation import Checked
from targets.models import AnnualTarget, Employee, OrgUnit


@register("targets")
def load_targets(cursor, checked: Checked, batch: ImportBatch) -> Loaded:
    units = dict(OrgUnit.objects.values_list("code", "pk"))
    employees = dict(Employee.objects.values_list("employee_id", "pk"))
    frame = checked.table.to_pandas()
    frame["unit_id"] = frame["scope"].map(units).astype("Int64")
    frame["employee_id"] = frame["scope"].map(employees).astype("Int64")
    frame["distribution"] = frame["distribution"].fillna("")
    frame["batch_id"] = batch.pk
    columns = ["year", "unit_id", "employee_id", "measure", "annual_target", "distribution",
               "batch_id"]  # fmt: skip
    rows = pa.Table.from_pandas(frame[columns], preserve_index=False)
    table = AnnualTarget._meta.db_table
    staging = stage(cursor, "stage_targets", AnnualTarget, columns, rows)
    # Scopes are either a unit or an employee, so the partial unique keys can't be used by
    # ON CONFLICT portably: replace the matching targets, then insert.
    cursor.execute(
        f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM {staging} s WHERE s.year = {table}.year"
        f" AND s.measure = {table}.measure AND (s.unit_id = {table}.unit_id"
        f" OR s.employee_id = {table}.employee_id))"
    )
    replaced = cursor.rowcount
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {staging}"
    )
    cursor.execute(f"DROP TABLE {staging}")
    return Loaded(rows_loaded=rows.num_rows, rows_replaced=max(replaced, 0))
