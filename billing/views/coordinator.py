"""Billing pages for the operator's coordinator: settlements, issued documents and the next-document preview."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing.models import Account, Settlement
from billing.selectors import ledger_balances_for_contract
from billing.services.settlement import next_week_to_settle, preview_next_document, week_closes_at
from organisations.models import Contract, Role
from organisations.selectors import contracts_for_user


def _coordinated_contract(request: HttpRequest, code: str) -> Contract:
    """The contract, if the user coordinates it (or is admin); otherwise 404, never a hint that it exists."""
    contract = (
        contracts_for_user(request.user, roles=[Role.COORDINATOR])
        .select_related("municipality", "operator", "payee")
        .filter(code=code)
        .first()
    )
    if contract is None:
        raise Http404("No such contract")
    return contract


@login_required
@require_GET
def contract_billing(request: HttpRequest, code: str) -> HttpResponse:
    contract = _coordinated_contract(request, code)
    settlements = Settlement.objects.filter(contract=contract).select_related("document").order_by("-week")
    page = Paginator(settlements, 26).get_page(request.GET.get("page"))
    draft = preview_next_document(contract=contract)
    next_week = next_week_to_settle(contract)
    return render(
        request,
        "billing/contract_billing.html",
        {
            "contract": contract,
            "page": page,
            "draft": draft,
            "closes_at": week_closes_at(contract=contract, week=next_week) if next_week else None,
            "balances": [
                (Account(account).label, balance)
                for account, balance in ledger_balances_for_contract(contract=contract).items()
            ],
        },
    )
