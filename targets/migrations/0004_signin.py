# Placeholder reserved for the sign-in work of issue 14 (filled in or removed before commit).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("targets", "0003_targets_plan")]
    operations: list = []
