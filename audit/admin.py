"""The audit log in the admin: admins only, read-only for everyone (no add, change or delete, superusers included)."""

from __future__ import annotations

from django.contrib import admin

from audit.models import AuditEvent
from organisations.admin import AdminOnlyMixin, ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(AdminOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who was shown or changed whose personal data; coordinators search their contracts' part at /audit/."""

    list_display = (
        "at",
        "user",
        "action",
        "object_type",
        "object_id",
        "candidate_id",
        "candidate_count",
        "contract",
        "ip",
    )
    list_filter = ("action", "object_type", ("contract", admin.RelatedOnlyFieldListFilter))
    search_fields = ("user__username", "object_id", "contract__code", "path")
    list_select_related = ("user", "contract")
    date_hierarchy = "at"
    show_full_result_count = False
