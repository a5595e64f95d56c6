# Issue 14 (jobs): a running import batch records who owns it and when it last showed life.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("crm", "0005_snapshot_holdings_summary")]
    operations = [
        migrations.AddField(
            model_name="importbatch",
            name="owner",
            field=models.CharField(blank=True, max_length=100, verbose_name="owner"),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last sign of life"),
        ),
    ]
