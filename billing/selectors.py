"""Who may see which settlements, invoices, payments, disbursements and ledger entries (SPEC section 5).

Billing rows are never changed through any role (B10), so there are only `..._for_user` readers here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum

from billing.models import (
    Account,
    CapitalDisbursement,
    Document,
    DocumentLine,
    JournalEntry,
    Payment,
    Posting,
    Settlement,
)
from common.money import ZERO
from organisations.models import Contract, Role
from organisations.selectors import contracts_for_user, is_admin

# Settlements and invoices: the municipality that pays them and the operator's coordinator. Consultants
# work with candidates, not money; investors follow money through the ledger, where no line names a
# candidate.
DOCUMENT_ROLES = (Role.COORDINATOR, Role.MUNICIPALITY)
# The investor ledger: the investors (and funders) of the contract and the operator's coordinator. The
# municipality sees its invoices and payments, not the investor's books.
LEDGER_ROLES = (Role.COORDINATOR, Role.INVESTOR)
# Capital disbursements are the investor's money paid to the operator.
DISBURSEMENT_ROLES = (Role.COORDINATOR, Role.INVESTOR)
# Payments are the municipality's money paid against invoices.
PAYMENT_ROLES = (Role.COORDINATOR, Role.MUNICIPALITY)


def _contracts(user: object, roles: tuple[str, ...]) -> QuerySet[Contract]:
    return contracts_for_user(user, roles=roles)


def _scoped(queryset: QuerySet[Any], user: object, roles: tuple[str, ...], contract_path: str) -> QuerySet[Any]:
    """Admins see every row; others the rows whose contract (at `contract_path`) they hold one of `roles` in."""
    if is_admin(user):
        return queryset.all()
    return queryset.filter(**{f"{contract_path}__in": _contracts(user, roles)})


def settlement_contracts_for_user(user: object) -> QuerySet[Contract]:
    """Contracts whose settlements and invoices the user may see."""
    return _contracts(user, DOCUMENT_ROLES)


def ledger_contracts_for_user(user: object) -> QuerySet[Contract]:
    """Contracts whose ledger the user may see."""
    return _contracts(user, LEDGER_ROLES)


def settlements_for_user(user: object) -> QuerySet[Settlement]:
    return _scoped(Settlement.objects.select_related("contract"), user, DOCUMENT_ROLES, "contract")


def documents_for_user(user: object) -> QuerySet[Document]:
    """Invoices and credit notes: the municipality of the contract, the operator's coordinator, admins."""
    return _scoped(
        Document.objects.select_related("contract", "contract__municipality", "settlement"),
        user,
        DOCUMENT_ROLES,
        "contract",
    )


def document_lines_for_user(user: object) -> QuerySet[DocumentLine]:
    return _scoped(
        DocumentLine.objects.select_related("document", "document__contract", "candidate"),
        user,
        DOCUMENT_ROLES,
        "document__contract",
    )


def journal_entries_for_user(user: object) -> QuerySet[JournalEntry]:
    """Ledger entries: the contract's investors, the operator's coordinator, admins."""
    return _scoped(
        JournalEntry.objects.select_related("contract", "document", "payment", "disbursement"),
        user,
        LEDGER_ROLES,
        "contract",
    )


def postings_for_user(user: object) -> QuerySet[Posting]:
    return _scoped(Posting.objects.select_related("entry", "entry__contract"), user, LEDGER_ROLES, "entry__contract")


def disbursements_for_user(user: object) -> QuerySet[CapitalDisbursement]:
    """Capital disbursements of the contracts the user invests in or coordinates; admins all."""
    return _scoped(
        CapitalDisbursement.objects.select_related("contract", "investor", "investor__organisation"),
        user,
        DISBURSEMENT_ROLES,
        "contract",
    )


def payments_for_user(user: object) -> QuerySet[Payment]:
    """Municipal payments: the paying municipality, the operator's coordinator, admins."""
    return _scoped(
        Payment.objects.select_related("document", "document__contract"), user, PAYMENT_ROLES, "document__contract"
    )


def ledger_balances_for_contract(*, contract: Contract) -> dict[str, Decimal]:
    """Debit-positive balance per account of one contract's ledger, every account present (zero if unused).

    Scope the contract first (`ledger_contracts_for_user`); this reads whatever contract it is given.
    """
    rows = (
        Posting.objects.filter(entry__contract=contract)
        .order_by()
        .values("account")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
    )
    balances = dict.fromkeys(Account.values, ZERO)
    for row in rows:
        balances[row["account"]] = (row["debit"] or ZERO) - (row["credit"] or ZERO)
    return balances
