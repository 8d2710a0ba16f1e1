"""Outcome measures read from the same B1 rules as the engine: success (B13)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection

from billing.services.settlement import date_param, statuses_cte
from candidates.models import Candidate
from organisations.models import Contract


@dataclass(frozen=True)
class SuccessSummary:
    succeeded: int
    enrolled: int

    @property
    def rate(self) -> Decimal | None:
        if not self.enrolled:
            return None
        return Decimal(self.succeeded) / Decimal(self.enrolled)


def succeeded_candidate_ids(*, contract: Contract, through: date | None = None) -> set[int]:
    """B13: candidates with at least `success_min_weeks` billable (B1) weeks of partial, full or education."""
    sql = f"""
        WITH {statuses_cte(contract)}
        SELECT candidate_id FROM s WHERE billable = 1
        GROUP BY candidate_id HAVING COUNT(*) >= %(min_weeks)s
    """
    params: dict[str, Any] = {
        "contract": contract.pk,
        "first": date_param(contract.first_week),
        "last": date_param(contract.last_week),
        "through": date_param(through or contract.last_week),
        "min_weeks": contract.success_min_weeks,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def success_summary(*, contract: Contract, through: date | None = None) -> SuccessSummary:
    """Success rate = succeeded / enrolled candidates (B13)."""
    enrolled = Candidate.objects.filter(contract=contract, enrolled_on__isnull=False).count()
    return SuccessSummary(succeeded=len(succeeded_candidate_ids(contract=contract, through=through)), enrolled=enrolled)
