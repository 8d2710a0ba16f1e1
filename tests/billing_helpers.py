"""Small builders for billing tests: a contract with a rate card, statuses by week text, settle at a moment."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from billing.models import Document
from billing.services.settlement import settle_contract
from candidates.models import Candidate, WeeklyStatus
from common import weeks
from organisations.models import Contract
from tests.factories import CandidateFactory, ContractFactory, RateCardVersionFactory


def W(text: str) -> date:
    return weeks.parse_week(text)


def at(text: str) -> datetime:
    """A Copenhagen wall-clock moment, e.g. at('2020-03-01T00:00')."""
    return datetime.fromisoformat(text).replace(tzinfo=weeks.COPENHAGEN)


def make_contract(
    *,
    first: str = "2020-W01",
    last: str = "2020-W52",
    rates: list[tuple[str, str, str, str]] | None = None,
    **settings: Any,
) -> Contract:
    contract = ContractFactory(first_week=W(first), last_week=W(last), **settings)
    for effective_from, full, partial, education in rates or [(first, "1200.00", "600.00", "1200.00")]:
        RateCardVersionFactory(
            contract=contract,
            effective_from=W(effective_from),
            price_full=Decimal(full),
            price_partial=Decimal(partial),
            price_education=Decimal(education),
        )
    return contract


def make_candidate(
    contract: Contract, ref: str, *, enrolled: date | None = date(2020, 1, 1), **fields: Any
) -> Candidate:
    fields.setdefault("referred_on", min(enrolled or date(2020, 1, 1), date(2020, 1, 1)))
    return CandidateFactory(contract=contract, ref=ref, enrolled_on=enrolled, **fields)


def set_status(candidate: Candidate, week: str, outcome: str) -> None:
    """Record or correct a status directly (the engine only reads statuses; import rules are tested elsewhere)."""
    WeeklyStatus.objects.update_or_create(
        candidate=candidate, week=W(week), defaults={"outcome": outcome, "recorded_at": timezone.now()}
    )


def settle(contract: Contract, moment: str) -> list[Document]:
    settlements = settle_contract(contract=contract, as_of=at(moment))
    return list(Document.objects.filter(settlement__in=settlements).order_by("seq"))


def lines_of(document: Document) -> list[tuple[str, str, str, str, bool]]:
    return [
        (line.candidate.ref, weeks.format_week(line.week), line.outcome, f"{line.amount:.2f}", line.adjustment)
        for line in document.lines.select_related("candidate").order_by("week", "candidate__ref")
    ]
