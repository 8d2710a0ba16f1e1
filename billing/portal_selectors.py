"""Reads for the municipality portal: document status derived from payments, disputes and credit notes.

A document's status is never stored (documents are immutable, B10): it is computed in the same query
that lists the documents. Scoping always starts from billing.selectors / organisations.selectors.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from billing.models import Dispute, Document, DocumentLine, Payment, ReferralLottery
from billing.selectors import documents_for_user
from common.money import ZERO
from organisations.models import Contract, Role
from organisations.selectors import contracts_for_user, is_admin

# SQLite sums decimals as floats: a fully paid invoice may sum to a hair under its total.
_HALF_ORE = Decimal("0.005")


class DocumentStatus:
    ISSUED = "issued"
    PAID = "paid"
    PARTLY_PAID = "partly_paid"
    DISPUTED = "disputed"
    CREDITED = "credited"

    choices = [
        (ISSUED, _("Issued")),
        (PAID, _("Paid")),
        (PARTLY_PAID, _("Partly paid")),
        (DISPUTED, _("Disputed")),
        (CREDITED, _("Credited")),
    ]
    values = [value for value, _label in choices]
    labels = dict(choices)


def documents_with_status(documents: QuerySet[Document]) -> QuerySet[Document]:
    """Annotate `amount_paid`, `open_disputes` and `status` (disputed > paid > partly paid > credited > issued).

    `credited`: a credit note names the invoice as the one it corrects (OIOUBL BillingReference).
    """
    money = DecimalField(max_digits=14, decimal_places=2)
    paid = (
        Payment.objects.filter(document=OuterRef("pk"))
        .order_by()
        .values("document")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    open_disputes = (
        Dispute.objects.filter(document=OuterRef("pk"), status=Dispute.Status.OPEN)
        .order_by()
        .values("document")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return documents.annotate(
        amount_paid=Coalesce(Subquery(paid, output_field=money), Value(ZERO), output_field=money),
        open_disputes=Coalesce(Subquery(open_disputes), Value(0)),
        credited=Exists(Document.objects.filter(corrects=OuterRef("pk"))),
    ).annotate(
        status=Case(
            When(open_disputes__gt=0, then=Value(DocumentStatus.DISPUTED)),
            When(
                kind=Document.Kind.INVOICE,
                total__gt=0,
                amount_paid__gte=F("total") - Value(_HALF_ORE, output_field=money),
                then=Value(DocumentStatus.PAID),
            ),
            When(amount_paid__gt=0, then=Value(DocumentStatus.PARTLY_PAID)),
            When(credited=True, then=Value(DocumentStatus.CREDITED)),
            default=Value(DocumentStatus.ISSUED),
            output_field=CharField(),
        )
    )


def portal_documents_for_user(user: object) -> QuerySet[Document]:
    """The user's documents with parties and derived status, newest first (one query per page)."""
    return documents_with_status(
        documents_for_user(user).select_related("contract__payee", "contract__operator", "corrects")
    ).order_by("-issue_date", "-seq", "-pk")


def document_lines_with_disputes(document: Document) -> QuerySet[DocumentLine]:
    """A document's lines in print order with candidate and every dispute (two queries for any size)."""
    disputes = Dispute.objects.select_related("raised_by", "resolved_by").order_by("raised_at", "pk")
    return (
        DocumentLine.objects.filter(document=document)
        .select_related("candidate")
        .prefetch_related(Prefetch("disputes", queryset=disputes))
        .order_by("week", "candidate__ref", "pk")
    )


def disputes_for_user(user: object) -> QuerySet[Dispute]:
    """Disputes of the documents the user may see (the municipality and the operator's coordinator)."""
    return Dispute.objects.filter(document__in=documents_for_user(user).values("pk")).select_related(
        "document", "document__contract", "line", "line__candidate", "raised_by", "resolved_by"
    )


def disputes_resolvable_by(user: object) -> QuerySet[Dispute]:
    """Disputes the user may resolve: those of the contracts they coordinate (admins all)."""
    queryset = disputes_for_user(user)
    if is_admin(user):
        return queryset
    return queryset.filter(document__contract__in=contracts_for_user(user, roles=[Role.COORDINATOR]))


def lines_disputable_by(user: object) -> QuerySet[DocumentLine]:
    """Lines the user may dispute: those of the contracts where they are the municipality (admins all)."""
    queryset = DocumentLine.objects.select_related("document", "document__contract", "candidate")
    if is_admin(user):
        return queryset.all()
    return queryset.filter(
        document__in=documents_for_user(user).values("pk"),
        document__contract__in=contracts_for_user(user, roles=[Role.MUNICIPALITY]),
    )


def payable_documents_for_user(user: object) -> QuerySet[Document]:
    """Documents the user may record payments on: the paying municipality and the coordinator (SPEC 5)."""
    queryset = documents_for_user(user)
    if is_admin(user):
        return queryset
    return queryset.filter(contract__in=contracts_for_user(user, roles=[Role.MUNICIPALITY, Role.COORDINATOR]))


def referral_contracts_for_user(user: object) -> QuerySet[Contract]:
    """Contracts the user may refer candidates to: the municipality's own (admins all)."""
    return contracts_for_user(user, roles=[Role.MUNICIPALITY])


def lotteries_for_user(user: object) -> QuerySet[ReferralLottery]:
    """Referral lotteries of the contracts whose candidates the user sees (municipality, operator staff)."""
    queryset = ReferralLottery.objects.select_related("contract", "drawn_by")
    if is_admin(user):
        return queryset.all()
    roles = [Role.MUNICIPALITY, Role.COORDINATOR, Role.CONSULTANT]
    return queryset.filter(contract__in=contracts_for_user(user, roles=roles))
