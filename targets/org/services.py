"""Writes to the org chart, staff and users. Each change is audited in its own transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.models import (
    PATH_SEP,
    Employee,
    OrgUnit,
    UnitMembership,
    User,
    scope_of,
    unit_code_validator,
)
from targets.org.staff_rules import linked_staff_records, staff_row_refusals
from wealthscore.kernel.access import Role
from wealthscore.kernel.audit import audit_bulk, audit_record
from wealthscore.kernel.errors import DomainError, ForbiddenError
from wealthscore.kernel.messages import render


def _unit_snapshot(unit: OrgUnit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "level": unit.level,
        "parent": unit.parent.code if unit.parent_id and unit.parent is not None else None,
    }


def _employee_snapshot(employee: Employee) -> dict[str, Any]:
    return {
        "employee_id": employee.employee_id,
        "name": employee.name,
        "position": employee.position,
        "hire_date": employee.hire_date,
        "status": employee.status,
        "certifications": list(employee.certifications),
        "base_performance_pay": employee.base_performance_pay,
        "user": employee.user.username if employee.user_id and employee.user is not None else None,
    }


def _check_unit_code(code: str) -> None:
    try:
        unit_code_validator(code)
    except Exception as exc:
        raise DomainError(
            _("Unit code %(code)s may only hold letters, digits, - or _.") % {"code": code},
            field="code",
        ) from exc


@transaction.atomic
def org_unit_create(
    *,
    code: str,
    name: str,
    level: str,
    parent: OrgUnit | None,
    actor: User | None,
    actor_label: str = "",
) -> OrgUnit:
    _check_unit_code(code)
    if level not in OrgUnit.Level.values:
        raise DomainError(_("Unknown unit level %(level)s.") % {"level": level}, field="level")
    if parent is None and OrgUnit.objects.filter(parent__isnull=True).exists():
        raise DomainError(_("The organisation already has a head office."), field="parent")
    if OrgUnit.objects.filter(code=code).exists():
        raise DomainError(_("Unit code %(code)s is taken.") % {"code": code}, field="code")
    unit = OrgUnit.objects.create(
        code=code,
        name=name,
        level=level,
        parent=parent,
        path=OrgUnit.path_for(code, parent),
        depth=parent.depth + 1 if parent else 0,
    )
    audit_record(
        actor=actor,
        actor_label=actor_label,
        action="org_unit.create",
        object_type="org_unit",
        object_id=unit.code,
        after=_unit_snapshot(unit),
    )
    return unit


@transaction.atomic
def org_unit_update(
    *,
    unit: OrgUnit,
    actor: User | None,
    name: str | None = None,
    level: str | None = None,
    parent: OrgUnit | None = None,
    reason: str = "",
) -> OrgUnit:
    """Rename, re-level or re-parent a unit; a re-parent moves its whole subtree in one UPDATE."""
    unit = OrgUnit.objects.select_for_update(of=("self",)).select_related("parent").get(pk=unit.pk)
    before = _unit_snapshot(unit)
    if name is not None:
        unit.name = name
    if level is not None:
        if level not in OrgUnit.Level.values:
            raise DomainError(_("Unknown unit level %(level)s.") % {"level": level}, field="level")
        unit.level = level
    if parent is not None and parent.pk != unit.parent_id:
        if unit.parent_id is None:
            raise DomainError(_("The head office cannot be moved."), field="parent")
        if parent.is_within(unit):
            raise DomainError(
                _("A unit cannot be moved under itself or its own subtree."), field="parent"
            )
        old_path, new_path = unit.path, OrgUnit.path_for(unit.code, parent)
        depth_shift = parent.depth + 1 - unit.depth
        OrgUnit.objects.filter(path__startswith=old_path).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
            depth=F("depth") + depth_shift,
        )
        unit.refresh_from_db()
        unit.parent = parent
    unit.save(update_fields=["name", "level", "parent"])
    audit_record(
        actor=actor,
        action="org_unit.update",
        object_type="org_unit",
        object_id=unit.code,
        before=before,
        after=_unit_snapshot(unit),
        reason=reason,
    )
    return unit


@transaction.atomic
def employee_create(
    *,
    employee_id: str,
    name: str,
    unit: OrgUnit,
    position: str,
    hire_date: dt.date,
    actor: User | None,
    status: str = Employee.Status.ACTIVE,
    certifications: list[str] | None = None,
    base_performance_pay: Decimal | None = None,
    user: User | None = None,
    actor_label: str = "",
) -> Employee:
    if position not in Role.values:
        raise DomainError(
            _("Unknown position %(position)s.") % {"position": position}, field="position"
        )
    if Employee.objects.filter(employee_id=employee_id).exists():
        raise DomainError(
            _("Employee ID %(id)s is taken.") % {"id": employee_id}, field="employee_id"
        )
    employee = Employee.objects.create(
        employee_id=employee_id,
        name=name,
        position=position,
        hire_date=hire_date,
        status=status,
        certifications=certifications or [],
        base_performance_pay=base_performance_pay,
        user=user,
    )
    UnitMembership.objects.create(employee=employee, unit=unit, valid_from=hire_date)
    audit_record(
        actor=actor,
        actor_label=actor_label,
        action="employee.create",
        object_type="employee",
        object_id=employee.employee_id,
        after={**_employee_snapshot(employee), "unit": unit.code, "valid_from": hire_date},
    )
    return employee


_EDITABLE_EMPLOYEE_FIELDS = frozenset(
    {"name", "position", "hire_date", "status", "certifications", "base_performance_pay", "user"}
)


@transaction.atomic
def employee_update(
    *, employee: Employee, actor: User | None, reason: str = "", **changes: Any
) -> Employee:
    unknown = set(changes) - _EDITABLE_EMPLOYEE_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be changed here: %s") % ", ".join(sorted(unknown)))
    if "position" in changes and changes["position"] not in Role.values:
        raise DomainError(_("Unknown position %(position)s.") % changes, field="position")
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    before = _employee_snapshot(employee)
    for field, value in changes.items():
        setattr(employee, field, value)
    employee.save(update_fields=list(changes))
    after = _employee_snapshot(employee)
    if after != before:
        audit_record(
            actor=actor,
            action="employee.update",
            object_type="employee",
            object_id=employee.employee_id,
            before=before,
            after=after,
            reason=reason,
        )
    return employee


@transaction.atomic
def employee_move(
    *,
    employee: Employee,
    unit: OrgUnit,
    effective_date: dt.date,
    actor: User | None,
    reason: str = "",
) -> UnitMembership:
    """Move an employee to `unit` from `effective_date`, keeping the earlier membership.

    Only the open (latest) membership can be closed, so history is never rewritten.
    """
    current = (
        UnitMembership.objects.select_for_update()
        .select_related("unit")
        .filter(employee=employee, valid_to__isnull=True)
        .first()
    )
    if current is None:
        raise DomainError(_("%(name)s has no open unit membership.") % {"name": employee.name})
    if current.unit_id == unit.pk:
        raise DomainError(
            _("%(name)s already belongs to %(unit)s.") % {"name": employee.name, "unit": unit.name},
            field="unit_code",
        )
    if effective_date <= current.valid_from:
        raise DomainError(
            _("The move must take effect after %(date)s, when the current membership began.")
            % {"date": current.valid_from.isoformat()},
            field="effective_date",
        )
    before = {"unit": current.unit.code, "valid_from": current.valid_from, "valid_to": None}
    current.valid_to = effective_date
    current.save(update_fields=["valid_to"])
    new = UnitMembership.objects.create(employee=employee, unit=unit, valid_from=effective_date)
    audit_record(
        actor=actor,
        action="employee.move",
        object_type="employee",
        object_id=employee.employee_id,
        before=before,
        after={"unit": unit.code, "valid_from": effective_date, "valid_to": None},
        reason=reason,
    )
    return new


@transaction.atomic
def user_role_set(
    *,
    user: User,
    role: str,
    actor: User | None,
    is_superuser: bool | None = None,
    reason: str = "",
    actor_label: str = "",
) -> User:
    """Set a user's role ('' to follow the staff record: RM or manager only) and, for a
    superuser, the superuser flag. The only way a role changes (issue 14): in the app, by an
    admin, audited in the same transaction. `actor=None` is for set-up code (commands,
    fixtures) that names itself in `actor_label`.
    """
    if role and role not in Role.values:
        raise DomainError(_("Unknown role %(role)s.") % {"role": role}, field="role")
    if actor is not None and scope_of(actor).role != Role.ADMIN:
        raise ForbiddenError(_("Only an admin may change a user's role."), field="role")
    user = User.objects.select_for_update().get(pk=user.pk)
    actor_is_superuser = actor is None or actor.is_superuser
    if not actor_is_superuser and (
        user.is_superuser or (is_superuser is not None and is_superuser != user.is_superuser)
    ):
        raise ForbiddenError(
            _("Only a superuser may change a superuser, or make one."), field="is_superuser"
        )
    before = {"role": user.role, "is_superuser": user.is_superuser}
    user.role = role
    if is_superuser is not None:
        user.is_superuser = is_superuser
        user.is_staff = is_superuser or user.is_staff
    user.save(update_fields=["role", "is_superuser", "is_staff"])
    after = {"role": user.role, "is_superuser": user.is_superuser}
    if after != before:
        audit_record(
            actor=actor,
            actor_label=actor_label,
            action="user.role",
            object_type="user",
            object_id=user.username,
            before=before,
            after=after,
            reason=reason,
        )
    return user


# The name earlier callers use; same service.
user_set_role = user_role_set


# ---------------------------------------------------------------- HR imports (bulk)
def org_units_import(
    *, rows: list[dict[str, Any]], actor: User | None, actor_label: str = ""
) -> tuple[int, int]:
    """Create or update units from an org_units file; paths follow the merged tree.

    Returns (created, updated). Rows were validated (known parents, one root, no loops).
    """
    existing = {
        unit.code: unit
        for unit in OrgUnit.objects.select_for_update(of=("self",)).select_related("parent")
    }
    code_by_pk = {unit.pk: code for code, unit in existing.items()}
    parent_of = {code: code_by_pk.get(unit.parent_id) for code, unit in existing.items()}
    parent_of.update({row["unit_code"]: row["parent_code"] or None for row in rows})

    def path(code: str) -> str:
        chain = []
        node: str | None = code
        while node is not None:
            chain.append(node)
            node = parent_of[node]
        return PATH_SEP + PATH_SEP.join(reversed(chain)) + PATH_SEP

    incoming = {row["unit_code"]: row for row in rows}
    created: list[OrgUnit] = []
    changes: list[tuple[str, dict | None, dict | None]] = []
    # Parents first, so each new unit's parent has a primary key when it is created.
    for code in sorted(incoming, key=lambda c: path(c).count(PATH_SEP)):
        row = incoming[code]
        if code in existing:
            continue
        unit = OrgUnit(code=code, name=row["unit_name"], level=row["level"], path=path(code))
        unit.depth = unit.path.count(PATH_SEP) - 2
        created.append(unit)
        existing[code] = unit
    by_depth: dict[int, list[OrgUnit]] = {}
    for unit in created:
        by_depth.setdefault(unit.depth, []).append(unit)
    for depth in sorted(by_depth):
        for unit in by_depth[depth]:
            parent_code = parent_of[unit.code]
            unit.parent = existing[parent_code] if parent_code else None
        OrgUnit.objects.bulk_create(by_depth[depth])
    changes += [(u.code, None, _unit_snapshot(u)) for u in created]

    updated: list[OrgUnit] = []
    created_codes = {u.code for u in created}
    for code, unit in existing.items():
        if code in created_codes:
            continue
        before, old_path = _unit_snapshot(unit), unit.path
        incoming_row = incoming.get(code)
        if incoming_row is not None:
            unit.name, unit.level = incoming_row["unit_name"], incoming_row["level"]
            parent_code = parent_of[code]
            unit.parent = existing[parent_code] if parent_code else None
        unit.path = path(code)
        unit.depth = unit.path.count(PATH_SEP) - 2
        after = _unit_snapshot(unit)
        if after != before:
            changes.append((code, before, after))
        if after != before or unit.path != old_path:
            updated.append(unit)
    if updated:
        # Paths are unique: move the changed ones out of the way first, then into place.
        # The key is cast to text: PostgreSQL will not concatenate a bigint with text.
        OrgUnit.objects.filter(pk__in=[u.pk for u in updated]).update(
            path=Concat(
                Value("#"), Cast(F("pk"), CharField()), Value(PATH_SEP), output_field=CharField()
            )
        )
        OrgUnit.objects.bulk_update(updated, ["name", "level", "parent", "path", "depth"])
    audit_bulk(actor=actor, actor_label=actor_label, action="org_unit.import",
               object_type="org_unit", changes=changes)  # fmt: skip
    return len(created), sum(1 for change in changes if change[1] is not None)


def staff_import(
    *, rows: list[dict[str, Any]], actor: User | None, actor_label: str = ""
) -> tuple[int, int]:
    """Create or update staff from a staff file. A new unit for someone takes effect today.

    Returns (created, updated). Rows were validated (known units, positions, statuses, and
    `staff_row_refusals` for records with a login). That rule is applied again here, under
    the lock of the staff rows, to the records linked to a login in the meantime: a file can
    never change a role (wealthscore/kernel/access.py, `scope_of`).
    """
    today = timezone.localdate()
    units = dict(OrgUnit.objects.values_list("code", "pk"))
    existing = {e.employee_id: e for e in Employee.objects.select_for_update()}
    logins = linked_staff_records()
    for row in rows:
        record = logins.get(row["employee_id"])
        refusals = staff_row_refusals(record=record, row=row) if record else []
        if refusals:
            column, reason = refusals[0]
            raise DomainError(
                _("Employee %(id)s, column %(column)s: %(reason)s")
                % {"id": row["employee_id"], "column": column, "reason": render(reason)},
                field=column,
            )
    open_memberships = {
        m.employee_id: m
        for m in UnitMembership.objects.select_for_update().filter(valid_to__isnull=True)
    }
    unit_codes = {pk: code for code, pk in units.items()}
    new_employees: list[Employee] = []
    changed: list[Employee] = []
    changes: list[tuple[str, dict | None, dict | None]] = []
    moves: list[tuple[Employee, str]] = []
    for row in rows:
        fields = {
            "name": row["name"],
            "position": row["position"],
            "hire_date": row["hire_date"],
            "status": row["status"],
            "certifications": [c for c in (row.get("certifications") or "").split(";") if c],
            "base_performance_pay": row.get("base_performance_pay"),
        }
        employee = existing.get(row["employee_id"])
        if employee is None:
            employee = Employee(employee_id=row["employee_id"], **fields)
            new_employees.append(employee)
            changes.append((employee.employee_id, None, {**_employee_snapshot(employee),
                                                          "unit": row["unit_code"]}))  # fmt: skip
            moves.append((employee, row["unit_code"]))
            continue
        before = _employee_snapshot(employee)
        for name, value in fields.items():
            setattr(employee, name, value)
        after = _employee_snapshot(employee)
        if after != before:
            changed.append(employee)
            changes.append((employee.employee_id, before, after))
        current = open_memberships.get(employee.pk)
        if current is None or unit_codes.get(current.unit_id) != row["unit_code"]:
            moves.append((employee, row["unit_code"]))
    Employee.objects.bulk_create(new_employees)
    if changed:
        Employee.objects.bulk_update(changed, [*(_EDITABLE_EMPLOYEE_FIELDS - {"user"})])
    closing, opening = [], []
    move_changes: list[tuple[str, dict | None, dict | None]] = []
    for employee, unit_code in moves:
        current = open_memberships.get(employee.pk)
        if current is None:
            start = employee.hire_date
        else:
            start = max(today, current.valid_from + dt.timedelta(days=1))
            current.valid_to = start
            closing.append(current)
            move_changes.append(
                (employee.employee_id,
                 {"unit": unit_codes.get(current.unit_id), "valid_from": current.valid_from},
                 {"unit": unit_code, "valid_from": start})
            )  # fmt: skip
        opening.append(
            UnitMembership(employee=employee, unit_id=units[unit_code], valid_from=start)
        )
    UnitMembership.objects.bulk_update(closing, ["valid_to"])
    UnitMembership.objects.bulk_create(opening)
    audit_bulk(actor=actor, actor_label=actor_label, action="employee.import",
               object_type="employee", changes=changes)  # fmt: skip
    audit_bulk(actor=actor, actor_label=actor_label, action="employee.move",
               object_type="employee", changes=move_changes)  # fmt: skip
    return len(new_employees), len(changed)
