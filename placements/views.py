"""Workspace pages for employers and jobs, the job search, and logging and ending a candidate's placements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from candidates.forms import add_service_errors
from candidates.models import Candidate
from candidates.selectors import candidates_editable_by
from candidates.workspace_selectors import OPERATOR_ROLES, candidate_placements
from organisations.models import Organisation, Role
from organisations.selectors import has_role, is_admin, organisation_ids, organisations_for_user
from placements import services
from placements.forms import EmployerForm, JobForm, PlacementEndForm, PlacementForm
from placements.selectors import employers_editable_by, employers_for_user, jobs_for_user, placements_editable_by

if TYPE_CHECKING:
    from candidates.views import HtmxHttpRequest

EMPLOYER_PAGE_SIZE = 25
JOB_SEARCH_LIMIT = 10


def _require_operator_staff(request: HtmxHttpRequest) -> None:
    if not has_role(request.user, Role.CONSULTANT, Role.COORDINATOR):
        raise Http404


def _operators_for(user: Any) -> list[Organisation]:
    """The operators the user may register employers for: their own (admins: every operator)."""
    operators = organisations_for_user(user).filter(kind=Organisation.Kind.OPERATOR)
    if not is_admin(user):
        operators = operators.filter(pk__in=organisation_ids(user, OPERATOR_ROLES))
    return list(operators.order_by("name"))


# --- employers and jobs --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def employers_view(request: HtmxHttpRequest) -> HttpResponse:
    _require_operator_staff(request)
    query = (request.GET.get("q") or "").strip()
    employers = employers_for_user(request.user).annotate(job_count=Count("jobs"))
    if query:
        employers = employers.filter(Q(name__icontains=query) | Q(cvr__startswith=query) | Q(sector__icontains=query))
    page = Paginator(employers.order_by("name"), EMPLOYER_PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {"page": page, "q": query}
    if request.htmx and request.method == "GET":
        return render(request, "placements/partials/employer_list.html", context)
    form = EmployerForm(request.POST or None, operators=_operators_for(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            employer = services.employer_create(
                operator=form.chosen_operator(),
                name=form.cleaned_data["name"],
                cvr=form.cleaned_data["cvr"],
                sector=form.cleaned_data["sector"],
                own_enterprise=form.cleaned_data["own_enterprise"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Employer %(name)s registered.") % {"name": employer.name})
            return redirect("placements:employer", pk=employer.pk)
    context["form"] = form
    return render(request, "placements/employers.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def employer_detail_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _require_operator_staff(request)
    employer = employers_for_user(request.user).filter(pk=pk).first()
    if employer is None:
        raise Http404
    form = JobForm(request.POST or None)
    if request.method == "POST":
        if not employers_editable_by(request.user).filter(pk=pk).exists():
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = services.job_create(
                    employer=employer,
                    title=data["title"],
                    kind=data["kind"],
                    hours_per_week=data["hours_per_week"],
                    hourly_wage=data["hourly_wage"],
                    sector=data["sector"] or None,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Job %(title)s added.") % {"title": job.title})
                return redirect("placements:employer", pk=employer.pk)
    jobs = jobs_for_user(request.user).filter(employer=employer).annotate(placement_count=Count("placements"))
    return render(
        request, "placements/employer_detail.html", {"employer": employer, "jobs": jobs.order_by("title"), "form": form}
    )


@login_required
@require_GET
@vary_on_headers("HX-Request")
def job_search_view(request: HtmxHttpRequest) -> HttpResponse:
    """Search-as-you-type for the placement form: the first jobs whose title, employer or sector match."""
    _require_operator_staff(request)
    query = (request.GET.get("job_search") or request.GET.get("q") or "").strip()
    jobs = jobs_for_user(request.user).order_by("employer__name", "title")
    for word in query.split():
        jobs = jobs.filter(Q(title__icontains=word) | Q(employer__name__icontains=word) | Q(sector__icontains=word))
    found = list(jobs[: JOB_SEARCH_LIMIT + 1]) if query else []
    return render(
        request,
        "placements/partials/job_results.html",
        {"jobs": found[:JOB_SEARCH_LIMIT], "more": len(found) > JOB_SEARCH_LIMIT, "q": query},
    )


# --- a candidate's placements --------------------------------------------------------------------------------


def placements_context(
    request: HtmxHttpRequest,
    candidate: Candidate,
    *,
    can_edit: bool,
    placement_form: PlacementForm | None = None,
    end_form: PlacementEndForm | None = None,
    end_errors: dict[int, list[str]] | None = None,
) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "candidate": candidate,
        "placements": list(candidate_placements(user=request.user, candidate=candidate)),
        "can_edit": can_edit,
        "placement_form": placement_form or PlacementForm(initial={"start": today}),
        "end_form": end_form or PlacementEndForm(initial={"end": today}),
        "end_errors": end_errors or {},
        "today": today,
    }


def _placements_response(
    request: HtmxHttpRequest, candidate: Candidate, *, ok: str, failed: bool, **forms: Any
) -> HttpResponse:
    if request.htmx:
        context = placements_context(request, candidate, can_edit=True, **(forms if failed else {}))
        context["saved"] = "" if failed else ok
        return render(request, "placements/partials/placements.html", context)
    if failed:
        from candidates.views import candidate_page

        return candidate_page(request, candidate, **{k: v for k, v in forms.items() if k == "placement_form"})
    messages.success(request, ok)
    return redirect("candidates:detail", pk=candidate.pk)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def placement_create_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _require_operator_staff(request)
    candidate = candidates_editable_by(request.user).filter(pk=pk).first()
    if candidate is None:
        raise Http404
    form = PlacementForm(request.POST, jobs=jobs_for_user(request.user))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.placement_create(
                candidate=candidate,
                job=data["job"],
                education=data["education"],
                start=data["start"],
                end=data["end"],
                hours_per_week=data["hours_per_week"],
                user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    return _placements_response(
        request, candidate, ok=_("Placement logged."), failed=bool(form.errors), placement_form=form
    )


@login_required
@require_POST
@vary_on_headers("HX-Request")
def placement_end_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _require_operator_staff(request)
    placement = placements_editable_by(request.user).filter(pk=pk).first()
    if placement is None:
        raise Http404
    form = PlacementEndForm(request.POST)
    end_errors: dict[int, list[str]] = {}
    if form.is_valid():
        try:
            services.placement_end(placement=placement, end=form.cleaned_data["end"], user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        end_errors[placement.pk] = [str(m) for errors in form.errors.values() for m in errors]
    candidate = placement.candidate
    if request.htmx:
        context = placements_context(request, candidate, can_edit=True, end_errors=end_errors)
        context["saved"] = "" if end_errors else _("Placement ended.")
        return render(request, "placements/partials/placements.html", context)
    if end_errors:
        messages.error(request, " ".join(end_errors[placement.pk]))
    else:
        messages.success(request, _("Placement ended."))
    return redirect("candidates:detail", pk=candidate.pk)
