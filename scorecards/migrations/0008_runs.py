# Placeholder reserved for the jobs work of issue 14 (filled in or removed before commit).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scorecards", "0007_measure_segments")]
    operations: list = []
