from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "scorecards"

    def ready(self) -> None:
        from scorecards.cards import loaders as loaders
        from scorecards.periods.services import refuse_decisions_in_locked_periods
        from wealthscore.kernel import events

        events.vetoes_changing.connect(
            refuse_decisions_in_locked_periods, dispatch_uid="scorecards.approved_periods"
        )
