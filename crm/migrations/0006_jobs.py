# Placeholder reserved for the jobs work of issue 14 (filled in or removed before commit).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0005_snapshot_holdings_summary")]
    operations: list = []
