"""REST API (Django REST framework): one view per write operation, generic read-only views for reads.

Every queryset starts from the same `..._for_user` selectors as the pages, so the API can show no more
than the pages do: another party's object answers 404. Writes call the same services as the pages.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import django_filters
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet, Sum
from django.http import Http404, HttpResponse
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from audit.models import AuditEvent
from audit.services import audit_candidates_seen, audit_record
from billing.documents import documents_for_rendering, filename
from billing.documents.oioubl import document_oioubl
from billing.documents.pdf import document_pdf
from billing.documents.spreadsheets import documents_xlsx
from billing.exports import documents_as_csv, documents_for_export
from billing.forms import WeekField
from billing.models import Account, Dispute, Document, JournalEntry, Posting
from billing.portal_selectors import (
    DocumentStatus,
    disputes_for_user,
    disputes_resolvable_by,
    documents_with_status,
    lines_disputable_by,
    payable_documents_for_user,
    referral_contracts_for_user,
)
from billing.selectors import (
    documents_for_user,
    journal_entries_for_user,
    payments_for_user,
    postings_for_user,
)
from billing.serializers import (
    CandidateSerializer,
    ContractSerializer,
    DisputeInputSerializer,
    DisputeResolveInputSerializer,
    DisputeSerializer,
    DocumentSerializer,
    DocumentStatusSerializer,
    ImportResultSerializer,
    JournalEntrySerializer,
    LedgerBalanceSerializer,
    PaymentInputSerializer,
    PaymentSerializer,
    ReferralInputSerializer,
    RowErrorSerializer,
    WeeklyStatusBulkInputSerializer,
    WeeklyStatusSerializer,
)
from billing.services.disputes import dispute_accept, dispute_open, dispute_reject
from billing.services.ledger import payment_record
from billing.services.personal_data import documents_shown_audit
from billing.services.referrals import referral_create
from candidates.models import Candidate, WeeklyStatus
from candidates.selectors import candidates_editable_by, candidates_for_user, weekly_statuses_for_user
from candidates.services import weekly_status_import
from common.money import ZERO, round_money
from organisations.models import Role
from organisations.selectors import contracts_for_user


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Domain errors (django ValidationError) answer 400 with {field: [messages]} like DRF's own errors."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                ("non_field_errors" if name == NON_FIELD_ERRORS else name): [str(m) for m in messages]
                for name, messages in exc.message_dict.items()
            }
        else:
            detail = {"non_field_errors": [str(m) for m in exc.messages]}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


# --- filters ------------------------------------------------------------------------------------------


class WeekFilter(django_filters.Filter):
    """`?week_from=2020-W05`: a week as YYYY-Www (a bad week answers 400 naming the parameter)."""

    field_class = WeekField


class InvoiceFilter(django_filters.FilterSet):
    contract = django_filters.CharFilter(field_name="contract__code", help_text="Contract code")
    kind = django_filters.ChoiceFilter(choices=Document.Kind.choices)
    week_from = WeekFilter(field_name="week", lookup_expr="gte", help_text="From this ISO week (YYYY-Www)")
    week_to = WeekFilter(field_name="week", lookup_expr="lte", help_text="To this ISO week (YYYY-Www)")
    status = django_filters.ChoiceFilter(field_name="status", choices=DocumentStatus.choices)

    class Meta:
        model = Document
        fields = ["contract", "kind", "week_from", "week_to", "status"]


class WeeklyStatusFilter(django_filters.FilterSet):
    contract = django_filters.CharFilter(field_name="candidate__contract__code", help_text="Contract code")
    candidate = django_filters.CharFilter(field_name="candidate__ref", help_text="Candidate ref")
    week_from = WeekFilter(field_name="week", lookup_expr="gte", help_text="From this ISO week (YYYY-Www)")
    week_to = WeekFilter(field_name="week", lookup_expr="lte", help_text="To this ISO week (YYYY-Www)")
    outcome = django_filters.CharFilter(field_name="outcome")

    class Meta:
        model = WeeklyStatus
        fields = ["contract", "candidate", "week_from", "week_to", "outcome"]


class CandidateFilter(django_filters.FilterSet):
    contract = django_filters.CharFilter(field_name="contract__code", help_text="Contract code")
    ref = django_filters.CharFilter(field_name="ref")

    class Meta:
        model = Candidate
        fields = ["contract", "ref"]


class JournalEntryFilter(django_filters.FilterSet):
    contract = django_filters.CharFilter(field_name="contract__code", help_text="Contract code")
    kind = django_filters.ChoiceFilter(choices=JournalEntry.Kind.choices)
    posted_from = django_filters.DateFilter(field_name="posted_on", lookup_expr="gte")
    posted_to = django_filters.DateFilter(field_name="posted_on", lookup_expr="lte")

    class Meta:
        model = JournalEntry
        fields = ["contract", "kind", "posted_from", "posted_to"]


class DisputeFilter(django_filters.FilterSet):
    contract = django_filters.CharFilter(field_name="document__contract__code", help_text="Contract code")
    status = django_filters.ChoiceFilter(choices=Dispute.Status.choices)
    document = django_filters.CharFilter(field_name="document__number")

    class Meta:
        model = Dispute
        fields = ["contract", "status", "document"]


# --- contracts ----------------------------------------------------------------------------------------


class ContractListView(generics.ListAPIView):
    """The contracts the caller takes part in."""

    serializer_class = ContractSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Any]:
        return (
            contracts_for_user(self.request.user).select_related("municipality", "operator", "payee").order_by("code")
        )


class ContractDetailView(generics.RetrieveAPIView):
    serializer_class = ContractSerializer
    lookup_field = "code"
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Any]:
        return contracts_for_user(self.request.user).select_related("municipality", "operator", "payee")


# --- invoices -----------------------------------------------------------------------------------------


def _invoices(user: object) -> QuerySet[Document]:
    return documents_with_status(documents_for_user(user))


class InvoiceListView(generics.ListAPIView):
    """Invoices and credit notes in the SPEC JSON shape, in number order; filter by contract, kind, period, status."""

    serializer_class = DocumentSerializer
    filterset_class = InvoiceFilter
    ordering_fields = ["issue_date", "week", "seq"]

    def get_queryset(self) -> QuerySet[Any]:
        return documents_for_export(_invoices(self.request.user))


class InvoiceDetailView(generics.RetrieveAPIView):
    serializer_class = DocumentSerializer
    lookup_field = "number"
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Any]:
        return documents_for_export(documents_for_user(self.request.user))


class InvoiceStatusView(generics.RetrieveAPIView):
    """Status derived from payments, disputes and credit notes (issued, paid, partly paid, disputed, credited)."""

    serializer_class = DocumentStatusSerializer
    lookup_field = "number"
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Any]:
        return (
            _invoices(self.request.user)
            .select_related("corrects")
            .prefetch_related(Prefetch("credit_notes", queryset=Document.objects.order_by("seq")))
        )


class BinaryRenderer(BaseRenderer):
    """Lets a client ask for the file's media type; error bodies fall back to JSON text."""

    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data, default=str).encode()


