"""Django's `flush`, refused unless DEBUG is on (a developer's machine) or the database is
a test database that Django's test runner set up.

`flush` empties every table, the audit log included: in production that is the erasure the
audit log must survive, so the command does not run there at all. Where it may run, the
audit table's TRUNCATE trigger (migration 0003) is disabled for the flush's own transaction
only, which only the tables' owner can do; the app role (`manage.py db_roles`) cannot.
"""

from __future__ import annotations

from django.conf import settings
from django.core import mail
from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import connections, transaction
from django.utils.translation import gettext as _

AUDIT_TABLE = "wealthscore_auditentry"
TRUNCATE_TRIGGER = "wealthscore_audit_no_truncate"


def under_test_runner() -> bool:
    """Django's test runner (and pytest-django) set up `mail.outbox`; nothing else does.
    TransactionTestCase empties the test database with `flush` after each test."""
    return hasattr(mail, "outbox")


def refuse_destruction_unless_debug(what: str) -> None:
    """Raise CommandError (exit status 1) for a destructive command when DEBUG is off."""
    if settings.DEBUG or under_test_runner():
        return
    raise CommandError(
        _(
            "%(what)s erases the database, the audit log included: it is refused when "
            "DJANGO_DEBUG is off (production). Nothing was changed."
        )
        % {"what": what}
    )


def _has_truncate_guard(connection) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = to_regclass(%s)",
            [TRUNCATE_TRIGGER, AUDIT_TABLE],
        )
        return cursor.fetchone() is not None


class Command(flush.Command):
    help = flush.Command.help + " Refused when DEBUG is off (production)."

    def handle(self, **options) -> None:
        refuse_destruction_unless_debug("flush")
        connection = connections[options["database"]]
        if not _has_truncate_guard(connection):
            super().handle(**options)
            return
        # ALTER TABLE … DISABLE TRIGGER is transactional on PostgreSQL: the guard is off for
        # this transaction's TRUNCATE only, and back on whether the flush commits or fails.
        with transaction.atomic(using=options["database"]):
            with connection.cursor() as cursor:
                # Deferred foreign-key checks still pending in this transaction would make
                # the ALTER fail: run them now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER {TRUNCATE_TRIGGER}")
            super().handle(**options)
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {AUDIT_TABLE} ENABLE TRIGGER {TRUNCATE_TRIGGER}")
