"""The default scheme of SPEC §5 (fixtures/default_scheme.json), in every database."""

from django.db import migrations


def install(apps, schema_editor):
    from scorecards.schemes.services import install_default_scheme

    install_default_scheme(apps)


class Migration(migrations.Migration):
    dependencies = [("scorecards", "0002_scoring")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