def _binary_renderer(media_type: str, format_name: str) -> type[BaseRenderer]:
    return type(f"{format_name.upper()}Renderer", (BinaryRenderer,), {"media_type": media_type, "format": format_name})


class _InvoiceFileView(APIView):
    """One rendering of one document as a download."""

    extension = ""
    media_type = ""
    filter_backends: list[Any] = []
    shows_names = False  # the PDF and XLSX renderings print candidates' names: audited

    def get_document(self, number: str) -> Document:
        document = documents_for_rendering(documents_for_user(self.request.user).filter(number=number)).first()
        if document is None:
            raise Http404("No such document")
        return document

    def render_file(self, document: Document) -> bytes | str:
        raise NotImplementedError

    def get(self, request: Request, number: str) -> HttpResponse:
        document = self.get_document(number)
        if self.shows_names:
            documents_shown_audit(
                user=request.user, documents=[document], action=AuditEvent.Action.EXPORT, rendering=self.extension
            )
        response = HttpResponse(self.render_file(document), content_type=self.media_type)
        response["Content-Disposition"] = f'attachment; filename="{filename(document, self.extension)}"'
        return response


def _file_schema(media_type: str, description: str) -> Any:
    return extend_schema(
        responses={(200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description=description)},
    )


def _language(request: Request) -> str:
    return translation.get_language() or "da"


@_file_schema("application/pdf", "The document as an A4 PDF")
class InvoicePdfView(_InvoiceFileView):
    extension, media_type = "pdf", "application/pdf"
    shows_names = True
    renderer_classes = [JSONRenderer, _binary_renderer("application/pdf", "pdf")]

    def render_file(self, document: Document) -> bytes:
        return document_pdf(document, language=_language(self.request))


@_file_schema("application/xml", "OIOUBL 2.1 Invoice (380) or CreditNote (381)")
class InvoiceXmlView(_InvoiceFileView):
    extension, media_type = "xml", "application/xml"
    renderer_classes = [JSONRenderer, _binary_renderer("application/xml", "xml")]

    def render_file(self, document: Document) -> bytes:
        return document_oioubl(document, language=_language(self.request))


