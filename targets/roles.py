"""Who a user is, for scoping: role, staff record and current unit (SPEC §1)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .models import Employee, OrgUnit, User


class Role(models.TextChoices):
    RM = "rm", _("Relationship manager")
    MANAGER = "manager", _("Branch manager")
    HR = "hr", _("HR")
    COMPLIANCE = "compliance", _("Compliance officer")
    ADMIN = "admin", _("Administrator")


# Roles that see the whole organisation (SPEC §1); managers see a subtree, RMs themselves.
ORG_WIDE_ROLES = frozenset({Role.ADMIN, Role.HR, Role.COMPLIANCE})
# Roles that only an admin grants, in the app (`targets.services.user_role_set`, audited):
# never from a staff record, so no HR file (and no LDAP attribute) can make anyone one.
PRIVILEGED_ROLES = frozenset({Role.ADMIN, Role.HR, Role.COMPLIANCE})
# Roles the position of an active staff record gives a login that has no role set.
POSITION_ROLES = frozenset({Role.RM, Role.MANAGER})

# ---------------------------------------------------------------- who may do what
# One name per permission (issue 16): pages, the API, services and the navigation test
# `scope.role in NAME`, never a set of roles of their own. Two names may hold the same roles
# and still mean different things (who loads files, who moves staff): each changes alone.
# What a manager may reach inside her subtree is the selectors' business, not these sets'.
#: Pay data: the pay and talent page and exports, base pay on staff records (SPEC §1, §7).
PAY_ROLES = frozenset({Role.HR, Role.ADMIN})
#: Import files and their batches (client-level data, SPEC §1): 404 for anyone else.
IMPORT_ROLES = frozenset({Role.ADMIN, Role.HR})
#: Moving an employee to another unit (the org chart is HR's and the admins').
STAFF_MOVE_ROLES = frozenset({Role.ADMIN, Role.HR})
#: The team page (managers their subtree, admins the bank), and the way back to it.
TEAM_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
#: Entering the committee's manual scores of a team's RMs.
MANUAL_SCORE_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
#: Submitting a period for review (approving and reopening it are an admin's alone).
PERIOD_SUBMIT_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
#: Splitting a unit's annual target over its children or its RMs.
TARGET_SPLIT_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
#: Recording and deciding incidents, and seeing every one of them.
INCIDENT_DECIDER_ROLES = frozenset({Role.COMPLIANCE, Role.ADMIN})
#: The compliance pages and the warning board (managers read their subtree's, with a unit).
COMPLIANCE_PAGE_ROLES = frozenset({Role.COMPLIANCE, Role.ADMIN, Role.MANAGER})
#: The audit log.
AUDIT_ROLES = frozenset({Role.ADMIN, Role.COMPLIANCE})


@dataclass(frozen=True)
class Scope:
    role: Role | None
    employee: Employee | None
    unit: OrgUnit | None

    @property
    def org_wide(self) -> bool:
        return self.role in ORG_WIDE_ROLES


_NO_SCOPE = Scope(role=None, employee=None, unit=None)


def scope_of(user: User | None) -> Scope:
    """The user's role, staff record and unit today; cached on the user object per request.

    The effective role, in this order (issue 14: roles never come from data):
    1. a Django superuser is an admin;
    2. else `user.role`, set in the app by an admin (audited), whatever the staff record says;
    3. else the position of the linked staff record, if it is active and the position is RM
       or manager; a position of admin, HR or compliance gives no role by itself;
    4. else no role (sees nothing).
    The staff import (HR's files) may change positions and statuses of records without a
    login only: a row that would change the position or reactivate the record of a login, or
    that touches the record of a privileged or staff user, is refused (crm/validation.py,
    `_check_staff`). So a file can at most take an RM's or manager's role away (a leaver).
    """
    if user is None or not user.is_authenticated:
        return _NO_SCOPE
    cached = getattr(user, "_ws_scope", None)
    if cached is not None:
        return cached
    from .models import Employee, UnitMembership

    membership = (
        UnitMembership.objects.on(timezone.localdate())
        .filter(employee__user=user)
        .select_related("employee", "unit")
        .first()
    )
    if membership is not None:
        employee, unit = membership.employee, membership.unit
    else:
        employee, unit = Employee.objects.filter(user=user).first(), None
    if user.is_superuser:
        role: Role | None = Role.ADMIN
    elif user.role:
        role = Role(user.role)
    elif (
        employee is not None
        and employee.status == employee.Status.ACTIVE
        and employee.position in POSITION_ROLES
    ):
        role = Role(employee.position)
    else:
        role = None
    scope = Scope(role=role, employee=employee, unit=unit)
    user._ws_scope = scope
    return scope


def role_of(user: User | None) -> Role | None:
    return scope_of(user).role


# ---------------------------------------------------------------- staff files vs logins
# The fields of a staff record that a staff file writes (targets.services.staff_import).
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
    from .models import Employee, UnitMembership

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


def staff_row_refusals(*, record: dict[str, Any], row: dict[str, Any]) -> list[tuple[str, str]]:
    """Why a staff file's row may not be applied to a record linked to a login: [(column,
    reason)], empty when it may. The one rule for the file check and for the load.

    - The record of a protected login (see `linked_staff_records`) is never changed by a
      file: any field that differs is refused. An identical row is harmless and passes, so
      that HR's full export, which lists HR and compliance staff too, still loads.
    - The position of any other login's record is changed in the app by an admin: it gives
      the role (`scope_of`), so a file must not move anyone between RM and manager.
    - Reactivating a login's record (left → active) would give it its role back: in the app.
    Setting an RM or manager to `left`, renaming or moving them stay HR's to do by file.
    """
    from django.utils.translation import gettext as _

    if record["protected"]:
        reason = _(
            "the record of a user with the admin, HR or compliance role or with access to the "
            "admin site is changed in the app by an admin, never by a file"
        )
        return [
            (name, reason)
            for name in STAFF_FILE_FIELDS
            if name in row and _file_value(name, row[name]) != record[name]
        ]
    refusals = []
    if row.get("position") is not None and row["position"] != record["position"]:
        refusals.append(
            ("position", _("the position of an employee with a login is changed in the app by "
                           "an admin"))
        )  # fmt: skip
    if row.get("status") == "active" and record["status"] != "active":
        refusals.append(
            ("status", _("an employee with a login is reactivated in the app by an admin"))
        )
    return refusals
