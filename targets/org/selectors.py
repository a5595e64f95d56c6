"""Reads of the org chart and staff, always through the user's scope."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from targets.models import Employee, OrgUnit, User
from wealthscore.kernel.access import Role


def org_unit_list(*, user: User) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.visible_to(user).select_related("parent")


def org_unit_get(*, user: User, code: str) -> OrgUnit:
    unit = org_unit_list(user=user).filter(code=code).first()
    if unit is None:
        raise Http404
    return unit


def employee_list(*, user: User, unit: OrgUnit | None = None) -> QuerySet[Employee]:
    employees = Employee.objects.visible_to(user)
    if unit is not None:
        employees = employees.in_subtree(unit)
    return employees.with_unit_on().select_related("user")


def employee_search(*, user: User, text: str, limit: int = 20) -> list[tuple[str, str]]:
    """(employee ID, name) of the RMs in the user's scope whose ID starts with `text` or
    whose name contains it, by ID: a form's lookup (one query, at most `limit` rows)."""
    text = text.strip()[:50]
    if not text:
        return []
    found = (
        Employee.objects.visible_to(user)
        .filter(position="rm")
        .filter(Q(employee_id__startswith=text) | Q(name__contains=text))
    )
    return list(found.order_by("employee_id").values_list("employee_id", "name")[:limit])


def employee_get(*, user: User, employee_id: str) -> Employee:
    employee = employee_list(user=user).filter(employee_id=employee_id).first()
    if employee is None:
        raise Http404
    return employee


def target_children(unit: OrgUnit) -> list[OrgUnit] | list[Employee]:
    """What a unit's target is decomposed to: its child units, or, for a leaf unit, its RMs
    as of today."""
    children = list(OrgUnit.objects.filter(parent=unit).order_by("code"))
    if children:
        return children
    return list(
        Employee.objects.filter(position=Role.RM, status=Employee.Status.ACTIVE)
        .in_subtree(unit)
        .order_by("employee_id")
    )
