"""Reads of the audit log (SPEC §9): admins and compliance only; for anyone else it does not
exist (404, as everywhere here). Always through `AuditEntry.objects.visible_to`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from wealthscore.kernel.access import Action, may

from .kernel.errors import DomainError
from .models import AuditEntry


def require_audit_scope(user) -> None:
    if not may(user, Action.AUDIT):
        raise Http404


@dataclass(frozen=True)
class AuditFilters:
    """What the page's form and the API's query parameters filter by; empty is "any"."""

    who: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def parse(cls, params) -> AuditFilters:
        """From a QueryDict (`who`, `action`, `object_type`, `object_id`, `from`, `to`);
        a date that is not YYYY-MM-DD, or a range that ends before it starts, is a 400."""

        def text(name: str, longest: int) -> str:
            value = (params.get(name) or "").strip()
            if len(value) > longest:
                raise DomainError(
                    _("%(name)s is at most %(n)s characters.") % {"name": name, "n": longest},
                    field=name,
                )
            return value

        def day(name: str) -> dt.date | None:
            value = (params.get(name) or "").strip()
            if not value:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise DomainError(
                    _("%(name)s is a date written 2026-11-24, not %(value)s.")
                    % {"name": name, "value": value[:20]},
                    field=name,
                ) from None

        filters = cls(
            who=text("who", 150),
            action=text("action", 64),
            object_type=text("object_type", 64),
            object_id=text("object_id", 64),
            date_from=day("from"),
            date_to=day("to"),
        )
        if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
            raise DomainError(_("The date range ends before it starts."), field="to")
        return filters


def _start_of(day: dt.date) -> dt.datetime:
    # Days are Asia/Shanghai days; bounds on `at` itself keep its index usable.
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_entry_list(*, user, filters: AuditFilters = AuditFilters()) -> QuerySet[AuditEntry]:
    """Newest first. `who` is a username or an actor label ("job:", "command:demo");
    `action` "export" also finds "export.pay" and "export.talent"."""
    require_audit_scope(user)
    entries = AuditEntry.objects.visible_to(user).select_related("actor")
    if filters.who:
        entries = entries.filter(
            Q(actor__username__iexact=filters.who) | Q(actor_label__istartswith=filters.who)
        )
    if filters.action:
        entries = entries.filter(
            Q(action=filters.action) | Q(action__startswith=f"{filters.action}.")
        )
    if filters.object_type:
        entries = entries.filter(object_type=filters.object_type)
    if filters.object_id:
        entries = entries.filter(object_id=filters.object_id)
    if filters.date_from:
        entries = entries.filter(at__gte=_start_of(filters.date_from))
    if filters.date_to:
        entries = entries.filter(at__lt=_start_of(filters.date_to + dt.timedelta(days=1)))
    return entries.order_by("-at", "-id")
