"""Celery tasks: the nightly settlement (one task per contract, so several workers share the night)."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils import timezone

from billing.services.settlement import contracts_with_weeks_due, settle_contract
from organisations.models import Contract


def _parse_as_of(as_of: str | None) -> datetime:
    return datetime.fromisoformat(as_of) if as_of else timezone.now()


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError, DatabaseError),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def settle_contract_task(contract_id: int, as_of: str | None = None) -> list[str]:
    """Settle every closed week of one contract. Idempotent (B11), so a redelivered task is harmless."""
    contract = Contract.objects.get(pk=contract_id)
    settlements = settle_contract(contract=contract, as_of=_parse_as_of(as_of))
    return [settlement.week_label for settlement in settlements]


@shared_task(acks_late=True)
def settle_all_contracts(as_of: str | None = None) -> int:
    """The nightly beat task: enqueue one settlement task per contract with a closed, unsettled week."""
    moment = _parse_as_of(as_of)
    contract_ids = contracts_with_weeks_due(as_of=moment)
    for contract_id in contract_ids:
        settle_contract_task.delay(contract_id, moment.isoformat())
    return len(contract_ids)


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=5, max_retries=5)
def dashboard_aggregates_refresh_task(contract_id: int) -> str:
    """Extend or rebuild a contract's dashboard aggregates (enqueued after each settled week and by a
    dashboard that found them behind). Idempotent: a second run finds them fresh and does nothing."""
    from billing.analytics.aggregates import dashboard_aggregates_refresh

    return dashboard_aggregates_refresh(contract_id=contract_id)
