"""API serializers: output shapes for reads, input shapes for each write operation.

Invoices keep the SPEC section 4 JSON shape by delegating to billing.exports.document_as_dict; the
fields declared on DocumentSerializer exist for the OpenAPI schema only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.exports import document_as_dict, money_text
from billing.models import Dispute, Document, JournalEntry, Payment
from billing.portal_selectors import DocumentStatus
from candidates.models import Candidate, Outcome, WeeklyStatus
from common import weeks
from organisations.models import Contract

WEEK_HELP = "ISO week YYYY-Www, e.g. 2020-W53"
MONEY_HELP = "Decimal string with two decimals (DKK), signed"


@extend_schema_field(OpenApiTypes.STR)
class WeekStringField(serializers.Field):
    """A week stored as its Monday, shown as `YYYY-Www`."""

    def to_representation(self, value: Any) -> str:
        return weeks.format_week(value)

    def to_internal_value(self, data: Any) -> Any:
        try:
            return weeks.parse_week(str(data))
        except weeks.WeekError as exc:
            raise serializers.ValidationError(str(exc)) from None


# --- contracts ----------------------------------------------------------------------------------------


class ContractSerializer(serializers.ModelSerializer):
    municipality = serializers.CharField(source="municipality.name", read_only=True)
    municipality_cvr = serializers.CharField(source="municipality.cvr", read_only=True)
    municipality_ean = serializers.CharField(source="municipality.ean", read_only=True)
    operator = serializers.CharField(source="operator.name", read_only=True)
    payee = serializers.CharField(source="payee.name", read_only=True)
    payee_cvr = serializers.CharField(source="payee.cvr", read_only=True)
    first_week = serializers.CharField(source="first_week_label", read_only=True, help_text=WEEK_HELP)
    last_week = serializers.CharField(source="last_week_label", read_only=True, help_text=WEEK_HELP)
    settled_through = serializers.SerializerMethodField(help_text=f"{WEEK_HELP}; null before the first settlement")
    is_locked = serializers.BooleanField(read_only=True)

    class Meta:
        model = Contract
        fields = [
            "code",
            "name",
            "municipality",
            "municipality_cvr",
            "municipality_ean",
            "operator",
            "payee",
            "payee_cvr",
            "first_week",
            "last_week",
            "settled_through",
            "is_locked",
            "candidate_window_weeks",
            "max_paid_weeks_per_candidate",
            "cap_amount",
            "grace_days",
            "vat_rate",
            "payment_terms_days",
            "currency",
            "success_target",
            "baseline_rate",
            "success_min_weeks",
            "municipality_reference",
            "order_reference",
        ]
        read_only_fields = fields

    def get_settled_through(self, contract: Contract) -> str | None:
        return weeks.format_week(contract.settled_through) if contract.settled_through else None


# --- invoices -----------------------------------------------------------------------------------------


class DocumentLineSerializer(serializers.Serializer):
    candidate = serializers.CharField(help_text="The candidate's ref")
    week = serializers.CharField(help_text=WEEK_HELP)
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    amount = serializers.CharField(help_text=MONEY_HELP)
    adjustment = serializers.BooleanField(help_text="True when the line corrects an earlier week")


class DocumentSerializer(serializers.Serializer):
    """SPEC section 4: the export_invoices JSON object, amounts as signed strings."""

    number = serializers.CharField()
    kind = serializers.ChoiceField(choices=Document.Kind.choices)
    contract = serializers.CharField(help_text="The contract's code")
    week = serializers.CharField(help_text=WEEK_HELP)
    issue_date = serializers.DateField()
    due_date = serializers.DateField()
    currency = serializers.CharField()
    subtotal = serializers.CharField(help_text=MONEY_HELP)
    vat = serializers.CharField(help_text=MONEY_HELP)
    total = serializers.CharField(help_text=MONEY_HELP)
    lines = DocumentLineSerializer(many=True)

    def to_representation(self, instance: Document) -> dict[str, Any]:
        return document_as_dict(instance)


class DocumentStatusSerializer(serializers.Serializer):
    """Derived from payments, disputes and credit notes; never stored on the document."""

    number = serializers.CharField()
    uuid = serializers.UUIDField()
    status = serializers.ChoiceField(choices=DocumentStatus.choices)
    amount_paid = serializers.CharField(help_text=MONEY_HELP)
    outstanding = serializers.CharField(help_text=MONEY_HELP)
    open_disputes = serializers.IntegerField()
    corrects = serializers.CharField(allow_null=True, help_text="For a credit note: the invoice it corrects")
    credited_by = serializers.ListField(child=serializers.CharField(), help_text="Credit notes that correct it")

    def to_representation(self, instance: Document) -> dict[str, Any]:
        paid = getattr(instance, "amount_paid", Decimal("0.00"))
        outstanding = Decimal("0.00") if instance.is_credit_note else instance.total - paid
        return {
            "number": instance.number,
            "uuid": str(instance.uuid),
            "status": instance.status,  # type: ignore[attr-defined]
            "amount_paid": money_text(paid),
            "outstanding": money_text(outstanding),
            "open_disputes": instance.open_disputes,  # type: ignore[attr-defined]
            "corrects": instance.corrects.number if instance.corrects else None,
            "credited_by": [note.number for note in instance.credit_notes.all()],
        }


class PaymentSerializer(serializers.ModelSerializer):
    document = serializers.CharField(source="document.number", read_only=True)

    class Meta:
        model = Payment
        fields = ["id", "document", "paid_on", "amount", "note", "created_at"]
        read_only_fields = fields


class PaymentInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    paid_on = serializers.DateField()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# --- disputes -----------------------------------------------------------------------------------------


class DisputeSerializer(serializers.ModelSerializer):
    document = serializers.CharField(source="document.number", read_only=True)
    candidate = serializers.CharField(source="line.candidate.ref", read_only=True)
    week = WeekStringField(source="line.week", read_only=True)
    billed_outcome = serializers.CharField(source="line.outcome", read_only=True)
    amount = serializers.DecimalField(source="line.amount", max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "document",
            "line",
            "candidate",
            "week",
            "billed_outcome",
            "amount",
            "claimed_outcome",
            "reason",
            "status",
            "resolution_note",
            "raised_at",
            "resolved_at",
        ]
        read_only_fields = fields


class DisputeInputSerializer(serializers.Serializer):
    claimed_outcome = serializers.ChoiceField(choices=Outcome.choices)
    reason = serializers.CharField(max_length=500)


class DisputeResolveInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[Dispute.Status.ACCEPTED, Dispute.Status.REJECTED])
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# --- weekly status ------------------------------------------------------------------------------------


class WeeklyStatusSerializer(serializers.ModelSerializer):
    contract = serializers.CharField(source="candidate.contract.code", read_only=True)
    candidate = serializers.CharField(source="candidate.ref", read_only=True)
    week = WeekStringField(read_only=True)

    class Meta:
        model = WeeklyStatus
        fields = ["contract", "candidate", "week", "outcome", "hours", "note", "recorded_at"]
        read_only_fields = fields


class WeeklyStatusRowSerializer(serializers.Serializer):
    """One row as the import reads it; the rules themselves (SPEC section 4) run in weekly_status_import."""

    candidate = serializers.CharField(allow_blank=True, max_length=100, help_text="The candidate's ref")
    week = serializers.CharField(allow_blank=True, max_length=20, help_text=WEEK_HELP)
    outcome = serializers.CharField(allow_blank=True, max_length=20, help_text="none, partial, full or education")
    hours = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=20, help_text="0 to 168, e.g. 12.5"
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="The reason, when a row corrects a settled week"
    )


class WeeklyStatusBulkInputSerializer(serializers.Serializer):
    contract = serializers.CharField(max_length=40, help_text="The contract's code")
    rows = WeeklyStatusRowSerializer(many=True, allow_empty=False, max_length=5000)  # type: ignore[call-arg]


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class RowErrorSerializer(serializers.Serializer):
    where = serializers.CharField(help_text="e.g. rows[2]")
    field = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


# --- candidates ---------------------------------------------------------------------------------------


class CandidateSerializer(serializers.ModelSerializer):
    contract = serializers.CharField(source="contract.code", read_only=True)
    cpr = serializers.CharField(source="cpr_masked", read_only=True, help_text="Masked: DDMMYY-XXXX")

    class Meta:
        model = Candidate
        fields = ["id", "contract", "ref", "name", "cpr", "referred_on", "enrolled_on", "withdrawn_on"]
        read_only_fields = fields


class ReferralInputSerializer(serializers.Serializer):
    contract = serializers.CharField(max_length=40, help_text="The contract's code")
    cpr = serializers.CharField(max_length=20, help_text="DDMMYY-SSSS")
    name = serializers.CharField(max_length=200)
    referred_on = serializers.DateField()
    ref = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


# --- ledger -------------------------------------------------------------------------------------------


class PostingSerializer(serializers.Serializer):
    account = serializers.CharField()
    debit = serializers.DecimalField(max_digits=14, decimal_places=2)
    credit = serializers.DecimalField(max_digits=14, decimal_places=2)


class JournalEntrySerializer(serializers.ModelSerializer):
    contract = serializers.CharField(source="contract.code", read_only=True)
    document = serializers.SerializerMethodField()
    postings = PostingSerializer(many=True, read_only=True)

    class Meta:
        model = JournalEntry
        fields = ["id", "contract", "kind", "posted_on", "memo", "document", "postings"]
        read_only_fields = fields

    def get_document(self, entry: JournalEntry) -> str | None:
        return entry.document.number if entry.document else None


class LedgerBalanceSerializer(serializers.Serializer):
    contract = serializers.CharField()
    account = serializers.CharField()
    balance = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="Debit-positive")
