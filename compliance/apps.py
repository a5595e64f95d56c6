from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"

    def ready(self) -> None:
        from wealthscore.kernel import events

        from .receivers import raise_warnings

        events.batch_loaded.connect(raise_warnings, dispatch_uid="compliance.raise_warnings")
