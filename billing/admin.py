"""Admin for billing records: read-only for everyone, admins included, because they are append-only (B10)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from billing.models import (
    CapitalDisbursement,
    Dispute,
    Document,
    DocumentEmail,
    DocumentLine,
    JournalEntry,
    Payment,
    Posting,
    ReferralLottery,
    Settlement,
)
from billing.portal_selectors import disputes_for_user, lotteries_for_user
from billing.selectors import (
    DISBURSEMENT_ROLES,
    DOCUMENT_ROLES,
    LEDGER_ROLES,
    PAYMENT_ROLES,
    disbursements_for_user,
    document_lines_for_user,
    documents_for_user,
    journal_entries_for_user,
    payments_for_user,
    postings_for_user,
    settlements_for_user,
)
from candidates.admin import HistoryAuditOnlyMixin
from organisations.admin import ReadOnlyAdminMixin, ScopedInlineMixin
from organisations.models import Role


class ReadOnlyInline(ScopedInlineMixin, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    parent_admin_may_change = False
    show_change_link = True

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.fields or [field.name for field in self.model._meta.fields])


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    view_roles = DOCUMENT_ROLES
    list_display = ("contract", "week_label", "settled_at", "as_of", "document_number")
    list_filter = (("contract", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("contract__code",)
    list_select_related = ("contract", "document")
    date_hierarchy = "week"

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return settlements_for_user(user)

    @admin.display(description=_("week"), ordering="week")
    def week_label(self, obj: Settlement) -> str:
        return obj.week_label

    @admin.display(description=_("document"))
    def document_number(self, obj: Settlement) -> str:
        document = getattr(obj, "document", None)
        return document.number if document is not None else "-"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The reverse one-to-one to the document is read per row; join it (a settlement has zero or one).
        return super().get_queryset(request).select_related("contract", "document")


class DocumentLineInline(ReadOnlyInline):
    model = DocumentLine
    fields = ("candidate", "week", "outcome", "rate_card_version", "price", "amount", "adjustment")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .select_related("candidate", "candidate__contract", "rate_card_version", "rate_card_version__contract")
        )


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    view_roles = DOCUMENT_ROLES
    inlines = (DocumentLineInline,)
    list_display = ("number", "kind", "contract", "week_label", "issue_date", "due_date", "subtotal", "vat", "total")
    list_filter = ("kind", ("contract", admin.RelatedOnlyFieldListFilter))
    search_fields = ("number", "contract__code")
    list_select_related = ("contract",)
    date_hierarchy = "issue_date"

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return documents_for_user(user)

    @admin.display(description=_("week"), ordering="week")
    def week_label(self, obj: Document) -> str:
        return obj.week_label


@admin.register(DocumentLine)
class DocumentLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    view_roles = DOCUMENT_ROLES
    list_display = ("document", "candidate", "week_label", "outcome", "price", "amount", "adjustment")
    list_filter = ("adjustment", "outcome", ("document__contract", admin.RelatedOnlyFieldListFilter))
    search_fields = ("document__number", "candidate__ref")
    list_select_related = ("document", "candidate", "candidate__contract")

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return document_lines_for_user(user)

    @admin.display(description=_("week"), ordering="week")
    def week_label(self, obj: DocumentLine) -> str:
        return obj.week_label


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    view_roles = PAYMENT_ROLES
    list_display = ("document", "paid_on", "amount", "note", "recorded_by")
    list_filter = (("document__contract", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("document__number", "note")
    list_select_related = ("document", "recorded_by")
    date_hierarchy = "paid_on"

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return payments_for_user(user)


@admin.register(CapitalDisbursement)
class CapitalDisbursementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    view_roles = DISBURSEMENT_ROLES
    list_display = ("contract", "investor", "disbursed_on", "amount", "note", "recorded_by")
    list_filter = (("contract", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("contract__code", "investor__organisation__name", "note")
    list_select_related = ("contract", "investor", "investor__organisation", "investor__contract", "recorded_by")
    date_hierarchy = "disbursed_on"

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return disbursements_for_user(user)


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = ("account", "debit", "credit")
    show_change_link = False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    view_roles = LEDGER_ROLES
    inlines = (PostingInline,)
    list_display = ("contract", "posted_on", "kind", "memo")
    list_filter = ("kind", ("contract", admin.RelatedOnlyFieldListFilter))
    search_fields = ("memo", "contract__code")
    list_select_related = ("contract",)
    date_hierarchy = "posted_on"

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return journal_entries_for_user(user)


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    view_roles = LEDGER_ROLES
    list_display = ("entry", "account", "debit", "credit")
    list_filter = ("account", ("entry__contract", admin.RelatedOnlyFieldListFilter))
    search_fields = ("entry__memo", "entry__contract__code")
    list_select_related = ("entry", "entry__contract")

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return postings_for_user(user)


# --- the municipality portal's records: changed only through the portal's services ------------------------


@admin.register(Dispute)
class DisputeAdmin(HistoryAuditOnlyMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Raised and resolved in the portal (resolving corrects the status under the import rules); here to read."""

    view_roles = DOCUMENT_ROLES
    list_display = ("document", "line", "claimed_outcome", "status", "raised_by", "raised_at", "resolved_at")
    list_filter = ("status", ("document__contract", admin.RelatedOnlyFieldListFilter))
    search_fields = ("document__number", "line__candidate__ref", "reason", "resolution_note")
    list_select_related = ("document", "line", "line__document", "raised_by")
    date_hierarchy = "raised_at"

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return disputes_for_user(user)


@admin.register(ReferralLottery)
class ReferralLotteryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Recorded referral draws. The lists of keyed CPR hashes are left out: counts say enough here."""

    view_roles = (Role.MUNICIPALITY, Role.COORDINATOR, Role.CONSULTANT)
    list_display = ("contract", "drawn_at", "eligible_count", "referred_count", "referral_date", "seed", "drawn_by")
    list_filter = (("contract", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("contract__code", "seed")
    list_select_related = ("contract", "drawn_by")
    date_hierarchy = "drawn_at"
    exclude = ("eligible", "referred", "comparison")

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return lotteries_for_user(user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        hidden = set(self.exclude or ())
        return [name for name in super().get_readonly_fields(request, obj) if name not in hidden] + ["eligible_count"]

    @admin.display(description=_("eligible"))
    def eligible_count(self, obj: ReferralLottery) -> int:
        return len(obj.eligible or [])


@admin.register(DocumentEmail)
class DocumentEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    view_roles = DOCUMENT_ROLES
    list_display = ("document", "recipient", "sent_at")
    search_fields = ("document__number", "recipient")
    list_select_related = ("document",)
    date_hierarchy = "sent_at"

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return DocumentEmail.objects.filter(document__in=documents_for_user(user).values("pk"))
