"""Linking a directory (LDAP/AD) login to its staff record, without an LDAP server.

The directory tells who someone is (a password check and an employee ID), never what she
may do: the role comes from `targets.models.scope_of` (an admin's setting, or the position of
an active RM / manager record). These plain functions are what the LDAP backend calls.
"""

from __future__ import annotations

import logging

from django.db import transaction

from targets.models import Employee, User
from wealthscore.kernel.access import PRIVILEGED_ROLES
from wealthscore.kernel.audit import audit_record

log = logging.getLogger(__name__)


def directory_may_sign_in(user: User) -> bool:
    """Superusers, admin-site users and admin / HR / compliance logins sign in with their
    local password only: a directory account of the same name must never become them."""
    return not (user.is_superuser or user.is_staff or user.role in PRIVILEGED_ROLES)


@transaction.atomic
def link_staff_record(*, user: User, employee_id: str) -> Employee | None:
    """Link `user` to the staff record with this employee ID, if that is unambiguous.

    Returns the linked record, or None when nothing is linked: no or an unknown ID, a record
    already linked to another login, or a user already linked to another record (an admin
    decides those). Linking is audited; it grants only what `scope_of` derives from the
    record (RM or manager when active), never a privileged role.
    """
    employee_id = (employee_id or "").strip()
    if not employee_id:
        return None
    employee = Employee.objects.select_for_update().filter(employee_id=employee_id).first()
    if employee is None:
        log.warning("directory login %s: no staff record %s", user.get_username(), employee_id)
        return None
    if employee.user_id == user.pk:
        return employee
    if employee.user_id is not None:
        log.warning(
            "directory login %s: staff record %s belongs to another login",
            user.get_username(), employee_id,
        )  # fmt: skip
        return None
    if Employee.objects.filter(user=user).exists():
        log.warning("directory login %s is linked to another staff record", user.get_username())
        return None
    employee.user = user
    employee.save(update_fields=["user"])
    audit_record(
        actor=None,
        actor_label=f"ldap:{user.get_username()}"[:100],
        action="employee.link",
        object_type="employee",
        object_id=employee.employee_id,
        before={"user": None},
        after={"user": user.get_username()},
    )
    return employee
