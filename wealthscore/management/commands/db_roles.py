"""Print (or apply) the SQL that creates the login role the web app and workers run as.

The role may read and write the app's tables but only INSERT and SELECT the audit log, and
it owns none of the tables the owner's migrations created: it cannot UPDATE, DELETE or
TRUNCATE audit rows, nor `ALTER TABLE … DISABLE TRIGGER` / drop the append-only triggers
(only an owner may). Run `migrate` as the owner, then this as the owner (or a superuser);
run gunicorn and Celery as the app role. See README, Production.

One exception to "owns nothing": the month-partitioned fact tables (holdings and client
snapshots). A holdings load builds the month in a table of its own and swaps it in with
ATTACH / DETACH PARTITION (crm.loaders.swap_month), which PostgreSQL allows only to the
owner of the partitioned table. So those trees belong to the app role, the owner role is
made a member of it (its migrations may still alter them), and the app role may CREATE in
the schema (the month tables it swaps in). It is never a member of the owner role.
"""

from __future__ import annotations

import os
import re

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from wealthscore.models import AuditEntry

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _literal(text: str) -> str:
    # standard_conforming_strings is on (PostgreSQL's default since 9.1): only ' needs doubling.
    return "'" + text.replace("'", "''") + "'"


def role_sql(
    *, app_role: str, owner_role: str, database: str, schema: str = "public",
    password: str | None = None, owner_is_superuser: bool = False,
) -> list[str]:  # fmt: skip
    """The statements, in order; idempotent (run it again after each deploy's migrate)."""
    for name in (app_role, owner_role, schema):
        if not ROLE_NAME.match(name):
            raise ValueError(f"not a plain lower-case SQL name: {name!r}")
    if app_role == owner_role:
        raise ValueError("the app role must not be the owner role")
    if not re.match(r"^[A-Za-z0-9_]{1,63}$", database):
        raise ValueError(f"not a plain database name: {database!r}")
    audit = AuditEntry._meta.db_table
    flags = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT"
    statements = [
        "DO $$ BEGIN "
        f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(app_role)}) THEN "
        f"CREATE ROLE {app_role} {flags}; END IF; END $$",
        f"ALTER ROLE {app_role} {flags}",
    ]
    if password is not None:
        statements.append(f"ALTER ROLE {app_role} PASSWORD {_literal(password)}")
    # The owner may act as the app role (below: the partition trees), never the reverse.
    statements.append(
        "DO $$ BEGIN "
        f"IF pg_has_role({_literal(app_role)}, {_literal(owner_role)}, 'MEMBER') THEN "
        f"RAISE EXCEPTION 'role {app_role} is a member of the owner {owner_role}: revoke it'; "
        "END IF; END $$"
    )
    if not owner_is_superuser:
        statements.append(f"GRANT {app_role} TO {owner_role}")
    statements += [
        f"REVOKE ALL ON DATABASE {database} FROM {app_role}",
        f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {app_role}",
        f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {app_role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {app_role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {app_role}",
        # The audit log: append and read, nothing else.
        f"REVOKE ALL ON {audit} FROM {app_role}",
        f"GRANT SELECT, INSERT ON {audit} TO {app_role}",
        # Tables and sequences the owner's later migrations create.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_role} IN SCHEMA {schema} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app_role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_role} IN SCHEMA {schema} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {app_role}",
        # The month-partitioned fact tables, with every partition: the app swaps months.
        # Also a month table a killed load left unattached (`<parent>_m…`): the next load of
        # that month drops it, which only its owner may.
        "DO $$ DECLARE t regclass; BEGIN "
        "FOR t IN SELECT tree.relid FROM pg_class p "
        "CROSS JOIN LATERAL pg_partition_tree(p.oid) tree "
        f"WHERE p.relkind = 'p' AND p.relnamespace = {_literal(schema)}::regnamespace "
        "AND p.relispartition = false "
        "UNION SELECT c.oid::regclass FROM pg_class p JOIN pg_class c "
        "ON c.relnamespace = p.relnamespace AND c.relkind = 'r' AND NOT c.relispartition "
        "AND c.relname LIKE replace(p.relname, '_', '\\_') || '\\_m%' "
        f"WHERE p.relkind = 'p' AND p.relnamespace = {_literal(schema)}::regnamespace "
        "AND p.relispartition = false "
        f"LOOP EXECUTE format('ALTER TABLE %s OWNER TO {app_role}', t); END LOOP; END $$",
    ]
    return statements


class Command(BaseCommand):
    help = (
        "Print the SQL creating the app's database login role (INSERT/SELECT only on the "
        "audit log, owner of no table but the month partitions); --apply runs it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--app-role", default="wealthscore_app")
        parser.add_argument(
            "--owner-role",
            help="the role that owns the tables and runs migrate (default: the current user)",
        )
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="set the app role's password from this environment variable "
            "(never on the command line: it would show in the process list)",
        )
        parser.add_argument("--apply", action="store_true", help="run the SQL, in one transaction")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are for PostgreSQL; this database is not.")
        password = None
        if options["password_env"]:
            password = os.environ.get(options["password_env"])
            if not password:
                raise CommandError(f"{options['password_env']} is empty or not set.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database()")
            current_user, database = cursor.fetchone()
            owner = options["owner_role"] or current_user
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [owner])
            row = cursor.fetchone()
        if row is None:
            raise CommandError(f"No role {owner} on this server.")
        try:
            statements = role_sql(
                app_role=options["app_role"], owner_role=owner, database=database,
                password=password, owner_is_superuser=bool(row[0]),
            )  # fmt: skip
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not options["apply"]:
            shown = [
                s if "PASSWORD" not in s else s.split(" PASSWORD ")[0] + " PASSWORD '…'"
                for s in statements
            ]
            self.stdout.write(";\n".join(shown) + ";\n")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(
            f"Role {options['app_role']} ready on {database}: INSERT and SELECT only on "
            f"{AuditEntry._meta.db_table}; the tables stay {owner}'s but for the month "
            "partitions, which the holdings load swaps."
        )
