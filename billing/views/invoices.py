"""The municipality portal's invoices: list, invoice page, downloads, bundle, payments and line disputes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditEvent
from billing.documents import bank_details, documents_for_rendering, filename, percent_da
from billing.documents.bundle import documents_bundle
from billing.documents.oioubl import document_oioubl
from billing.documents.pdf import document_pdf
from billing.documents.spreadsheets import documents_xlsx
from billing.exports import documents_as_csv
from billing.forms import DisputeForm, InvoiceFilterForm, PaymentForm
from billing.models import Document
from billing.portal_selectors import (
    DocumentStatus,
    document_lines_with_disputes,
    lines_disputable_by,
    payable_documents_for_user,
    portal_documents_for_user,
)
from billing.selectors import documents_for_user, payments_for_user, settlement_contracts_for_user
from billing.services.disputes import dispute_open
from billing.services.ledger import payment_record
from billing.services.personal_data import documents_shown_audit, lines_shown_audit
from candidates.models import Outcome
from common import weeks
from common.money import ZERO

PAGE_SIZE = 25
MAX_BUNDLE_DOCUMENTS = 120

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xml": "application/xml",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}


def download(content: bytes | str, *, name: str, extension: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPES[extension])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _filtered_documents(request: HttpRequest) -> tuple[InvoiceFilterForm, QuerySet[Document]]:
    contracts = list(settlement_contracts_for_user(request.user).order_by("code").values_list("code", "name"))
    form = InvoiceFilterForm(request.GET or None, contracts=[(code, f"{code} · {name}") for code, name in contracts])
    documents = portal_documents_for_user(request.user)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["contract"]:
            documents = documents.filter(contract__code=data["contract"])
        if data["week_from"]:
            documents = documents.filter(week__gte=data["week_from"])
        if data["week_to"]:
            documents = documents.filter(week__lte=data["week_to"])
        if data["status"]:
            documents = documents.filter(status=data["status"])  # type: ignore[misc]  # an annotation
    elif form.is_bound:
        documents = documents.none()
    return form, documents


@login_required
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    """The user's documents, newest first, with derived status; filters by contract, period and status."""
    form, documents = _filtered_documents(request)
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    query: dict[str, str] = {key: str(value) for key, value in request.GET.items() if key != "page" and value}
    return render(
        request,
        "billing/invoice_list.html",
        {
            "form": form,
            "page": page,
            "status_labels": DocumentStatus.labels,
            "query": urlencode(query),
            "bundle_url": f"{reverse('billing:invoice_bundle')}?{urlencode(query)}",
        },
    )


def _document(request: HttpRequest, number: str) -> Document:
    document = documents_for_rendering(documents_for_user(request.user).filter(number=number)).first()
    if document is None:
        raise Http404("No such document")
    return document


def _detail_context(request: HttpRequest, document: Document, **extra: Any) -> dict[str, Any]:
    annotated = portal_documents_for_user(request.user).filter(pk=document.pk)
    status_row = annotated.values("status", "amount_paid").first()  # type: ignore[misc]  # annotations
    status = status_row["status"] if status_row else DocumentStatus.ISSUED
    amount_paid = status_row["amount_paid"] if status_row else ZERO
    lines = list(document_lines_with_disputes(document))
    disputable = lines_disputable_by(request.user).filter(document=document).exists()
    may_pay = (
        not document.is_credit_note
        and payable_documents_for_user(request.user).filter(pk=document.pk).exists()
        and amount_paid < document.total
    )
    outstanding = document.total - amount_paid if not document.is_credit_note else ZERO
    payments = payments_for_user(request.user).filter(document=document).select_related("recorded_by")
    registration, account = bank_details(document.contract.payee.bank_account)
    context = {
        "document": document,
        "status": status,
        "status_label": DocumentStatus.labels.get(status, status),
        "lines": lines,
        "disputes": [dispute for line in lines for dispute in line.disputes.all()],
        "payments": list(payments),
        "amount_paid": amount_paid,
        "outstanding": outstanding,
        "may_pay": may_pay,
        "may_dispute": disputable,
        "payment_form": PaymentForm(initial={"amount": outstanding, "paid_on": timezone.localdate()}),
        "credit_notes": list(documents_for_user(request.user).filter(corrects=document).order_by("seq")),
        "bank_registration": registration,
        "bank_account": account,
        "open_line_ids": {d.line_id for line in lines for d in line.disputes.all() if d.is_open},
        "outcome_choices": Outcome.choices,
        "vat_percent": percent_da(document.vat_rate),
        "dispute_line_id": None,
        "dispute_form": None,
    }
    context.update(extra)
    return context


@login_required
@require_GET
def invoice_detail(request: HttpRequest, number: str) -> HttpResponse:
    document = _document(request, number)
    context = _detail_context(request, document)
    lines_shown_audit(user=request.user, document=document, lines=context["lines"])
    return render(request, "billing/invoice_detail.html", context)


