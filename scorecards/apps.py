from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "scorecards"

    def ready(self) -> None:
        from wealthscore.kernel import events

        from scorecards import loaders  # noqa: F401 - registers the manual scores loader with crm
        from scorecards.services import refuse_vetoes_in_approved_periods

        events.vetoes_changing.connect(
            refuse_vetoes_in_approved_periods, dispatch_uid="scorecards.approved_periods"
        )
