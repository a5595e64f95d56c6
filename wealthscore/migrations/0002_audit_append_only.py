"""The audit log is append-only in the database too, not only in the ORM (PostgreSQL)."""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION wealthscore_audit_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER wealthscore_audit_append_only
    BEFORE UPDATE OR DELETE ON wealthscore_auditentry
    FOR EACH ROW EXECUTE FUNCTION wealthscore_audit_forbid_change();
"""
ALLOW = """
DROP TRIGGER IF EXISTS wealthscore_audit_append_only ON wealthscore_auditentry;
DROP FUNCTION IF EXISTS wealthscore_audit_forbid_change();
"""


def forbid(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID)


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW)


class Migration(migrations.Migration):
    dependencies = [("wealthscore", "0001_initial")]
    operations = [migrations.RunPython(forbid, allow)]
