"""Disputes: the municipality follows its own, the operator's coordinator resolves the open ones."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditEvent
from audit.services import audit_candidates_seen
from billing.forms import DisputeResolveForm
from billing.models import Dispute
from billing.portal_selectors import disputes_for_user, disputes_resolvable_by
from billing.services.disputes import dispute_accept, dispute_reject

PAGE_SIZE = 30


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    status = request.GET.get("status", Dispute.Status.OPEN)
    if status not in (*Dispute.Status.values, "all"):
        status = Dispute.Status.OPEN
    disputes = disputes_for_user(request.user).order_by("-raised_at", "-pk")
    if status != "all":
        disputes = disputes.filter(status=status)
    page = Paginator(disputes, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    # The list names the disputed lines' candidates: one audit event per contract, one INSERT.
    audit_candidates_seen(
        user=request.user,
        action=AuditEvent.Action.VIEW_LIST,
        candidates=[dispute.line.candidate for dispute in page.object_list],
        object_type="disputes",
    )
    resolvable = set(
        disputes_resolvable_by(request.user).filter(pk__in=[d.pk for d in page]).values_list("pk", flat=True)
    )
    context = {
        "page": page,
        "status": status,
        "statuses": [
            (Dispute.Status.OPEN, _("Open")),
            (Dispute.Status.ACCEPTED, _("Accepted")),
            (Dispute.Status.REJECTED, _("Rejected")),
            ("all", _("All")),
        ],
        "resolvable": resolvable,
        "form_for": None,
        "form": DisputeResolveForm(),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def dispute_list(request: HttpRequest) -> HttpResponse:
    return render(request, "billing/dispute_list.html", _context(request))


@login_required
@require_POST
def dispute_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """The coordinator accepts (the status is corrected) or rejects (with a reason) one open dispute."""
    dispute = disputes_resolvable_by(request.user).filter(pk=pk).first()
    if dispute is None:
        raise Http404("No such dispute")
    form = DisputeResolveForm(request.POST)
    if form.is_valid():
        note = form.cleaned_data["note"]
        try:
            if form.cleaned_data["decision"] == Dispute.Status.ACCEPTED:
                dispute_accept(dispute=dispute, note=note, user=request.user)
                messages.success(
                    request,
                    _(
                        "Accepted: the weekly status of %(ref)s, week %(week)s is corrected; the adjustment follows on "
                        "the next document."
                    )
                    % {"ref": dispute.line.candidate.ref, "week": dispute.line.week_label},
                )
            else:
                dispute_reject(dispute=dispute, note=note, user=request.user)
                messages.success(request, _("The dispute is rejected; the municipality sees your reason."))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("billing:dispute_list")
    return render(request, "billing/dispute_list.html", _context(request, form=form, form_for=dispute.pk), status=400)
