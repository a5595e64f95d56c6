"""The opt-in LDAP / Active Directory backend (settings add it only when WEALTHSCORE_LDAP_URI
is set; django-auth-ldap and python-ldap come with the `ldap` extra of pyproject.toml).

It checks the password against the directory and links the login to its staff record by
the employee ID attribute (WEALTHSCORE_LDAP_EMPLOYEE_ATTR). It maps no group or flag to
Django: no role, no is_staff, no is_superuser ever comes from the directory.
"""

from __future__ import annotations

from typing import Any

import ldap
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django_auth_ldap.backend import LDAPBackend
from django_auth_ldap.config import LDAPSearch

from .linking import directory_may_sign_in, link_staff_record


def _search() -> dict[str, Any]:
    base = settings.WEALTHSCORE_LDAP_USER_SEARCH_BASE
    if not base:
        return {}
    return {
        "USER_SEARCH": LDAPSearch(
            base, ldap.SCOPE_SUBTREE, settings.WEALTHSCORE_LDAP_USER_SEARCH_FILTER
        )
    }


class StaffLDAPBackend(LDAPBackend):
    default_settings = _search()

    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[Any, bool]:
        user, built = super().get_or_build_user(username, ldap_user)
        if not built and not directory_may_sign_in(user):
            # Stops the sign-in (django.contrib.auth treats it as a failure, audited).
            raise PermissionDenied("directory sign-in refused for a privileged local login")
        return user, built

    def authenticate_ldap_user(self, ldap_user: Any, password: str) -> Any:
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is not None:
            values = ldap_user.attrs.get(settings.WEALTHSCORE_LDAP_EMPLOYEE_ATTR, [])
            link_staff_record(user=user, employee_id=values[0] if values else "")
        return user
