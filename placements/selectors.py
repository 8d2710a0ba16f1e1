"""Who may see and change which employers, jobs and placements (SPEC section 5)."""

from __future__ import annotations

from django.db.models import QuerySet

from candidates.selectors import candidates_editable_by, candidates_for_user
from organisations.models import Role
from organisations.selectors import is_admin, organisation_ids
from placements.models import Employer, Job, Placement

OPERATOR_ROLES = (Role.CONSULTANT, Role.COORDINATOR)


def employers_for_user(user: object) -> QuerySet[Employer]:
    """Employers registered by the user's operator organisations; admins all.

    Employers are the operator's business contacts, so only operator staff see the register. The
    municipality sees where its candidates are placed through the placements, not the whole register.
    """
    queryset = Employer.objects.select_related("operator")
    if is_admin(user):
        return queryset.all()
    return queryset.filter(operator_id__in=organisation_ids(user, OPERATOR_ROLES))


def employers_editable_by(user: object) -> QuerySet[Employer]:
    """Consultants register and edit their operator's employers (daily job 1), as do coordinators."""
    return employers_for_user(user)


def jobs_for_user(user: object) -> QuerySet[Job]:
    """Jobs at the employers the user may see."""
    queryset = Job.objects.select_related("employer", "employer__operator")
    if is_admin(user):
        return queryset.all()
    return queryset.filter(employer__operator_id__in=organisation_ids(user, OPERATOR_ROLES))


def jobs_editable_by(user: object) -> QuerySet[Job]:
    return jobs_for_user(user)


def placements_for_user(user: object) -> QuerySet[Placement]:
    """Placements of the candidates the user may see."""
    queryset = Placement.objects.select_related("candidate", "candidate__contract", "job", "job__employer")
    if is_admin(user):
        return queryset.all()
    return queryset.filter(candidate__in=candidates_for_user(user).values("pk"))


def placements_editable_by(user: object) -> QuerySet[Placement]:
    """Placements of the candidates the user may change (a consultant's caseload, a coordinator's operator)."""
    queryset = Placement.objects.select_related("candidate", "candidate__contract", "job", "job__employer")
    if is_admin(user):
        return queryset.all()
    return queryset.filter(candidate__in=candidates_editable_by(user).values("pk"))
