from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from billing import triggers

        # SQLite triggers of the dashboard aggregates are reinstalled around every migrate (billing/triggers.py).
        pre_migrate.connect(triggers.drop_sqlite_triggers, sender=self, dispatch_uid="sib-billing-drop-sqlite-triggers")
        post_migrate.connect(
            triggers.install_sqlite_triggers, sender=self, dispatch_uid="sib-billing-install-sqlite-triggers"
        )
