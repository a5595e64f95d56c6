from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "wealthscore.signin"
    label = "signin"
    verbose_name = "WealthScore sign-in"

    def ready(self) -> None:
        # Every way in (the login page, the token endpoint, the admin site's login, LDAP)
        # goes through django.contrib.auth's signals: audit them in one place.
        from . import receivers  # noqa: F401
