# Placeholder reserved for the files work of issue 14 (filled in or removed before commit).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0006_jobs")]
    operations: list = []
