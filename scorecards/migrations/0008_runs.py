# Issue 14 (jobs): the runs of one recompute are a group, made current together; runs and
# chunks count the deliveries of their tasks; a run records when it was scored.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scorecards", "0007_measure_segments"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    operations = [
        migrations.CreateModel(
            name="ScoreRunGroup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("trigger", models.CharField(max_length=60, verbose_name="trigger")),
                ("codes", models.JSONField(blank=True, default=list, verbose_name="periods")),
                (
                    "status",
                    models.CharField(
                        choices=[("running", "Running"), ("done", "Done"), ("failed", "Failed")],
                        default="running",
                        max_length=8,
                        verbose_name="status",
                    ),
                ),
                ("fan_out", models.BooleanField(default=False, verbose_name="fanned out")),
                ("error", models.TextField(blank=True, verbose_name="error")),
                ("recover", models.BooleanField(default=False, verbose_name="to recover")),
                (
                    "recovered_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="recovered"),
                ),
                (
                    "recoveries",
                    models.PositiveSmallIntegerField(default=0, verbose_name="recoveries"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="started")),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="finished"),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "retry_of",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="scorecards.scorerungroup",
                    ),
                ),
            ],
            options={
                "verbose_name": "score run group",
                "verbose_name_plural": "score run groups",
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("recover", True), ("recovered_at__isnull", True)),
                        fields=["created_at"],
                        name="scorerungroup_to_recover",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="scorerun",
            name="group",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="runs",
                to="scorecards.scorerungroup",
            ),
        ),
        migrations.AddField(
            model_name="scorerun",
            name="scored_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="scored"),
        ),
        migrations.AddField(
            model_name="scorerun",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="attempts"),
        ),
        migrations.AddField(
            model_name="scorerunchunk",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="attempts"),
        ),
    ]