@_file_schema("text/csv", "The lines as CSV (the export_invoices columns)")
class InvoiceCsvView(_InvoiceFileView):
    extension, media_type = "csv", "text/csv; charset=utf-8"
    renderer_classes = [JSONRenderer, _binary_renderer("text/csv", "csv")]

    def render_file(self, document: Document) -> str:
        return documents_as_csv([document])


@_file_schema(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "The lines as XLSX (Danish number format)"
)
class InvoiceXlsxView(_InvoiceFileView):
    extension, media_type = "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    shows_names = True
    renderer_classes = [JSONRenderer, _binary_renderer(media_type, "xlsx")]

    def render_file(self, document: Document) -> bytes:
        return documents_xlsx([document], language=_language(self.request))


class PaymentListView(generics.ListAPIView):
    """Municipal payments against invoices."""

    serializer_class = PaymentSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Any]:
        queryset = payments_for_user(self.request.user).order_by("-paid_on", "-pk")
        number = self.request.query_params.get("document")
        return queryset.filter(document__number=number) if number else queryset


class InvoicePaymentCreateView(APIView):
    """Mark an invoice (partly) paid: posts debit cash, credit municipality receivable (B12)."""

    @extend_schema(request=PaymentInputSerializer, responses={201: PaymentSerializer})
    def post(self, request: Request, number: str) -> Response:
        document = payable_documents_for_user(request.user).filter(number=number).first()
        if document is None:
            raise Http404("No such document")
        serializer = PaymentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = payment_record(document=document, user=request.user, **serializer.validated_data)
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


# --- disputes -----------------------------------------------------------------------------------------


class DisputeListView(generics.ListAPIView):
    serializer_class = DisputeSerializer
    filterset_class = DisputeFilter
    ordering_fields = ["raised_at"]

    def get_queryset(self) -> QuerySet[Any]:
        return disputes_for_user(self.request.user).order_by("-raised_at", "-pk")


class LineDisputeCreateView(APIView):
    """The municipality disputes one line of a document."""

    @extend_schema(request=DisputeInputSerializer, responses={201: DisputeSerializer})
    def post(self, request: Request, number: str, line_id: int) -> Response:
        line = lines_disputable_by(request.user).filter(document__number=number, pk=line_id).first()
        if line is None:
            raise Http404("No such line")
        serializer = DisputeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dispute = dispute_open(line=line, user=request.user, **serializer.validated_data)
        return Response(DisputeSerializer(dispute).data, status=status.HTTP_201_CREATED)


class DisputeResolveView(APIView):
    """The operator's coordinator accepts (corrects the weekly status) or rejects (with a note) a dispute."""

    @extend_schema(request=DisputeResolveInputSerializer, responses={200: DisputeSerializer})
    def post(self, request: Request, pk: int) -> Response:
        dispute = disputes_resolvable_by(request.user).filter(pk=pk).first()
        if dispute is None:
            raise Http404("No such dispute")
        serializer = DisputeResolveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = serializer.validated_data["note"]
        if serializer.validated_data["decision"] == Dispute.Status.ACCEPTED:
            dispute = dispute_accept(dispute=dispute, note=note, user=request.user)
        else:
            dispute = dispute_reject(dispute=dispute, note=note, user=request.user)
        return Response(DisputeSerializer(disputes_for_user(request.user).get(pk=dispute.pk)).data)


# --- weekly status ------------------------------------------------------------------------------------


class WeeklyStatusListView(generics.ListAPIView):
    serializer_class = WeeklyStatusSerializer
    filterset_class = WeeklyStatusFilter
    ordering_fields = ["week"]

    def get_queryset(self) -> QuerySet[Any]:
        return weekly_statuses_for_user(self.request.user).order_by(
            "candidate__contract__code", "candidate__ref", "week"
        )


