from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class OrganisationsConfig(AppConfig):
    name = "organisations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from organisations import triggers

        # SQLite triggers are reinstalled around every migrate (see organisations/triggers.py).
        pre_migrate.connect(triggers.drop_sqlite_triggers, sender=self, dispatch_uid="sib-drop-sqlite-triggers")
        post_migrate.connect(triggers.install_sqlite_triggers, sender=self, dispatch_uid="sib-install-sqlite-triggers")
