from django.http import HttpRequest

from .roles import scope_of


def role(request: HttpRequest) -> dict:
    scope = scope_of(getattr(request, "user", None))
    return {"ws_role": scope.role, "ws_employee": scope.employee, "ws_unit": scope.unit}
