# Placeholder reserved for the jobs work of issue 14 (filled in or removed before commit).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("wealthscore", "0003_audit_guard")]
    operations: list = []
