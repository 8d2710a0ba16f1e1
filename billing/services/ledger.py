"""The investor ledger (B12): balanced journal entries, municipal payments and capital disbursements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from billing.models import Account, CapitalDisbursement, Document, JournalEntry, Payment, Posting
from common.money import ZERO
from organisations.models import Contract, ContractInvestor, User


def journal_entry_post(
    *,
    contract: Contract,
    kind: str,
    posted_on: date,
    memo: str,
    lines: Sequence[tuple[str, Decimal, Decimal]],
    document: Document | None = None,
    payment: Payment | None = None,
    disbursement: CapitalDisbursement | None = None,
) -> JournalEntry:
    """Post one entry of (account, debit, credit) lines; refuses an entry whose debits differ from credits.

    Call inside the transaction that creates the entry's cause, so both land or neither does.
    """
    debits = sum((debit for _, debit, _ in lines), ZERO)
    credits = sum((credit for _, _, credit in lines), ZERO)
    if debits != credits or len(lines) < 2:
        raise ValidationError(
            f"Journal entry '{memo}' does not balance: debits {debits} against credits {credits}.",
            code="unbalanced",
        )
    entry = JournalEntry.objects.create(
        contract=contract,
        kind=kind,
        posted_on=posted_on,
        memo=memo,
        document=document,
        payment=payment,
        disbursement=disbursement,
    )
    Posting.objects.bulk_create(
        [Posting(entry=entry, account=account, debit=debit, credit=credit) for account, debit, credit in lines]
    )
    return entry


def document_post(*, document: Document) -> JournalEntry:
    """An invoice debits the receivable and credits outcome revenue; a credit note reverses that."""
    amount = abs(document.total)
    if document.total >= 0:
        lines = [
            (Account.MUNICIPALITY_RECEIVABLE, amount, ZERO),
            (Account.OUTCOME_REVENUE, ZERO, amount),
        ]
    else:
        lines = [
            (Account.OUTCOME_REVENUE, amount, ZERO),
            (Account.MUNICIPALITY_RECEIVABLE, ZERO, amount),
        ]
    return journal_entry_post(
        contract=document.contract,
        kind=JournalEntry.Kind.DOCUMENT,
        posted_on=document.issue_date,
        memo=f"{document.get_kind_display()} {document.number}",
        lines=lines,
        document=document,
    )


def document_amount_paid(*, document: Document) -> Decimal:
    return document.payments.aggregate(total=Sum("amount"))["total"] or ZERO


@transaction.atomic
def payment_record(
    *, document: Document, amount: Decimal, paid_on: date, note: str = "", user: object | None = None
) -> Payment:
    """Record a municipal payment against an invoice: partial payments allowed, overpayment refused."""
    # Lock the document row so two payments recorded at once cannot together exceed the total.
    document = Document.objects.select_for_update().select_related("contract").get(pk=document.pk)
    if document.kind != Document.Kind.INVOICE:
        raise ValidationError(
            f"{document.number} is a credit note; payments are recorded against invoices.", code="not_invoice"
        )
    if amount <= 0:
        raise ValidationError("A payment amount must be positive.", code="amount")
    outstanding = document.total - document_amount_paid(document=document)
    if amount > outstanding:
        raise ValidationError(
            f"The payment of {amount} exceeds what is outstanding on {document.number} ({outstanding}).",
            code="overpayment",
        )
    payment = Payment(
        document=document,
        amount=amount,
        paid_on=paid_on,
        note=note,
        recorded_by=user if isinstance(user, User) else None,
    )
    payment.full_clean()
    payment.save()
    journal_entry_post(
        contract=document.contract,
        kind=JournalEntry.Kind.PAYMENT,
        posted_on=paid_on,
        memo=f"Payment of {document.number}",
        lines=[(Account.CASH, amount, ZERO), (Account.MUNICIPALITY_RECEIVABLE, ZERO, amount)],
        payment=payment,
    )
    return payment


@transaction.atomic
def disbursement_record(
    *,
    contract: Contract,
    investor: ContractInvestor,
    amount: Decimal,
    disbursed_on: date,
    note: str = "",
    user: object | None = None,
) -> CapitalDisbursement:
    """An investor's capital paid out to the operator: debit programme_funding, credit cash."""
    if investor.contract_id != contract.pk:
        raise ValidationError(f"{investor.organisation} is not an investor in {contract.code}.", code="investor")
    disbursement = CapitalDisbursement(
        contract=contract,
        investor=investor,
        amount=amount,
        disbursed_on=disbursed_on,
        note=note,
        recorded_by=user if isinstance(user, User) else None,
    )
    disbursement.full_clean()
    disbursement.save()
    journal_entry_post(
        contract=contract,
        kind=JournalEntry.Kind.DISBURSEMENT,
        posted_on=disbursed_on,
        memo=f"Capital from {investor.organisation.name}" + (f": {note}" if note else ""),
        lines=[(Account.PROGRAMME_FUNDING, amount, ZERO), (Account.CASH, ZERO, amount)],
        disbursement=disbursement,
    )
    return disbursement
