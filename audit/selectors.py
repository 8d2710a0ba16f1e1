"""Reading the audit log: coordinators their contracts' events, admins all; the search behind /audit/."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import AuditEvent
from candidates.models import Candidate
from organisations.models import Role
from organisations.selectors import contracts_for_user, has_role, is_admin


def may_read_audit_log(user: object) -> bool:
    """Coordinators (for their contracts) and admins; consultants, municipality and investors never."""
    return is_admin(user) or has_role(user, Role.COORDINATOR)


def audit_events_for_user(user: object) -> QuerySet[AuditEvent]:
    """Events the user may read: a coordinator's contracts' events; admins all (system events without a contract too)."""
    queryset = AuditEvent.objects.select_related("user", "contract")
    if is_admin(user):
        return queryset.all()
    if not has_role(user, Role.COORDINATOR):
        return queryset.none()
    return queryset.filter(contract__in=contracts_for_user(user, roles=[Role.COORDINATOR]))


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events_search(
    *,
    user: object,
    candidate_ref: str = "",
    person: str = "",
    action: str = "",
    contract_code: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """The user's events filtered; newest first. `candidate_ref` finds events naming the candidate alone or in a set."""
    events = audit_events_for_user(user)
    if contract_code:
        events = events.filter(contract__code=contract_code)
    if action:
        events = events.filter(action=action)
    if person:
        events = events.filter(
            Q(user__username__icontains=person)
            | Q(user__first_name__icontains=person)
            | Q(user__last_name__icontains=person)
        )
    if date_from:
        events = events.filter(at__gte=_start_of(date_from))
    if date_to:
        events = events.filter(at__lt=_start_of(date_to + timedelta(days=1)))
    if candidate_ref:
        candidates = Candidate.objects.filter(ref=candidate_ref.strip())
        if not is_admin(user):
            candidates = candidates.filter(contract__in=contracts_for_user(user, roles=[Role.COORDINATOR]))
        ids = list(candidates.values_list("pk", flat=True)[:50])
        condition = Q(pk__in=[])
        for pk in ids:
            condition |= Q(candidate_id=pk) | Q(candidate_ids__contains=f",{pk},")
        events = events.filter(condition)
    return events.order_by("-at", "-pk")


def candidate_refs(events: Iterable[AuditEvent]) -> dict[int, str]:
    """The refs of the candidates the events name, in one query (the log itself holds only ids)."""
    ids = {pk for event in events for pk in event.candidate_id_list}
    if not ids:
        return {}
    return dict(Candidate.objects.filter(pk__in=ids).values_list("pk", "ref"))


def describe(event: AuditEvent, refs: dict[int, str], limit: int | None = None) -> dict[str, Any]:
    """What a row of the search page or the CSV shows of one event."""
    ids = event.candidate_id_list
    shown = ids if limit is None else ids[:limit]
    return {
        "event": event,
        "refs": [refs.get(pk, f"#{pk}") for pk in shown],
        "more": len(ids) - len(shown),
    }
