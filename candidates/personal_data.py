"""Retention and keys for candidates' personal data: pseudonymisation of finished contracts, CPR key rotation.

Retention rule. A contract's payment period ends with its `last_week`; the Sunday of that week falls in a
financial year (the calendar year: the Danish default). The bookkeeping law keeps the records for five
years after the end of that financial year, so with `years` = N a contract's candidates are pseudonymised
from 1 January of (that year + N + 1). Example: last week 2021-W10 (Sunday 14 March 2021), N = 5: kept
through 31 December 2026, pseudonymised from 1 January 2027.

Pseudonymisation erases the name, the CPR number (ciphertext and keyed hash), the notes and the withdrawal
reason, on the candidate and in its history rows, and clears the contract's stored upload files; the ref,
the dates, the weekly statuses, placements, invoices, lines and the ledger stay exactly as they were, so
the books still add up. The audit log holds only ids and is left alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from candidates import cpr as cpr_tools
from candidates.models import Candidate, WeeklyStatusUpload
from organisations.models import Contract

logger = logging.getLogger(__name__)

ERASED_FIELDS = {"name": "", "cpr_encrypted": "", "cpr_hash": "", "notes": "", "withdrawal_reason": ""}
ROTATION_BATCH = 500


def retention_years() -> int:
    return int(settings.SIB_RETENTION_YEARS)


def retention_cutoff(*, today: date, years: int) -> date:
    """The latest `last_week` (a Monday) whose contract is due for pseudonymisation on `today`."""
    last_sunday_allowed = date(today.year - years - 1, 12, 31)
    return last_sunday_allowed - timedelta(days=6)


def contracts_due_for_pseudonymisation(*, today: date, years: int) -> list[Contract]:
    """Contracts whose retention period is over and that still have candidates with personal data."""
    return list(
        Contract.objects.filter(
            last_week__lte=retention_cutoff(today=today, years=years),
            candidates__pseudonymised_at__isnull=True,
        )
        .distinct()
        .order_by("code")
    )


@dataclass
class PseudonymisationResult:
    contract: str
    candidates: int = 0
    history_rows: int = 0
    uploads: int = 0


@transaction.atomic
def contract_pseudonymise(
    *, contract: Contract, now: datetime | None = None, dry_run: bool = False, years: int | None = None
) -> PseudonymisationResult:
    """Erase the personal data of the contract's not yet pseudonymised candidates; set-based, one transaction.

    Idempotent: pseudonymised candidates are not selected again, so a second run changes nothing.
    """
    now = now or timezone.now()
    # Under the contract's row lock, as settlement and imports: nothing changes the candidates meanwhile.
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    candidates = Candidate.objects.filter(contract=contract, pseudonymised_at__isnull=True)
    ids = list(candidates.order_by("pk").values_list("pk", flat=True))
    result = PseudonymisationResult(contract=contract.code, candidates=len(ids))
    if not ids:
        return result
    history = Candidate.history.model.objects.filter(id__in=ids)  # type: ignore[attr-defined]
    uploads = WeeklyStatusUpload.objects.filter(contract=contract).exclude(content=b"")
    if dry_run:
        result.history_rows = history.count()
        result.uploads = uploads.count()
        return result
    Candidate.objects.filter(pk__in=ids).update(**ERASED_FIELDS, pseudonymised_at=now)
    # The withdrawal reason was also the history record's change reason.
    result.history_rows = history.update(**ERASED_FIELDS, history_change_reason="")
    result.uploads = uploads.update(content=b"")
    audit_record(
        user=None,
        action=AuditEvent.Action.PSEUDONYMISE,
        object_type="contract",
        object_id=contract.code,
        candidate_ids=ids,
        contract=contract,
        detail={
            "candidates": result.candidates,
            "history_rows": result.history_rows,
            "uploads": result.uploads,
            "fields": sorted(ERASED_FIELDS),
            "years": years if years is not None else retention_years(),
        },
        at=now,
    )
    return result


def candidates_pseudonymise_due(
    *, today: date | None = None, years: int | None = None, dry_run: bool = False, now: datetime | None = None
) -> list[PseudonymisationResult]:
    """Pseudonymise every contract past retention (the monthly task and the command): one transaction each."""
    years = retention_years() if years is None else years
    if years < 0:
        raise ValueError("The retention period cannot be negative.")
    today = today or timezone.localdate()
    results = []
    for contract in contracts_due_for_pseudonymisation(today=today, years=years):
        result = contract_pseudonymise(contract=contract, now=now, dry_run=dry_run, years=years)
        logger.info("pseudonymised %s: %s", contract.code, result)
        results.append(result)
    return results


# --- CPR key rotation ------------------------------------------------------------------------------------------


@dataclass
class RotationResult:
    rotated: dict[str, int] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def total_rotated(self) -> int:
        return sum(self.rotated.values())


def _rotate_table(model: Any, label: str, primary: Fernet, result: RotationResult, batch_size: int) -> None:
    """Re-encrypt one table's ciphertexts under the first key: one read and at most one UPDATE per batch."""
    result.rotated[label] = result.current[label] = 0
    result.unreadable[label] = []
    last: Any = None
    while True:
        rows = model.objects.exclude(cpr_encrypted="").order_by("pk")
        if last is not None:
            rows = rows.filter(pk__gt=last)
        batch = list(rows.values_list("pk", "cpr_encrypted")[:batch_size])
        if not batch:
            return
        last = batch[-1][0]
        changed = []
        for pk, token in batch:
            try:
                primary.decrypt(token.encode())
                result.current[label] += 1  # already under the newest key: left alone (idempotent)
                continue
            except InvalidToken:
                pass
            try:
                changed.append(model(pk=pk, cpr_encrypted=cpr_tools.rotate_token(token)))
            except InvalidToken:
                result.unreadable[label].append(pk)
        if changed:
            with transaction.atomic():
                model.objects.bulk_update(changed, ["cpr_encrypted"])
            result.rotated[label] += len(changed)


def cpr_keys_rotate(*, batch_size: int = ROTATION_BATCH, user: object | None = None) -> RotationResult:
    """Re-encrypt every stored CPR ciphertext (candidates and their history) under CPR_ENCRYPTION_KEYS[0].

    Run after putting a new key first in CPR_ENCRYPTION_KEYS (the old ones still decrypt); afterwards the
    old keys can be removed. The keyed hash does not depend on the encryption key and is not touched.
    """
    primary = Fernet(settings.CPR_ENCRYPTION_KEYS[0].encode())
    result = RotationResult()
    _rotate_table(Candidate, "candidates", primary, result, batch_size)
    _rotate_table(Candidate.history.model, "candidate_history", primary, result, batch_size)  # type: ignore[attr-defined]
    audit_record(
        user=user,
        action=AuditEvent.Action.KEY_ROTATION,
        object_type="cpr_key",
        detail={
            "rotated": result.rotated,
            "current": result.current,
            "unreadable": {label: len(pks) for label, pks in result.unreadable.items()},
            "keys": len(settings.CPR_ENCRYPTION_KEYS),
        },
    )
    return result
