# Issue 14 (jobs): the outbox of tasks asked for in a transaction, sent after it commits.
import django.core.serializers.json
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("wealthscore", "0003_audit_guard")]
    operations = [
        migrations.CreateModel(
            name="Job",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("task_name", models.CharField(max_length=100, verbose_name="task")),
                (
                    "kwargs",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        encoder=django.core.serializers.json.DjangoJSONEncoder,
                        verbose_name="arguments",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                (
                    "dispatched_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="dispatched"),
                ),
                (
                    "send_attempts",
                    models.PositiveIntegerField(default=0, verbose_name="send attempts"),
                ),
                ("last_error", models.TextField(blank=True, verbose_name="last send error")),
            ],
            options={
                "verbose_name": "job",
                "verbose_name_plural": "jobs",
                "ordering": ["id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("dispatched_at__isnull", True)),
                        fields=["created_at"],
                        name="job_undispatched",
                    )
                ],
            },
        ),
    ]
