"""Every row a fresh bank needs before its first import: one function for all of them.

The default scheme (SPEC §5), the pay policy (§7), the distribution profiles (§3) and the
incident types (§6). The migrations install each piece at its point in the history, with
their historical models; `demo --reset` and the tests call `install_defaults()` after a
flush, which empties what the migrations installed. Each piece only creates what is
missing: a row an admin edited is left as it is.
"""

from __future__ import annotations

from django.db import transaction


@transaction.atomic
def install_defaults(apps=None) -> None:
    """Install the missing defaults. `apps` is a migration's app registry (historical
    models); without it the current models are used."""
    # Imported here: wealthscore is the bottom layer, these are the apps above it.
    from compliance.defaults import install_incident_types
    from scorecards.pay.outcomes import install_default_pay_policy
    from scorecards.schemes.services import install_default_scheme
    from targets.defaults import install_distribution_profiles

    if apps is None:
        from django.apps import apps as registry
    else:
        registry = apps
    install_default_scheme(apps)
    install_default_pay_policy(registry.get_model("scorecards", "PayPolicy"))
    install_distribution_profiles(registry.get_model("targets", "DistributionProfile"))
    install_incident_types(registry.get_model("compliance", "IncidentType"))
