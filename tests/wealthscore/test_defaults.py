"""install_defaults(): every row a fresh bank needs, the same rows as the migrations'.

`demo --reset` and transactional tests flush the database, which empties what the data
migrations installed; install_defaults() puts back the same scheme, pay policy, distribution
profiles and incident types, and never overwrites a row an admin edited.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.management import call_command

from compliance.models import IncidentType
from scorecards.models import Kpi, PayPolicy, Scheme, SchemeMeasure, SchemeVersion
from targets.models import DistributionProfile
from wealthscore.defaults import install_defaults

MODELS = [Scheme, SchemeVersion, Kpi, SchemeMeasure, PayPolicy, DistributionProfile, IncidentType]


def snapshot(model) -> list[tuple[str, ...]]:
    """The model's rows by their own values: no keys, links or creation times, which a
    second install numbers and stamps anew."""
    fields = [
        f.attname
        for f in model._meta.concrete_fields
        if not f.primary_key
        and not f.is_relation
        and not getattr(f, "auto_now", False)
        and not getattr(f, "auto_now_add", False)
    ]
    return sorted(tuple(str(v) for v in row) for row in model.objects.values_list(*fields))


def test_after_a_flush_it_installs_what_the_migrations_did(db):
    migrated = {model: snapshot(model) for model in MODELS}
    assert all(migrated.values()), {m.__name__: len(rows) for m, rows in migrated.items()}
    call_command("flush", interactive=False, verbosity=0)
    assert not any(model.objects.exists() for model in MODELS)
    install_defaults()
    assert {model: snapshot(model) for model in MODELS} == migrated


def test_it_adds_what_is_missing_and_leaves_edited_rows_alone(db):
    policy = PayPolicy.objects.get()
    policy.top_pct = Decimal("25.00")
    policy.save()
    IncidentType.objects.filter(code="complaint").update(name="客户投诉（已改名）", is_veto=True)
    IncidentType.objects.filter(code="other").delete()
    strong_start = DistributionProfile.objects.get(name="开门红")
    edited = [1500, 1000, 500] + [800] * 7 + [700] * 2
    for month, share in enumerate(edited, start=1):
        setattr(strong_start, f"m{month:02d}", share)
    strong_start.save()
    DistributionProfile.objects.filter(name="均匀分布").delete()
    SchemeVersion.objects.update(note="edited by an admin")

    install_defaults()
    install_defaults()  # and again: nothing doubles

    assert PayPolicy.objects.get().top_pct == Decimal("25.00")
    complaint = IncidentType.objects.get(code="complaint")
    assert (complaint.name, complaint.is_veto) == ("客户投诉（已改名）", True)
    assert IncidentType.objects.filter(code="other").count() == 1
    assert DistributionProfile.objects.get(name="开门红").shares[:3] == [15, 10, 5]
    assert sum(DistributionProfile.objects.get(name="均匀分布").shares) == 100
    assert DistributionProfile.objects.count() == 2
    assert Scheme.objects.count() == 1
    assert list(SchemeVersion.objects.values_list("note", flat=True)) == ["edited by an admin"]


def test_it_works_with_a_migrations_historical_models(db):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    state = MigrationExecutor(connection).loader.project_state()
    call_command("flush", interactive=False, verbosity=0)
    install_defaults(state.apps)
    assert PayPolicy.objects.count() == 1
    assert DistributionProfile.objects.count() == 2
    assert IncidentType.objects.filter(is_veto=True).count() == 2
    assert SchemeMeasure.objects.exists()
