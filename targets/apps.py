from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TargetsConfig(AppConfig):
    name = "targets"
    verbose_name = _("Organisation and targets")

    def ready(self) -> None:
        # The plan registers its file's loader with crm's pipeline (crm sits below the plan).
        from targets.plan import loaders  # noqa: F401
