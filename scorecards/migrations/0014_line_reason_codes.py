"""A line's not-applicable reason is stored as a code with parameters (scorecards/messages.py),
rendered in the reader's language. An existing line keeps its sentence, whole, as the code
`legacy` with {"text": …}: nothing is lost, and one UPDATE moves every row (set-based)."""

from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import JSONObject


def keep_old_sentences(apps, schema_editor):
    ScoreLine = apps.get_model("scorecards", "ScoreLine")
    ScoreLine.objects.exclude(reason="").update(
        reason_code="legacy", reason_params=JSONObject(text=F("reason"))
    )


def back_to_sentences(apps, schema_editor):
    # The reverse keeps only the legacy texts; a code stored since reads as its code.
    ScoreLine = apps.get_model("scorecards", "ScoreLine")
    ScoreLine.objects.filter(reason_code="legacy").update(reason=F("reason_params__text"))
    ScoreLine.objects.exclude(reason_code__in=["", "legacy"]).update(reason=F("reason_code"))


class Migration(migrations.Migration):
    dependencies = [
        ("scorecards", "0013_exact_figures"),
    ]

    operations = [
        migrations.AddField(
            model_name="scoreline",
            name="reason_code",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name="scoreline",
            name="reason_params",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(keep_old_sentences, back_to_sentences, elidable=False),
        migrations.RemoveField(model_name="scoreline", name="reason"),
        migrations.AlterField(
            model_name="scorecard",
            name="rating",
            field=models.CharField(
                blank=True,
                choices=[
                    ("A", "A Excellent"),
                    ("B", "B Good"),
                    ("C", "C Satisfactory"),
                    ("D", "D Unsatisfactory"),
                ],
                max_length=1,
                verbose_name="rating",
            ),
        ),
        # Labels only (English msgids, the Chinese in the catalogue): no change in the tables.
        migrations.AlterField(
            model_name="kpi",
            name="dimension",
            field=models.CharField(
                choices=[
                    ("performance", "Performance"),
                    ("service", "Client service"),
                    ("compliance", "Compliance"),
                    ("teamwork", "Teamwork"),
                    ("bonus", "Bonus"),
                ],
                max_length=12,
                verbose_name="dimension",
            ),
        ),
    ]
