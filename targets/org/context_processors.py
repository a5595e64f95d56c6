from django.http import HttpRequest

from targets.models import scope_of
from wealthscore.kernel.access import Action, allows


def role(request: HttpRequest) -> dict:
    scope = scope_of(getattr(request, "user", None))
    # The pages the navigation links to, from the same role sets the pages check (so that a
    # link never shows a page that answers 404, nor hides one the user may open).
    may = {
        "team": allows(scope.role, Action.TEAM),
        "pay": allows(scope.role, Action.PAY),
        "compliance": allows(scope.role, Action.COMPLIANCE_PAGES),
        "imports": allows(scope.role, Action.IMPORT),
        "audit": allows(scope.role, Action.AUDIT),
        "runs": allows(scope.role, Action.RUN_HISTORY),
        "inquiries": allows(scope.role, Action.ANSWER_INQUIRIES),
    }
    return {
        "ws_role": scope.role,
        "ws_employee": scope.employee,
        "ws_unit": scope.unit,
        "ws_may": may,
    }
