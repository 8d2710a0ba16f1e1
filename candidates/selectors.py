"""Who may see and change which candidates and weekly statuses (SPEC section 5), one function per family."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from candidates.models import Candidate, WeeklyStatus, WeeklyStatusUpload
from organisations.models import Role
from organisations.selectors import contracts_for_user, is_admin, memberships_of

# Roles that see the candidates of a contract. Investors never do: they get aggregates only (no name,
# no CPR, no candidate page), which the dashboard computes without handing them candidate rows.
CANDIDATE_VIEW_ROLES = (Role.CONSULTANT, Role.COORDINATOR, Role.MUNICIPALITY)


def candidates_for_user(user: object) -> QuerySet[Candidate]:
    """Candidates the user may see: operator staff and the municipality of the contract; admins all."""
    queryset = Candidate.objects.select_related("contract", "consultant")
    if is_admin(user):
        return queryset.all()
    return queryset.filter(contract__in=contracts_for_user(user, roles=CANDIDATE_VIEW_ROLES))


def candidates_editable_by(user: object) -> QuerySet[Candidate]:
    """Candidates the user may change: a coordinator all of the operator's, a consultant their caseload.

    The municipality refers candidates (a later, separate use case) but does not edit the operator's
    records; investors change nothing.
    """
    queryset = Candidate.objects.select_related("contract", "consultant")
    if is_admin(user):
        return queryset.all()
    if not memberships_of(user):  # anonymous, inactive or without a role: nothing (and no user to compare)
        return queryset.none()
    condition = Q(contract__in=contracts_for_user(user, roles=[Role.COORDINATOR]))
    condition |= Q(contract__in=contracts_for_user(user, roles=[Role.CONSULTANT]), consultant=user)
    return queryset.filter(condition)


def weekly_statuses_for_user(user: object) -> QuerySet[WeeklyStatus]:
    """Weekly statuses of the candidates the user may see."""
    queryset = WeeklyStatus.objects.select_related("candidate", "candidate__contract")
    if is_admin(user):
        return queryset.all()
    return queryset.filter(candidate__in=candidates_for_user(user).values("pk"))


def weekly_statuses_editable_by(user: object) -> QuerySet[WeeklyStatus]:
    """Weekly statuses of the candidates the user may change (the B10 lock is the service's business)."""
    queryset = WeeklyStatus.objects.select_related("candidate", "candidate__contract")
    if is_admin(user):
        return queryset.all()
    return queryset.filter(candidate__in=candidates_editable_by(user).values("pk"))


def status_uploads_for_user(user: object) -> QuerySet[WeeklyStatusUpload]:
    """Status uploads: a coordinator sees all of the operator's contracts, a consultant their own; admins all.

    The uploaded file itself (`content`) is deferred: lists never need it.
    """
    queryset = WeeklyStatusUpload.objects.select_related("contract", "uploaded_by").defer("content")
    if is_admin(user):
        return queryset.all()
    if not memberships_of(user):
        return queryset.none()
    condition = Q(contract__in=contracts_for_user(user, roles=[Role.COORDINATOR]))
    condition |= Q(contract__in=contracts_for_user(user, roles=[Role.CONSULTANT]), uploaded_by=user)
    return queryset.filter(condition)
