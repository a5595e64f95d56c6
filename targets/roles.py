"""Who a user is, for scoping: role, staff record and current unit (SPEC §1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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
    """The user's role, staff record and unit today; cached on the user object per request."""
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
    elif employee is not None and employee.status == employee.Status.ACTIVE:
        role = Role(employee.position)
    else:
        role = None
    scope = Scope(role=role, employee=employee, unit=unit)
    user._ws_scope = scope
    return scope


def role_of(user: User | None) -> Role | None:
    return scope_of(user).role
