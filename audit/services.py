"""Writing the audit log: one `audit_record` for a single event, `audit_candidates_seen` for a set (one INSERT)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from django.utils import timezone

from audit.context import current_origin
from audit.models import AuditEvent

Action = AuditEvent.Action


class _HasContract(Protocol):
    pk: Any
    contract_id: Any


def _user_or_none(user: object | None) -> Any:
    return user if getattr(user, "pk", None) else None


def _pk(value: Any) -> Any:
    return getattr(value, "pk", value)


def ids_text(ids: Iterable[int]) -> str:
    """`,12,15,`: searchable with one `contains` on any database (see AuditEvent.candidate_ids)."""
    unique = sorted({int(i) for i in ids})
    return f",{','.join(map(str, unique))}," if unique else ""


def audit_event(
    *,
    user: object | None,
    action: str,
    object_type: str = "",
    object_id: object = "",
    candidate: object | None = None,
    candidate_ids: Iterable[int] = (),
    contract: object | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """An unsaved event with the current request's origin (for bulk inserts)."""
    origin = current_origin()
    candidate_pk = _pk(candidate)
    ids = sorted({int(i) for i in candidate_ids} | ({int(candidate_pk)} if candidate_pk else set()))
    return AuditEvent(
        at=at or timezone.now(),
        user=_user_or_none(user),
        action=action,
        object_type=object_type,
        object_id=str(object_id if object_id is not None else "")[:40],
        candidate_id=candidate_pk if candidate_pk else (ids[0] if len(ids) == 1 else None),
        candidate_ids=ids_text(ids) if len(ids) > 1 else "",
        candidate_count=len(ids),
        contract_id=_pk(contract),
        ip=origin.ip,
        user_agent=origin.user_agent,
        path=origin.path,
        detail=dict(detail or {}),
    )


def audit_record(
    *,
    user: object | None,
    action: str,
    object_type: str = "",
    object_id: object = "",
    candidate: object | None = None,
    candidate_ids: Iterable[int] = (),
    contract: object | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Log one event (one INSERT). Pass ids and field names in `detail`, never names or CPR numbers."""
    event = audit_event(
        user=user,
        action=action,
        object_type=object_type,
        object_id=object_id,
        candidate=candidate,
        candidate_ids=candidate_ids,
        contract=contract,
        detail=detail,
        at=at,
    )
    event.save()
    return event


def audit_candidates_seen(
    *,
    user: object | None,
    action: str,
    candidates: Iterable[_HasContract],
    object_type: str = "candidate",
    object_id: object = "",
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> list[AuditEvent]:
    """Log that the user was shown these candidates' personal data: one event per contract, one INSERT in all.

    One event per contract (not one for the whole list) so each contract's coordinator finds it in the search.
    Nothing is logged for an empty list.
    """
    by_contract: dict[Any, set[int]] = {}
    for candidate in candidates:
        by_contract.setdefault(candidate.contract_id, set()).add(int(candidate.pk))
    at = at or timezone.now()
    events = [
        audit_event(
            user=user,
            action=action,
            object_type=object_type,
            object_id=object_id,
            candidate_ids=ids,
            contract=contract_id,
            detail=detail,
            at=at,
        )
        for contract_id, ids in sorted(by_contract.items(), key=lambda item: item[0] or 0)
    ]
    if events:
        AuditEvent.objects.bulk_create(events)
    return events


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The names of the fields whose values differ (the values themselves stay out of the log)."""
    return sorted(name for name in after if before.get(name) != after.get(name))
