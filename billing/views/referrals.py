"""Referrals by the municipality: refer one person, or draw a recorded lottery among the eligible."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.models import AuditEvent
from audit.services import audit_candidates_seen
from billing.forms import LotteryForm, ReferralForm
from billing.portal_selectors import lotteries_for_user, referral_contracts_for_user
from billing.services.referrals import eligible_parse, lottery_reproduces, referral_create, referral_lottery_draw
from candidates.selectors import candidates_for_user
from organisations.models import Contract

PAGE_SIZE = 30


def _contract(request: HttpRequest) -> tuple[Contract, list[Contract]]:
    """The contract chosen by ?contract=CODE among those the user may refer to (the first by default)."""
    contracts = list(referral_contracts_for_user(request.user).order_by("code"))
    if not contracts:
        raise Http404("No contract to refer to")
    code = request.GET.get("contract") or request.POST.get("contract")
    if not code:
        return contracts[0], contracts
    for contract in contracts:
        if contract.code == code:
            return contract, contracts
    raise Http404("No such contract")


def _page_context(request: HttpRequest, contract: Contract, contracts: list[Contract], **extra: Any) -> dict[str, Any]:
    candidates = candidates_for_user(request.user).filter(contract=contract).order_by("-referred_on", "-pk")
    page = Paginator(candidates, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    # The list shows names and masked CPR numbers: one audit event.
    audit_candidates_seen(
        user=request.user, action=AuditEvent.Action.VIEW_LIST, candidates=page.object_list, object_type="referrals"
    )
    context = {
        "contract": contract,
        "contracts": contracts,
        "page": page,
        "lotteries": lotteries_for_user(request.user).filter(contract=contract)[:10],
        "form": ReferralForm(initial={"referred_on": timezone.localdate()}),
    }
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def referral_page(request: HttpRequest) -> HttpResponse:
    contract, contracts = _contract(request)
    if request.method == "POST":
        form = ReferralForm(request.POST)
        if form.is_valid():
            try:
                candidate = referral_create(contract=contract, user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.error_dict.items() if hasattr(exc, "error_dict") else [(None, exc.error_list)]:
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _("%(name)s is referred to %(code)s as candidate %(ref)s.")
                    % {"name": candidate.name, "code": contract.code, "ref": candidate.ref},
                )
                return redirect(f"{reverse('billing:referrals')}?contract={contract.code}")
        context = _page_context(request, contract, contracts, form=form)
        return render(request, "billing/referrals.html", context, status=400)
    return render(request, "billing/referrals.html", _page_context(request, contract, contracts))


@login_required
@require_http_methods(["GET", "POST"])
def referral_lottery(request: HttpRequest) -> HttpResponse:
    """Draw: the result page lists names once (they are not stored); the record keeps hashes only."""
    contract, contracts = _contract(request)
    form = LotteryForm(request.POST or None, initial={"referral_date": timezone.localdate()})
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        people, problems = eligible_parse(form.cleaned_data["eligible"])
        if not problems:
            try:
                outcome = referral_lottery_draw(
                    contract=contract,
                    people=people,
                    referred_count=form.cleaned_data["referred_count"],
                    referral_date=form.cleaned_data["referral_date"],
                    seed=form.cleaned_data["seed"],
                    user=request.user,
                )
            except ValidationError as exc:
                problems = exc.messages
            else:
                messages.success(
                    request,
                    _(
                        "The lottery is drawn and recorded: %(referred)d referred, %(comparison)d in the comparison group."
                    )
                    % {"referred": len(outcome.referred), "comparison": len(outcome.comparison)},
                )
                return render(
                    request,
                    "billing/referral_lottery_result.html",
                    {"contract": contract, "outcome": outcome, "lottery": outcome.lottery},
                )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "billing/referral_lottery.html",
        {"contract": contract, "contracts": contracts, "form": form, "problems": problems},
        status=status,
    )


@login_required
@require_GET
def referral_lottery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lottery = lotteries_for_user(request.user).filter(pk=pk).first()
    if lottery is None:
        raise Http404("No such lottery")
    groups = dict.fromkeys(lottery.referred, "referred") | dict.fromkeys(lottery.comparison, "comparison")
    refs = dict(zip(lottery.referred, lottery.referred_refs, strict=False))
    entries = [
        {"position": index, "hash": value, "group": groups.get(value, ""), "ref": refs.get(value, "")}
        for index, value in enumerate(lottery.eligible, start=1)
    ]
    return render(
        request,
        "billing/referral_lottery_detail.html",
        {"lottery": lottery, "entries": entries, "reproduces": lottery_reproduces(lottery)},
    )
