"""Staff files against logins (issue 14): which rows of HR's staff file may not touch a record
that has a login. Who a user is (role, record, unit) is `targets.models.scope_of`; who may
do what is the kernel's table (`wealthscore.kernel.access`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wealthscore.kernel.access import PRIVILEGED_ROLES
from wealthscore.kernel.messages import Message, msg

# ---------------------------------------------------------------- staff files vs logins
# The fields of a staff record that a staff file writes (targets.org.services.staff_import).
STAFF_FILE_FIELDS = (
    "name",
    "unit_code",
    "position",
    "hire_date",
    "status",
    "base_performance_pay",
    "certifications",
)


def linked_staff_records() -> dict[str, dict[str, Any]]:
    """The staff records linked to a login, by employee ID: what a staff file may not change.

    Each holds the fields a staff file writes (its open unit as `unit_code`) and `protected`:
    the login is a superuser, may open the admin site (`is_staff`), has an admin, HR or
    compliance role set, or the record's position is one of those. Two queries, whatever the
    size of the file: logins are a few thousand at most.
    """
    from targets.models import Employee, UnitMembership

    query = Employee.objects.filter(user__isnull=False).values(
        "pk", "employee_id", "name", "position", "hire_date", "status",
        "base_performance_pay", "certifications",
        "user__is_superuser", "user__is_staff", "user__role",
    )  # fmt: skip
    rows = list(query)
    units = dict(
        UnitMembership.objects.filter(
            valid_to__isnull=True, employee_id__in=[row["pk"] for row in rows]
        ).values_list("employee_id", "unit__code")
    )
    records = {}
    for row in rows:
        records[row["employee_id"]] = {
            **{name: row[name] for name in STAFF_FILE_FIELDS if name != "unit_code"},
            "unit_code": units.get(row["pk"]),
            "protected": bool(
                row["user__is_superuser"]
                or row["user__is_staff"]
                or row["user__role"] in PRIVILEGED_ROLES
                or row["position"] in PRIVILEGED_ROLES
            ),
        }
    return records


def _file_value(name: str, value: Any) -> Any:
    """A staff file's value as the record stores it (amounts as Decimal, lists as lists)."""
    if name == "base_performance_pay":
        return None if value in (None, "") else Decimal(str(value))
    if name == "certifications":
        return [item for item in (value or "").split(";") if item]
    return value


def staff_row_refusals(*, record: dict[str, Any], row: dict[str, Any]) -> list[tuple[str, Message]]:
    """Why a staff file's row may not be applied to a record linked to a login: [(column,
    reason)], the reason a code of targets/messages.py; empty when it may. The one rule for
    the file check and for the load.

    - The record of a protected login (see `linked_staff_records`) is never changed by a
      file: any field that differs is refused. An identical row is harmless and passes, so
      that HR's full export, which lists HR and compliance staff too, still loads.
    - The position of any other login's record is changed in the app by an admin: it gives
      the role (`scope_of`), so a file must not move anyone between RM and manager.
    - Reactivating a login's record (left → active) would give it its role back: in the app.
    Setting an RM or manager to `left`, renaming or moving them stay HR's to do by file.
    """
    if record["protected"]:
        reason = msg("protected_record")
        return [
            (name, reason)
            for name in STAFF_FILE_FIELDS
            if name in row and _file_value(name, row[name]) != record[name]
        ]
    refusals = []
    if row.get("position") is not None and row["position"] != record["position"]:
        refusals.append(("position", msg("position_in_app")))
    if row.get("status") == "active" and record["status"] != "active":
        refusals.append(("status", msg("reactivated_in_app")))
    return refusals
