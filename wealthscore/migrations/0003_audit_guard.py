# Placeholder reserved for the audit work of issue 14 (filled in or removed before commit).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("wealthscore", "0002_audit_append_only")]
    operations: list = []
