"""A batch's row errors and outcome are stored as codes with parameters (crm/messages.py),
rendered in the reader's language. The row errors keep their column (`errors`) under a new
field name; the outcome moves to `notice`. What earlier batches hold stays readable, whole:
each sentence becomes the code `legacy` with {"text": …}."""

from django.db import migrations, models
from django.db.models import F, Value
from django.db.models.functions import JSONObject


def _legacy(value):
    if isinstance(value, str) and value:
        return {"code": "legacy", "params": {"text": value}}
    return value


def keep_old_sentences(apps, schema_editor):
    ImportBatch = apps.get_model("crm", "ImportBatch")
    ImportBatch.objects.exclude(message="").update(
        notice=JSONObject(code=Value("legacy"), params=JSONObject(text=F("message")))
    )
    # Row errors are JSON lists (at most 1,000 a batch): rewritten batch by batch, in bulk.
    changed = []
    for batch in ImportBatch.objects.exclude(row_errors=[]).only("pk", "row_errors").iterator():
        for entry in batch.row_errors:
            for key in ("reason", "fix"):
                if key in entry:
                    entry[key] = _legacy(entry[key])
        changed.append(batch)
        if len(changed) == 200:
            ImportBatch.objects.bulk_update(changed, ["row_errors"])
            changed = []
    ImportBatch.objects.bulk_update(changed, ["row_errors"])


def back_to_sentences(apps, schema_editor):
    ImportBatch = apps.get_model("crm", "ImportBatch")
    ImportBatch.objects.filter(notice__code="legacy").update(message=F("notice__params__text"))


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0008_nightly_runs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField("importbatch", "errors", "row_errors"),
                migrations.AlterField(
                    model_name="importbatch",
                    name="row_errors",
                    field=models.JSONField(
                        blank=True, db_column="errors", default=list, verbose_name="row errors"
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="importbatch",
            name="notice",
            field=models.JSONField(blank=True, default=dict, verbose_name="message"),
        ),
        migrations.RunPython(keep_old_sentences, back_to_sentences, elidable=False),
        migrations.RemoveField(model_name="importbatch", name="message"),
    ]