def _language() -> str:
    return translation.get_language() or "da"


@login_required
@require_GET
def invoice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    document = _document(request, number)
    documents_shown_audit(user=request.user, documents=[document], action=AuditEvent.Action.EXPORT, rendering="pdf")
    return download(document_pdf(document, language=_language()), name=filename(document, "pdf"), extension="pdf")


@login_required
@require_GET
def invoice_xml(request: HttpRequest, number: str) -> HttpResponse:
    document = _document(request, number)
    return download(document_oioubl(document, language=_language()), name=filename(document, "xml"), extension="xml")


@login_required
@require_GET
def invoice_csv(request: HttpRequest, number: str) -> HttpResponse:
    document = _document(request, number)
    return download(documents_as_csv([document]), name=filename(document, "csv"), extension="csv")


@login_required
@require_GET
def invoice_xlsx(request: HttpRequest, number: str) -> HttpResponse:
    document = _document(request, number)
    documents_shown_audit(user=request.user, documents=[document], action=AuditEvent.Action.EXPORT, rendering="xlsx")
    return download(documents_xlsx([document], language=_language()), name=filename(document, "xlsx"), extension="xlsx")


@login_required
@require_GET
def invoice_bundle(request: HttpRequest) -> HttpResponse:
    """A zip of every document the filters select (contract, period, status): PDF, XML, CSV, XLSX, JSON."""
    form, documents = _filtered_documents(request)
    if form.is_bound and not form.is_valid():
        messages.error(request, _("Correct the filters before downloading a bundle."))
        return redirect(f"{reverse('billing:invoice_list')}?{request.GET.urlencode()}")
    selected = list(documents_for_rendering(documents_for_user(request.user).filter(pk__in=documents.values("pk"))))
    if not selected:
        messages.error(request, _("No document matches the filters: there is nothing to bundle."))
        return redirect(f"{reverse('billing:invoice_list')}?{request.GET.urlencode()}")
    if len(selected) > MAX_BUNDLE_DOCUMENTS:
        messages.error(
            request,
            _("The filters select %(count)d documents; a bundle holds at most %(max)d. Choose a shorter period.")
            % {"count": len(selected), "max": MAX_BUNDLE_DOCUMENTS},
        )
        return redirect(f"{reverse('billing:invoice_list')}?{request.GET.urlencode()}")
    data = form.cleaned_data if form.is_bound else {}
    parts = ["bilag"]
    if data.get("contract"):
        parts.append(data["contract"])
    first, last = min(d.week for d in selected), max(d.week for d in selected)
    parts.append(weeks.format_week(first) if first == last else f"{weeks.format_week(first)}_{weeks.format_week(last)}")
    documents_shown_audit(user=request.user, documents=selected, action=AuditEvent.Action.EXPORT, rendering="zip")
    content = documents_bundle(selected, created=timezone.localtime(), language=_language())
    return download(content, name="-".join(parts) + ".zip", extension="zip")


@login_required
@require_POST
def invoice_pay(request: HttpRequest, number: str) -> HttpResponse:
    """Mark an invoice (partly) paid: amount and date; posted to the ledger by payment_record."""
    document = payable_documents_for_user(request.user).filter(number=number).first()
    if document is None:
        raise Http404("No such document")
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            payment_record(
                document=document,
                amount=form.cleaned_data["amount"],
                paid_on=form.cleaned_data["paid_on"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The payment of %(number)s is recorded.") % {"number": document.number})
            return redirect("billing:invoice_detail", number=document.number)
    document = _document(request, number)
    context = _detail_context(request, document, payment_form=form)
    return render(request, "billing/invoice_detail.html", context, status=400)


@login_required
@require_POST
def line_dispute(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    """The municipality disputes one line, with the outcome it holds right and a reason."""
    line = lines_disputable_by(request.user).filter(document__number=number, pk=line_id).first()
    if line is None:
        raise Http404("No such line")
    form = DisputeForm(request.POST, billed_outcome=line.outcome)
    if form.is_valid():
        try:
            dispute_open(
                line=line,
                reason=form.cleaned_data["reason"],
                claimed_outcome=form.cleaned_data["claimed_outcome"],
                user=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Your dispute of %(ref)s, week %(week)s is sent to the coordinator.")
                % {"ref": line.candidate.ref, "week": line.week_label},
            )
            return redirect("billing:invoice_detail", number=number)
    document = _document(request, number)
    context = _detail_context(request, document, dispute_form=form, dispute_line_id=line.pk)
    return render(request, "billing/invoice_detail.html", context, status=400)


__all__ = [
    "invoice_bundle",
    "invoice_csv",
    "invoice_detail",
    "invoice_list",
    "invoice_pay",
    "invoice_pdf",
    "invoice_xlsx",
    "invoice_xml",
    "line_dispute",
]
