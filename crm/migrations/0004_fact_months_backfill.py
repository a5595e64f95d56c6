"""Every month that already holds facts gets its first version (an installation upgraded
with data in place): its scores are then cached from the next recompute on."""

from django.db import migrations

MONTHS = """
INSERT INTO crm_factmonth (month, version)
SELECT DISTINCT month, 1 FROM (
  SELECT DISTINCT substr(CAST(as_of_date AS varchar(10)), 1, 7) AS month FROM crm_clientsnapshot
  UNION SELECT DISTINCT substr(CAST(txn_date AS varchar(10)), 1, 7) FROM crm_sale
  UNION SELECT DISTINCT substr(CAST(activity_date AS varchar(10)), 1, 7) FROM crm_activity
  UNION SELECT DISTINCT substr(CAST(survey_date AS varchar(10)), 1, 7) FROM crm_survey
  UNION SELECT DISTINCT substr(CAST(received_date AS varchar(10)), 1, 7) FROM crm_complaint
  UNION SELECT DISTINCT substr(CAST(check_date AS varchar(10)), 1, 7) FROM crm_recordingcheck
) months
"""


def backfill(apps, schema_editor):
    schema_editor.execute(MONTHS)


class Migration(migrations.Migration):
    dependencies = [("crm", "0003_fact_months")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
