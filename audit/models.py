"""The personal data audit log: one append-only line per view, export, API read or change of personal data.

A line names people only by ids (candidate, user), never by name or CPR number, so pseudonymising a
candidate never needs to touch the log; and it never changes: the ORM guard below refuses updates and
deletes, the admin offers neither, and on PostgreSQL a trigger refuses them in SQL (migration 0002).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from organisations.models import Contract


class AuditLogImmutableError(Exception):
    """An attempt to change or delete a line of the audit log."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditLogImmutableError("The audit log is append-only: its lines cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogImmutableError("The audit log is append-only: its lines cannot be deleted.")


class AuditEvent(models.Model):
    """Who did what to whose personal data, when and from where."""

    class Action(models.TextChoices):
        VIEW_PAGE = "view_page", _("Page viewed")
        VIEW_LIST = "view_list", _("List viewed")
        REVEAL_CPR = "reveal_cpr", _("CPR number revealed")
        EXPORT = "export", _("Exported")
        API_READ = "api_read", _("Read through the API")
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        IMPORT = "import", _("Imported")
        PSEUDONYMISE = "pseudonymise", _("Pseudonymised")
        KEY_ROTATION = "key_rotation", _("Key rotated")

    at = models.DateTimeField(_("at"), db_index=True)
    # PROTECT: users are deactivated, never deleted, while the log names them. Null: the system (commands, tasks).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=40, blank=True)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    # The candidate as a plain id, not a foreign key: the log outlives the row and never blocks its erasure.
    candidate_id = models.BigIntegerField(_("candidate id"), null=True, blank=True)
    # Events about many candidates (a list, an export, an import): their ids as ",12,15,", so "every event
    # naming candidate 12" is one `contains ",12,"` on PostgreSQL and SQLite alike, and the event one INSERT.
    candidate_ids = models.TextField(_("candidate ids"), blank=True)
    candidate_count = models.PositiveIntegerField(_("candidates"), default=0)
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("contract")
    )
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=200, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    # Field names and counts only, never the personal values themselves.
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["candidate_id", "at"], name="auditevent_candidate_at_idx"),
            models.Index(fields=["contract", "at"], name="auditevent_contract_at_idx"),
            models.Index(fields=["user", "at"], name="auditevent_user_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="auditevent_action_valid",
                condition=models.Q(
                    action__in=[
                        "view_page",
                        "view_list",
                        "reveal_cpr",
                        "export",
                        "api_read",
                        "create",
                        "update",
                        "delete",
                        "import",
                        "pseudonymise",
                        "key_rotation",
                    ]
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id or '-'} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogImmutableError(f"Audit event {self.pk} cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogImmutableError(f"Audit event {self.pk} cannot be deleted.")

    @property
    def candidate_id_list(self) -> list[int]:
        ids = [int(part) for part in self.candidate_ids.split(",") if part]
        if self.candidate_id and self.candidate_id not in ids:
            ids.insert(0, self.candidate_id)
        return ids
