"""A plain-Python model of SPEC section 3, rules B1-B9, written from the specification alone for the black-box tests.

It knows nothing of the product's code: weeks are Mondays (`date`), money is `Decimal`, time is Europe/Copenhagen.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
BILLABLE_OUTCOMES = ("partial", "full", "education")
OUTCOMES = ("none", *BILLABLE_OUTCOMES)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

Pair = tuple[str, date]  # (candidate ref, week)


# --- ISO weeks -------------------------------------------------------------------------------------------------------


def parse_week(text: str) -> date:
    """'2020-W53' -> the Monday of that ISO week."""
    year, week = text.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


def format_week(monday: date) -> str:
    iso_year, iso_week, _ = monday.isocalendar()
    return f"{iso_year}-W{iso_week:02d}"


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def add_weeks(monday: date, count: int) -> date:
    return monday + timedelta(weeks=count)


def current_week() -> date:
    return week_of(datetime.now(COPENHAGEN).date())


def closes_at(week: date, grace_days: int) -> datetime:
    """B6: Monday 00:00 of week W+1 plus `grace_days` days, on the Copenhagen wall clock (as a UTC instant)."""
    day = add_weeks(week, 1) + timedelta(days=grace_days)
    return datetime(day.year, day.month, day.day, tzinfo=COPENHAGEN).astimezone(UTC)


def round_half_up(amount: Decimal) -> Decimal:
    # Decimal's ROUND_HALF_UP rounds halves away from zero, so a credit note mirrors the invoice it undoes.
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# --- Contract data ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateCardVersion:
    effective_from: date
    prices: dict[str, Decimal]


@dataclass(frozen=True)
class Candidate:
    ref: str
    referred_on: date
    enrolled_on: date | None = None
    withdrawn_on: date | None = None


@dataclass
class Contract:
    code: str
    first_week: date
    last_week: date
    rate_card: list[RateCardVersion]
    candidates: dict[str, Candidate]
    candidate_window_weeks: int = 156
    max_paid_weeks_per_candidate: int | None = None
    cap_amount: Decimal | None = None
    grace_days: int = 7
    vat_rate: Decimal = ZERO


@dataclass(frozen=True)
class Line:
    candidate: str
    week: date
    outcome: str
    amount: Decimal
    adjustment: bool


@dataclass(frozen=True)
class Document:
    number: str
    kind: str  # 'invoice' | 'credit_note'
    week: date
    subtotal: Decimal
    vat: Decimal
    total: Decimal
    lines: tuple[Line, ...]


@dataclass
class Book:
    """One contract's statuses, settled weeks and issued documents, moved on by `record` and `settle`."""

    contract: Contract
    statuses: dict[Pair, str] = field(default_factory=dict)
    documents: list[Document] = field(default_factory=list)
    settled_through: date | None = None

    # B10 (last sentence): after last_week is settled, statuses are locked.
    @property
    def locked(self) -> bool:
        return self.settled_through is not None and self.settled_through >= self.contract.last_week

    def is_settled(self, week: date) -> bool:
        return self.settled_through is not None and self.contract.first_week <= week <= self.settled_through

    def record(self, ref: str, week: date, outcome: str) -> None:
        assert outcome in OUTCOMES
        self.statuses[(ref, week)] = outcome

    # B1 + B2: the price of a billable week, None when (c, W) is not billable.
    def price(self, ref: str, week: date) -> Decimal | None:
        contract = self.contract
        candidate = contract.candidates[ref]
        outcome = self.statuses.get((ref, week))
        if candidate.enrolled_on is None or outcome not in BILLABLE_OUTCOMES:
            return None
        if not contract.first_week <= week <= contract.last_week:
            return None
        start = week_of(candidate.enrolled_on)
        if not start <= week < add_weeks(start, contract.candidate_window_weeks):
            return None
        if candidate.withdrawn_on is not None and week > week_of(candidate.withdrawn_on):
            return None
        versions = [v for v in contract.rate_card if v.effective_from <= week]
        if not versions:
            return None
        return max(versions, key=lambda v: v.effective_from).prices[outcome]

    # B3-B5: due(c, V) for every billable pair with V <= through; pairs not listed are due 0.
    def due(self, through: date) -> dict[Pair, Decimal]:
        contract = self.contract
        due: dict[Pair, Decimal] = {}
        paid_weeks: dict[str, int] = defaultdict(int)
        running = ZERO
        # Ordered by (week, ref): within one candidate this is also ascending week, as B3 asks.
        for ref, week in sorted(self.statuses, key=lambda pair: (pair[1], pair[0])):
            if week > through:
                continue
            amount = self.price(ref, week)
            if amount is None:
                continue
            paid_weeks[ref] += 1
            cap_weeks = contract.max_paid_weeks_per_candidate
            if cap_weeks is not None and paid_weeks[ref] > cap_weeks:
                amount = ZERO
            if contract.cap_amount is not None:
                amount = min(amount, max(contract.cap_amount - running, ZERO))
                running += amount
            due[(ref, week)] = amount
        return due

    def billed(self) -> dict[Pair, Decimal]:
        billed: dict[Pair, Decimal] = defaultdict(lambda: ZERO)
        for document in self.documents:
            for line in document.lines:
                billed[(line.candidate, line.week)] += line.amount
        return dict(billed)

    # B6: settle, oldest first, every closed and unsettled week of the payment period.
    def settle(self, as_of: datetime) -> list[Document | None]:
        contract = self.contract
        issued: list[Document | None] = []
        week = contract.first_week if self.settled_through is None else add_weeks(self.settled_through, 1)
        while week <= contract.last_week and closes_at(week, contract.grace_days) <= as_of.astimezone(UTC):
            issued.append(self._settle_week(week))
            self.settled_through = week
            week = add_weeks(week, 1)
        return issued

    # B7-B9: one document (or none) for week W.
    def _settle_week(self, week: date) -> Document | None:
        due = self.due(week)
        billed = self.billed()
        pairs = {pair for pair in billed if pair[1] <= week} | set(due)
        lines = []
        for ref, v in sorted(pairs, key=lambda pair: (pair[1], pair[0])):
            difference = due.get((ref, v), ZERO) - billed.get((ref, v), ZERO)
            if difference != 0:
                outcome = self.statuses.get((ref, v), "none")
                lines.append(Line(candidate=ref, week=v, outcome=outcome, amount=difference, adjustment=v < week))
        if not lines:
            return None
        subtotal = sum((line.amount for line in lines), ZERO)
        vat = round_half_up(subtotal * self.contract.vat_rate)
        document = Document(
            number=f"{self.contract.code}-{len(self.documents) + 1:05d}",
            kind="invoice" if subtotal >= 0 else "credit_note",
            week=week,
            subtotal=subtotal,
            vat=vat,
            total=subtotal + vat,
            lines=tuple(lines),
        )
        self.documents.append(document)
        return document
