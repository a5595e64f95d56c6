"""The audit log cannot be emptied either (PostgreSQL): a statement-level trigger refuses
TRUNCATE, which the row triggers of 0002 never see. Together with an app role that holds
only INSERT and SELECT on the table and does not own it (`manage.py db_roles`), nothing the
web app or the workers run can remove an audit row. SQLite keeps the ORM's guards only.
"""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION wealthscore_audit_forbid_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only: TRUNCATE refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER wealthscore_audit_no_truncate
    BEFORE TRUNCATE ON wealthscore_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION wealthscore_audit_forbid_truncate();
"""
ALLOW = """
DROP TRIGGER IF EXISTS wealthscore_audit_no_truncate ON wealthscore_auditentry;
DROP FUNCTION IF EXISTS wealthscore_audit_forbid_truncate();
"""


def forbid(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID)


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW)


class Migration(migrations.Migration):
    dependencies = [("wealthscore", "0002_audit_append_only")]
    operations = [migrations.RunPython(forbid, allow)]
