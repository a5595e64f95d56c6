from django.http import HttpRequest

from .roles import AUDIT_ROLES, COMPLIANCE_PAGE_ROLES, IMPORT_ROLES, PAY_ROLES, TEAM_ROLES, scope_of


def role(request: HttpRequest) -> dict:
    scope = scope_of(getattr(request, "user", None))
    # The pages the navigation links to, from the same role sets the pages check (so that a
    # link never shows a page that answers 404, nor hides one the user may open).
    may = {
        "team": scope.role in TEAM_ROLES,
        "pay": scope.role in PAY_ROLES,
        "compliance": scope.role in COMPLIANCE_PAGE_ROLES,
        "imports": scope.role in IMPORT_ROLES,
        "audit": scope.role in AUDIT_ROLES,
    }
    return {
        "ws_role": scope.role,
        "ws_employee": scope.employee,
        "ws_unit": scope.unit,
        "ws_may": may,
    }
