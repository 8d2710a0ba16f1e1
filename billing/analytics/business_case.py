"""The municipality's business case: kontanthjælp not paid and course costs avoided, against outcome payments.

A billable week (B1) in `full` or `education` saves the weekly benefit rate of its year; a `partial` week
saves the contract's `partial_saving_share` of it. Weekly rate = monthly rate x 12 / 52. Savings are
counted for settled weeks only, so they are compared with exactly the outcome payments invoiced for them
(excluding VAT, which the municipality recovers through its refund scheme).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from common.money import ZERO, round_money
from organisations.models import BenefitRate, Contract

MONTHS_PER_YEAR = Decimal(12)
WEEKS_PER_YEAR = Decimal(52)


def weekly_rate(monthly: Decimal) -> Decimal:
    """Weekly = monthly x 12 / 52 (kept unrounded; the savings are rounded once, at the end)."""
    return monthly * MONTHS_PER_YEAR / WEEKS_PER_YEAR


@dataclass(frozen=True)
class RateUsed:
    year: int
    rate_year: int  # the table year whose rate was used (the nearest one when `year` is not in the table)
    monthly_without: Decimal
    monthly_with: Decimal
    estimate: bool


def rate_for_year(year: int, rates: dict[int, BenefitRate]) -> RateUsed | None:
    """The year's rate; outside the table the nearest year's, marked as an estimate."""
    if not rates:
        return None
    if year in rates:
        rate = rates[year]
        return RateUsed(year, year, rate.without_children, rate.with_children, rate.is_estimate)
    nearest = min(rates, key=lambda y: (abs(y - year), -y))
    rate = rates[nearest]
    return RateUsed(year, nearest, rate.without_children, rate.with_children, True)


@dataclass(frozen=True)
class YearSavings:
    year: int
    rate: RateUsed
    weeks_full: int  # full and education weeks
    weeks_partial: int
    savings_without: Decimal
    savings_with: Decimal


@dataclass
class BusinessCase:
    through: date | None
    partial_share: Decimal
    years: list[YearSavings] = field(default_factory=list)
    enrolled: int = 0
    course_cost_per_candidate: Decimal = ZERO
    outcome_payments: Decimal = ZERO
    missing_rates: bool = False

    @property
    def partial_share_display(self) -> str:
        return f"{self.partial_share * 100:.0f} %"

    @property
    def weeks_full(self) -> int:
        return sum(y.weeks_full for y in self.years)

    @property
    def weeks_partial(self) -> int:
        return sum(y.weeks_partial for y in self.years)

    @property
    def savings_without(self) -> Decimal:
        return round_money(sum((y.savings_without for y in self.years), ZERO))

    @property
    def savings_with(self) -> Decimal:
        return round_money(sum((y.savings_with for y in self.years), ZERO))

    @property
    def course_costs(self) -> Decimal:
        return round_money(self.course_cost_per_candidate * self.enrolled)

    @property
    def net_gain_low(self) -> Decimal:
        """Savings at the rate without children (the cautious estimate) minus the outcome payments."""
        return self.savings_without + self.course_costs - self.outcome_payments

    @property
    def net_gain_high(self) -> Decimal:
        return self.savings_with + self.course_costs - self.outcome_payments

    @property
    def uses_estimates(self) -> bool:
        return any(y.rate.estimate for y in self.years)


def business_case(
    *,
    contract: Contract,
    billable: dict[tuple[date, str], int],
    rates: dict[int, BenefitRate],
    enrolled: int,
    outcome_payments: Decimal,
) -> BusinessCase:
    """Savings from the billable candidate-weeks (week, outcome) -> count, up to the last settled week."""
    case = BusinessCase(
        through=contract.settled_through,
        partial_share=contract.partial_saving_share,
        enrolled=enrolled,
        course_cost_per_candidate=contract.avoided_course_cost_per_candidate,
        outcome_payments=outcome_payments,
    )
    if contract.settled_through is None:
        return case
    per_year: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for (week, outcome), count in billable.items():
        if week > contract.settled_through:
            continue
        # A week belongs to the ISO year of its Thursday (the year it is numbered in).
        year = week.isocalendar().year
        per_year[year][1 if outcome == "partial" else 0] += count
    for year in sorted(per_year):
        rate = rate_for_year(year, rates)
        if rate is None:
            case.missing_rates = True
            continue
        full, partial = per_year[year]
        factor = Decimal(full) + Decimal(partial) * contract.partial_saving_share
        case.years.append(
            YearSavings(
                year=year,
                rate=rate,
                weeks_full=full,
                weeks_partial=partial,
                savings_without=weekly_rate(rate.monthly_without) * factor,
                savings_with=weekly_rate(rate.monthly_with) * factor,
            )
        )
    return case