class WeeklyStatusBulkUpsertView(APIView):
    """Upsert many weekly statuses under the import rules: all or nothing, every bad row reported.

    Errors name the row as `rows[i]` and the field. A consultant may change only their caseload.
    """

    @extend_schema(
        request=WeeklyStatusBulkInputSerializer,
        responses={
            200: ImportResultSerializer,
            400: inline_serializer("WeeklyStatusImportErrors", fields={"errors": RowErrorSerializer(many=True)}),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = WeeklyStatusBulkInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code = serializer.validated_data["contract"]
        contract = contracts_for_user(request.user, roles=[Role.COORDINATOR, Role.CONSULTANT]).filter(code=code).first()
        if contract is None:
            raise Http404("No such contract")
        # Refs that exist in the contract but are not the caller's to change get their own error, so a
        # consultant learns nothing more than "not yours" about another caseload.
        given = {(row.get("candidate") or "").strip() for row in serializer.validated_data["rows"]}
        editable = set(
            candidates_editable_by(request.user).filter(contract=contract, ref__in=given).values_list("ref", flat=True)
        )
        forbidden = set(
            Candidate.objects.filter(contract=contract, ref__in=given - editable).values_list("ref", flat=True)
        )
        rows: list[dict[str, Any]] = []
        for index, row in enumerate(serializer.validated_data["rows"]):
            item = {**row, "path": f"rows[{index}]"}
            ref = (row.get("candidate") or "").strip()
            if ref in forbidden:
                item["error"] = f"candidate '{ref}' is not on your caseload"
                item["error_code"] = "not_editable"
            rows.append(item)
        result = weekly_status_import(contract=contract, rows=rows, user=request.user)
        if result.errors:
            errors = [
                {"where": error.where, "field": error.field, "code": error.code, "message": error.message}
                for error in result.errors
            ]
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"created": result.created, "updated": result.updated, "unchanged": result.unchanged})


# --- candidates ---------------------------------------------------------------------------------------


class CandidateListView(generics.ListAPIView):
    """Referred candidates (CPR masked); operator staff and the contract's municipality, never investors."""

    serializer_class = CandidateSerializer
    filterset_class = CandidateFilter
    ordering_fields = ["ref", "referred_on"]

    def get_queryset(self) -> QuerySet[Any]:
        return candidates_for_user(self.request.user).order_by("contract__code", "ref")

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        page = super().paginate_queryset(queryset)
        # Names of the page's candidates are sent: one audit event per contract, one INSERT per request.
        audit_candidates_seen(
            user=self.request.user,
            action=AuditEvent.Action.API_READ,
            candidates=page if page is not None else queryset,
            object_type="candidate",
        )
        return page


class CandidateDetailView(generics.RetrieveAPIView):
    serializer_class = CandidateSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Any]:
        return candidates_for_user(self.request.user)

    def get_object(self) -> Any:
        candidate = super().get_object()
        audit_record(
            user=self.request.user,
            action=AuditEvent.Action.API_READ,
            object_type="candidate",
            object_id=candidate.pk,
            candidate=candidate,
            contract=candidate.contract_id,
        )
        return candidate


class ReferralCreateView(APIView):
    """The municipality refers a person to one of its contracts (the next free ref unless one is given)."""

    @extend_schema(request=ReferralInputSerializer, responses={201: CandidateSerializer})
    def post(self, request: Request) -> Response:
        serializer = ReferralInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        contract = referral_contracts_for_user(request.user).filter(code=data.pop("contract")).first()
        if contract is None:
            raise Http404("No such contract")
        candidate = referral_create(contract=contract, user=request.user, **data)
        return Response(CandidateSerializer(candidate).data, status=status.HTTP_201_CREATED)


# --- ledger -------------------------------------------------------------------------------------------


class JournalEntryListView(generics.ListAPIView):
    """The investor ledger: balanced entries with their postings (investors and the coordinator)."""

    serializer_class = JournalEntrySerializer
    filterset_class = JournalEntryFilter
    ordering_fields = ["posted_on"]

    def get_queryset(self) -> QuerySet[Any]:
        postings = Posting.objects.order_by("pk")
        return (
            journal_entries_for_user(self.request.user)
            .prefetch_related(Prefetch("postings", queryset=postings))
            .order_by("contract__code", "posted_on", "pk")
        )


class LedgerBalanceListView(APIView):
    """Debit-positive balance per contract and account, every account present."""

    @extend_schema(responses={200: LedgerBalanceSerializer(many=True)}, parameters=[])
    def get(self, request: Request) -> Response:
        postings = postings_for_user(request.user)
        code = request.query_params.get("contract")
        if code:
            postings = postings.filter(entry__contract__code=code)
        rows = (
            postings.order_by()
            .values("entry__contract__code", "account")
            .annotate(debit=Sum("debit"), credit=Sum("credit"))
        )
        balances: dict[str, dict[str, Any]] = {}
        for row in rows:
            accounts = balances.setdefault(row["entry__contract__code"], dict.fromkeys(Account.values, ZERO))
            accounts[row["account"]] = round_money(Decimal(row["debit"] or ZERO) - Decimal(row["credit"] or ZERO))
        data = [
            {"contract": contract, "account": account, "balance": f"{balance:.2f}"}
            for contract, accounts in sorted(balances.items())
            for account, balance in accounts.items()
        ]
        return Response(data)
