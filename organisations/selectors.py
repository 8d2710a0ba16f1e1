"""Who may see which contract: the one scoping function every page, API, export and admin uses."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from organisations.models import Contract, Membership, Organisation, Role


def is_admin(user: object) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)  # type: ignore[attr-defined]


def memberships_of(user: object) -> list[Membership]:
    """The user's memberships, loaded once per user object (a request)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:  # type: ignore[attr-defined]
        return []
    cached = getattr(user, "_memberships_cache", None)
    if cached is None:
        cached = list(Membership.objects.filter(user_id=user.pk).select_related("organisation"))  # type: ignore[attr-defined]
        user._memberships_cache = cached  # type: ignore[attr-defined]
    return cached


def roles_of(user: object) -> set[str]:
    return {m.role for m in memberships_of(user)}


def has_role(user: object, *roles: str) -> bool:
    return is_admin(user) or bool(roles_of(user) & set(roles))


def organisation_ids(user: object, roles: Iterable[str]) -> set[int]:
    wanted = set(roles)
    return {m.organisation_id for m in memberships_of(user) if m.role in wanted}


def _contract_filter(user: object, roles: Iterable[str] | None) -> Q | None:
    """The Q that selects the user's contracts in the given roles; None means nothing."""
    wanted = set(roles) if roles is not None else set(Role.values)
    condition = Q(pk__in=[])
    operator_ids = organisation_ids(user, wanted & {Role.CONSULTANT, Role.COORDINATOR})
    municipality_ids = organisation_ids(user, wanted & {Role.MUNICIPALITY})
    investor_ids = organisation_ids(user, wanted & {Role.INVESTOR})
    found = False
    if operator_ids:
        condition |= Q(operator_id__in=operator_ids)
        found = True
    if municipality_ids:
        condition |= Q(municipality_id__in=municipality_ids)
        found = True
    if investor_ids:
        condition |= Q(investors__organisation_id__in=investor_ids) | Q(payee_id__in=investor_ids)
        found = True
    return condition if found else None


def contracts_for_user(user: object, *, roles: Iterable[str] | None = None) -> QuerySet[Contract]:
    """Contracts the user takes part in (optionally only through the given roles); admins see all."""
    if is_admin(user):
        return Contract.objects.all()
    condition = _contract_filter(user, roles)
    if condition is None:
        return Contract.objects.none()
    return Contract.objects.filter(pk__in=Contract.objects.filter(condition).values("pk"))


def organisations_for_user(user: object) -> QuerySet[Organisation]:
    """Own organisations and the parties of own contracts."""
    if is_admin(user):
        return Organisation.objects.all()
    contracts = contracts_for_user(user)
    own = {m.organisation_id for m in memberships_of(user)}
    return Organisation.objects.filter(
        Q(pk__in=own)
        | Q(contracts_as_municipality__in=contracts)
        | Q(contracts_as_operator__in=contracts)
        | Q(contracts_as_payee__in=contracts)
        | Q(investments__contract__in=contracts)
    ).distinct()


__all__ = [
    "AnonymousUser",
    "contracts_for_user",
    "has_role",
    "is_admin",
    "memberships_of",
    "organisation_ids",
    "organisations_for_user",
    "roles_of",
]
