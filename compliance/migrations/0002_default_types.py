from django.db import migrations

from compliance.defaults import install_incident_types


def install(apps, schema_editor):
    install_incident_types(apps.get_model("compliance", "IncidentType"))


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
