"""Access (SPEC §1): the roles, and one table of who may do what.

Pages, the API, services and the navigation ask `may(user, Action.X)` or `require(user,
Action.X)`, never a set of roles of their own. Two actions may hold the same roles and still
mean different things (who loads files, who moves staff): each changes alone. What a
manager may reach inside her subtree is the org's business (`targets.models.scope_of` and the
models' `visible_to`), not this table's.

A user's effective role needs the org (a superuser, else the role an admin set, else the
position of the linked staff record): the login model answers it as `user.effective_role`
(`targets.models.User`), so this module reads it without importing the org.

Kernel: imports no app.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from django.db import models
from django.http import Http404
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RM = "rm", _("Relationship manager")
    MANAGER = "manager", _("Branch manager")
    HR = "hr", _("HR")
    COMPLIANCE = "compliance", _("Compliance officer")
    ADMIN = "admin", _("Administrator")


# Roles that see the whole organisation (SPEC §1); managers see a subtree, RMs themselves.
ORG_WIDE_ROLES = frozenset({Role.ADMIN, Role.HR, Role.COMPLIANCE})
# Roles that only an admin grants, in the app (`targets.org.services.user_role_set`, audited):
# never from a staff record, so no HR file (and no LDAP attribute) can make anyone one.
PRIVILEGED_ROLES = frozenset({Role.ADMIN, Role.HR, Role.COMPLIANCE})
# Roles the position of an active staff record gives a login that has no role set.
POSITION_ROLES = frozenset({Role.RM, Role.MANAGER})


class Action(enum.StrEnum):
    #: Pay data: the pay and talent page and exports, base pay on staff records (SPEC §1, §7).
    PAY = "pay"
    #: Import files and their batches (client-level data, SPEC §1): 404 for anyone else.
    IMPORT = "import"
    #: Moving an employee to another unit (the org chart is HR's and the admins').
    MOVE_STAFF = "move_staff"
    #: The team page (managers their subtree, admins the bank), and the way back to it.
    TEAM = "team"
    #: Entering the committee's manual scores of a team's RMs.
    ENTER_MANUAL_SCORES = "enter_manual_scores"
    #: Submitting a branch's period for review (its manager, or an admin).
    SUBMIT_PERIOD = "submit_period"
    #: Approving a branch's period, or sending it back: an admin's alone.
    APPROVE_PERIOD = "approve_period"
    #: Splitting a unit's annual target over its children or its RMs.
    SPLIT_TARGETS = "split_targets"
    #: Recording and deciding incidents, and seeing every one of them.
    DECIDE_INCIDENTS = "decide_incidents"
    #: The compliance pages and the warning board (managers read their subtree's, with a unit).
    COMPLIANCE_PAGES = "compliance_pages"
    #: The audit log.
    AUDIT = "audit"
    #: The history of score runs and nightly jobs.
    RUN_HISTORY = "run_history"
    #: Answering an RM's inquiry on a line (her manager, compliance, an admin).
    ANSWER_INQUIRIES = "answer_inquiries"


#: Who may do what: the one table.
MAY: Mapping[Action, frozenset[Role]] = {
    Action.PAY: frozenset({Role.HR, Role.ADMIN}),
    Action.IMPORT: frozenset({Role.ADMIN, Role.HR}),
    Action.MOVE_STAFF: frozenset({Role.ADMIN, Role.HR}),
    Action.TEAM: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.ENTER_MANUAL_SCORES: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.SUBMIT_PERIOD: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.APPROVE_PERIOD: frozenset({Role.ADMIN}),
    Action.SPLIT_TARGETS: frozenset({Role.ADMIN, Role.MANAGER}),
    Action.DECIDE_INCIDENTS: frozenset({Role.COMPLIANCE, Role.ADMIN}),
    Action.COMPLIANCE_PAGES: frozenset({Role.COMPLIANCE, Role.ADMIN, Role.MANAGER}),
    Action.AUDIT: frozenset({Role.ADMIN, Role.COMPLIANCE}),
    Action.RUN_HISTORY: frozenset({Role.ADMIN}),
    Action.ANSWER_INQUIRIES: frozenset({Role.MANAGER, Role.COMPLIANCE, Role.ADMIN}),
}


def role_of(user: Any) -> Role | None:
    """The effective role of a user (None for anonymous or a login with no role)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "effective_role", None)


def allows(role: Role | None, action: Action) -> bool:
    return role is not None and role in MAY[action]


def may(user: Any, action: Action) -> bool:
    return allows(role_of(user), action)


def require(user: Any, action: Action) -> None:
    """404 for anyone the table does not allow: out of scope is not found, as everywhere."""
    if not may(user, action):
        raise Http404
