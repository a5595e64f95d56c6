from django.apps import AppConfig


class WealthscoreConfig(AppConfig):
    name = "wealthscore"
    verbose_name = "WealthScore"
