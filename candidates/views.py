"""Consultant workspace pages: caseload, candidate page, weekly status grid, status uploads (htmx fragments)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from audit.models import AuditEvent
from audit.services import audit_candidates_seen, audit_record
from candidates import services
from candidates.forms import (
    REASON_TEXTS,
    AssignConsultantForm,
    CaseloadFilterForm,
    ConsentForm,
    EnrolForm,
    GridFilterForm,
    NotesForm,
    StatusCellForm,
    UploadForm,
    WithdrawForm,
    add_service_errors,
    error_text,
)
from candidates.models import Candidate, Outcome
from candidates.selectors import candidates_editable_by, status_uploads_for_user
from candidates.workspace_selectors import (
    candidate_audit_trail,
    candidate_statuses,
    caseload,
    grid_candidates,
    grid_cell,
    grid_weeks,
    is_coordinator_of,
    operator_staff_for_user,
    status_grid,
    workspace_candidates,
    workspace_contracts,
)
from candidates.workspace_services import (
    candidate_consent_record,
    candidate_notes_update,
    cpr_reveal,
    weekly_status_upload_create,
)
from common import weeks
from organisations.models import Role
from organisations.selectors import has_role, roles_of
from placements.forms import PlacementEndForm, PlacementForm
from placements.views import placements_context

CASELOAD_PAGE_SIZE = 25
GRID_PAGE_SIZE = 25
AUDIT_ON_PAGE = 12
WEEKS_ON_PAGE = 26  # half a year on the page; all weeks on request
AUDIT_PAGE_SIZE = 50


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (typing only)."""

    htmx: HtmxDetails


# --- shared ---------------------------------------------------------------------------------------------------


def _require_operator_staff(request: HtmxHttpRequest) -> None:
    """The workspace is for consultants and coordinators (and admins); everyone else gets a 404."""
    if not has_role(request.user, Role.CONSULTANT, Role.COORDINATOR):
        raise Http404


def _visible_candidate(request: HtmxHttpRequest, pk: int) -> Candidate:
    _require_operator_staff(request)
    candidate = workspace_candidates(request.user).filter(pk=pk).first()
    if candidate is None:
        raise Http404
    return candidate


def _editable_candidate(request: HtmxHttpRequest, pk: int) -> Candidate:
    _require_operator_staff(request)
    candidate = candidates_editable_by(request.user).filter(pk=pk).first()
    if candidate is None:
        raise Http404
    return candidate


def _with_default_consultant(request: HtmxHttpRequest) -> QueryDict:
    """A consultant's lists start with their own caseload; a coordinator's with everyone's."""
    data = request.GET.copy()
    roles = roles_of(request.user)
    if "consultant" not in data and Role.CONSULTANT in roles and Role.COORDINATOR not in roles:
        data["consultant"] = str(request.user.pk)
    return data


def _querystring(data: QueryDict, **changes: Any) -> str:
    query = data.copy()
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return query.urlencode()


