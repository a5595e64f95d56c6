"""Each client snapshot keeps what the month's holdings say of her (crm.holdings): the months
already loaded are summarised from their stored holdings."""

from django.db import migrations, models


def summarise(apps, schema_editor):
    from crm.holdings import summarise_holdings

    summarise_holdings(schema_editor.connection, reset=False)  # the columns are new: empty


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_fact_months_backfill")]
    operations = [
        migrations.AddField(
            model_name="clientsnapshot",
            name="non_deposit_categories",
            field=models.PositiveSmallIntegerField(
                db_default=0, verbose_name="non-deposit categories held"
            ),
        ),
        migrations.AddField(
            model_name="clientsnapshot",
            name="holds_trust",
            field=models.BooleanField(db_default=False, verbose_name="holds a trust"),
        ),
        migrations.RunPython(summarise, migrations.RunPython.noop),
    ]
