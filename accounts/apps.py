"""The accounts app: login hardening (lockout, two-factor, session timeout, password reset)."""

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import sessions

        # A fresh login starts both clocks of the session timeout (idle and absolute).
        user_logged_in.connect(sessions.session_clock_start, dispatch_uid="sib-session-clock-start")