def _safe_next(request: HtmxHttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


# --- caseload ------------------------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def caseload_view(request: HtmxHttpRequest) -> HttpResponse:
    _require_operator_staff(request)
    contracts = list(workspace_contracts(request.user).order_by("code"))
    data = _with_default_consultant(request)
    form = CaseloadFilterForm(data, contracts=contracts, consultants=operator_staff_for_user(request.user))
    form.is_valid()
    filters = form.cleaned_data if form.is_valid() else {}
    by_code = {c.code: c for c in contracts}
    today = timezone.localdate()
    candidates = caseload(
        user=request.user,
        today=today,
        contract=by_code.get(filters.get("contract") or ""),
        status=filters.get("status") or "",
        consultant=filters.get("consultant") or "",
        query=filters.get("q") or "",
        missing_only=bool(filters.get("missing")),
    )
    page = Paginator(candidates, CASELOAD_PAGE_SIZE).get_page(request.GET.get("page"))
    labels = dict(Candidate.Status.choices)
    page.object_list = list(page.object_list)
    for candidate in page.object_list:
        candidate.status_label = labels.get(candidate.status, candidate.status)  # type: ignore[attr-defined]
    # The list shows names: one audit event per contract on the page, one INSERT.
    audit_candidates_seen(
        user=request.user, action=AuditEvent.Action.VIEW_LIST, candidates=page.object_list, object_type="caseload"
    )
    context = {
        "form": form,
        "page": page,
        "current_week": weeks.week_of(today),
        "querystring": _querystring(data, page=None),
        "active_statuses": {Candidate.Status.ENROLLED, Candidate.Status.IN_WORK, Candidate.Status.IN_EDUCATION},
    }
    if request.htmx:
        return render(request, "candidates/partials/caseload_results.html", context)
    return render(request, "candidates/caseload.html", context)


# --- the candidate page --------------------------------------------------------------------------------------


def _programme_context(request: HtmxHttpRequest, candidate: Candidate, **forms: Any) -> dict[str, Any]:
    can_edit = candidates_editable_by(request.user).filter(pk=candidate.pk).exists()
    can_assign = can_edit and is_coordinator_of(request.user, candidate.contract)
    today = timezone.localdate()
    context: dict[str, Any] = {
        "candidate": candidate,
        "can_edit": can_edit,
        "can_assign": can_assign,
        "today": today,
        "enrol_form": forms.get("enrol_form") or EnrolForm(initial={"enrolled_on": today}),
        "withdraw_form": forms.get("withdraw_form") or WithdrawForm(initial={"withdrawn_on": today}),
        "consent_form": forms.get("consent_form") or ConsentForm(initial={"consent_on": today}),
    }
    if can_assign:
        context["assign_form"] = forms.get("assign_form") or AssignConsultantForm(
            initial={"consultant": str(candidate.consultant_id or "")},
            consultants=operator_staff_for_user(request.user),
        )
    return context


def candidate_page(request: HtmxHttpRequest, candidate: Candidate, **extra: Any) -> HttpResponse:
    """The whole candidate page; `extra` carries bound forms with errors, or a revealed CPR number."""
    context = _programme_context(request, candidate, **extra)
    all_weeks = request.GET.get("weeks") == "all"
    statuses = list(
        candidate_statuses(user=request.user, candidate=candidate)[: None if all_weeks else WEEKS_ON_PAGE + 1]
    )
    audit = candidate_audit_trail(candidate=candidate, limit=AUDIT_ON_PAGE + 1)
    context.update(
        {
            "statuses": statuses if all_weeks else statuses[:WEEKS_ON_PAGE],
            "statuses_more": not all_weeks and len(statuses) > WEEKS_ON_PAGE,
            "audit": audit[:AUDIT_ON_PAGE],
            "audit_more": len(audit) > AUDIT_ON_PAGE,
            "notes_form": extra.get("notes_form") or NotesForm(initial={"notes": candidate.notes}),
            "revealed_cpr": extra.get("revealed_cpr"),
            "current_week": weeks.current_week(),
            **placements_context(
                request,
                candidate,
                can_edit=context["can_edit"],
                placement_form=extra.get("placement_form") or PlacementForm(initial={"start": context["today"]}),
                end_form=PlacementEndForm(initial={"end": context["today"]}),
            ),
        }
    )
    today = context["today"]
    kinds = {p.kind for p in context["placements"] if p.start <= today and (p.end is None or p.end >= today)}
    context["status_today"] = candidate.status_on(today, active_placement_kinds=kinds)
    context["status_today_label"] = Candidate.Status(context["status_today"]).label
    return render(request, "candidates/candidate_detail.html", context)


@login_required
@require_GET
def candidate_detail_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    candidate = _visible_candidate(request, pk)
    _audit_page_view(request, candidate, "candidate")
    return candidate_page(request, candidate)


def _audit_page_view(request: HtmxHttpRequest, candidate: Candidate, page: str) -> None:
    audit_record(
        user=request.user,
        action=AuditEvent.Action.VIEW_PAGE,
        object_type="candidate",
        object_id=candidate.pk,
        candidate=candidate,
        contract=candidate.contract_id,
        detail={"page": page},
    )


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def candidate_cpr_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET: the masked number; POST: the full number, logged as a personal data access."""
    candidate = _visible_candidate(request, pk)
    revealed = None
    error = ""
    if request.method == "POST":
        try:
            revealed = cpr_reveal(candidate=candidate, user=request.user)
        except ValidationError as exc:
            error = error_text(exc.error_list[0].code, exc.messages[0])
    if not request.htmx:
        return candidate_page(request, candidate, revealed_cpr=revealed)
    return render(
        request, "candidates/partials/cpr.html", {"candidate": candidate, "revealed_cpr": revealed, "cpr_error": error}
    )


def _programme_response(request: HtmxHttpRequest, candidate: Candidate, ok: str, **forms: Any) -> HttpResponse:
    """After a change to the programme section: the section again (htmx) or the page (post/redirect/get)."""
    failed = any(form.errors for form in forms.values())
    if request.htmx:
        context = _programme_context(request, candidate, **(forms if failed else {}))
        context["saved"] = "" if failed else ok
        return render(request, "candidates/partials/programme.html", context)
    if failed:
        return candidate_page(request, candidate, **forms)
    messages.success(request, ok)
    return redirect("candidates:detail", pk=candidate.pk)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def candidate_enrol_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    candidate = _editable_candidate(request, pk)
    form = EnrolForm(request.POST)
    if form.is_valid():
        try:
            candidate = services.candidate_enrol(
                candidate=candidate, enrolled_on=form.cleaned_data["enrolled_on"], user=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    return _programme_response(request, candidate, _("Enrolment saved."), enrol_form=form)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def candidate_withdraw_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    candidate = _editable_candidate(request, pk)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            candidate = services.candidate_withdraw(
                candidate=candidate,
                withdrawn_on=form.cleaned_data["withdrawn_on"],
                reason=form.cleaned_data["reason"],
                user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    return _programme_response(request, candidate, _("Withdrawal saved."), withdraw_form=form)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def candidate_consent_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    candidate = _editable_candidate(request, pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            candidate = candidate_consent_record(
                candidate=candidate, consent_on=form.cleaned_data["consent_on"], user=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    return _programme_response(request, candidate, _("Consent saved."), consent_form=form)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def candidate_assign_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    candidate = _editable_candidate(request, pk)
    if not is_coordinator_of(request.user, candidate.contract):
        raise Http404
    form = AssignConsultantForm(request.POST, consultants=operator_staff_for_user(request.user))
    if form.is_valid():
        try:
            candidate = services.candidate_assign_consultant(
                candidate=candidate, consultant=form.chosen(), user=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    return _programme_response(request, candidate, _("Consultant saved."), assign_form=form)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def candidate_notes_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    candidate = _editable_candidate(request, pk)
    form = NotesForm(request.POST)
    saved = ""
    if form.is_valid():
        try:
            candidate = candidate_notes_update(candidate=candidate, notes=form.cleaned_data["notes"], user=request.user)
            saved = _("Notes saved.")
        except ValidationError as exc:
            add_service_errors(form, exc)
    if not request.htmx:
        if form.errors:
            return candidate_page(request, candidate, notes_form=form)
        messages.success(request, saved)
        return redirect("candidates:detail", pk=candidate.pk)
    return render(
        request,
        "candidates/partials/notes.html",
        {"candidate": candidate, "notes_form": form, "can_edit": True, "saved": saved},
    )


@login_required
@require_GET
def candidate_history_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    candidate = _visible_candidate(request, pk)
    _audit_page_view(request, candidate, "history")
    page = Paginator(candidate_audit_trail(candidate=candidate), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "candidates/candidate_history.html", {"candidate": candidate, "page": page})


# --- the weekly status grid ----------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def status_grid_view(request: HtmxHttpRequest) -> HttpResponse:
    _require_operator_staff(request)
    contracts = list(workspace_contracts(request.user).order_by("code"))
    data = _with_default_consultant(request)
    form = GridFilterForm(data, contracts=contracts, consultants=operator_staff_for_user(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    now = timezone.now()
    current = weeks.current_week(now)
    until = min(filters.get("until") or current, current)
    week_list = grid_weeks(until)
    by_code = {c.code: c for c in contracts}
    candidates = grid_candidates(
        user=request.user,
        first=week_list[0],
        last=week_list[-1],
        contract=by_code.get(filters.get("contract") or ""),
        consultant=filters.get("consultant") or "",
    )
    page = Paginator(candidates, GRID_PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page)
    rows = status_grid(user=request.user, candidates=shown, week_list=week_list, now=now)
    audit_candidates_seen(
        user=request.user, action=AuditEvent.Action.VIEW_LIST, candidates=shown, object_type="status_grid"
    )
    earlier = weeks.add_weeks(until, -len(week_list))
    later = weeks.add_weeks(until, len(week_list))
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "week_list": week_list,
        "current_week": current,
        "earlier": _querystring(data, until=weeks.format_week(earlier), page=None),
        "later": _querystring(data, until=weeks.format_week(min(later, current)), page=None) if until < current else "",
        "querystring": _querystring(data, page=None),
        "outcomes": Outcome.choices,
        "grid_url": request.get_full_path(),
        "locked_contracts": [c for c in contracts if c.is_locked and filters.get("contract") in ("", None, c.code)],
    }
    if request.htmx:
        return render(request, "candidates/partials/grid.html", context)
    return render(request, "candidates/status_grid.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def grid_cell_view(request: HtmxHttpRequest, pk: int, week: date) -> HttpResponse:
    """One cell of the grid: GET shows it, POST records the outcome under the import rules (B10 included)."""
    now = timezone.now()
    if request.method == "POST":
        candidate = _editable_candidate(request, pk)
        editable = True
    else:
        candidate = _visible_candidate(request, pk)
        editable = candidates_editable_by(request.user).filter(pk=pk).exists()
    errors: list[str] = []
    needs_reason = False
    chosen = ""
    form = StatusCellForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            chosen = form.cleaned_data["outcome"]
            before = grid_cell(user=request.user, candidate=candidate, week=week, now=now, editable=editable)
            hours = _hours_for(before, chosen)
            try:
                services.weekly_status_upsert(
                    candidate=candidate,
                    week=week,
                    outcome=chosen,
                    hours=hours,
                    note=form.cleaned_data["note"],
                    user=request.user,
                    now=now,
                )
                chosen = ""
            except ValidationError as exc:
                for error in exc.error_dict.get("note", []) if hasattr(exc, "error_dict") else []:
                    needs_reason = needs_reason or error.code == "reason_required"
                errors = [
                    error_text(e.code, " ".join(e.messages), REASON_TEXTS)
                    for e in (
                        [e for errs in exc.error_dict.values() for e in errs]
                        if hasattr(exc, "error_dict")
                        else exc.error_list
                    )
                ]
        else:
            errors = [str(message) for messages_ in form.errors.values() for message in messages_]
        if not request.htmx and not errors:
            return redirect(_safe_next(request, reverse("candidates:grid")))
    cell = grid_cell(user=request.user, candidate=candidate, week=week, now=now, editable=editable)
    context = {
        "cell": cell,
        "errors": errors,
        "needs_reason": needs_reason,
        "chosen": chosen,
        "note": form.data.get("note", "") if request.method == "POST" else "",
        "outcomes": Outcome.choices,
        "grid_url": _safe_next(request, reverse("candidates:grid")),
    }
    if request.htmx or errors:
        return render(request, "candidates/partials/grid_cell.html", context)
    return redirect(_safe_next(request, reverse("candidates:grid")))


def _hours_for(cell: Any, outcome: str) -> Any:
    """Hours to store with a cell's outcome: the recorded ones stay; a taken suggestion brings its own."""
    if cell.status is not None:
        return cell.status.hours
    suggestion = cell.suggestion
    if suggestion is not None and suggestion.outcome == outcome:
        return suggestion.hours
    return None


# --- uploads --------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def upload_view(request: HtmxHttpRequest) -> HttpResponse:
    _require_operator_staff(request)
    contracts = [c for c in workspace_contracts(request.user).order_by("code") if not c.is_locked]
    form = UploadForm(request.POST or None, request.FILES or None, contracts=contracts)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            upload = weekly_status_upload_create(
                contract=form.chosen_contract(),
                user=request.user,
                file_name=upload_file.name,
                content=upload_file.read(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("candidates:upload_detail", pk=upload.pk)
    recent = list(status_uploads_for_user(request.user).filter(uploaded_by_id=request.user.pk)[:10])
    return render(request, "candidates/upload.html", {"form": form, "recent": recent, "contracts": contracts})


def _where(where: str) -> str:
    """`line 7` in the user's language."""
    number = where.removeprefix("line ")
    return _("line %(number)s") % {"number": number} if number.isdigit() else where


@login_required
@require_GET
@vary_on_headers("HX-Request")
def upload_detail_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _require_operator_staff(request)
    upload = status_uploads_for_user(request.user).filter(pk=pk).first()
    if upload is None:
        raise Http404
    errors = [
        {"where": _where(e.get("where", "")), "label": error_text(e.get("code"), ""), "message": e.get("message", "")}
        for e in upload.errors
    ]
    context = {"upload": upload, "errors": errors}
    if request.htmx:
        return render(request, "candidates/partials/upload_progress.html", context)
    return render(request, "candidates/upload_detail.html", context)
