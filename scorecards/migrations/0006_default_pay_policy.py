from django.db import migrations


def install(apps, schema_editor):
    from scorecards.pay.outcomes import install_default_pay_policy

    install_default_pay_policy(apps.get_model("scorecards", "PayPolicy"))


class Migration(migrations.Migration):
    dependencies = [("scorecards", "0005_pay_policy")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
