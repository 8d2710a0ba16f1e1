"""The municipal business case: the seeded kontanthjælp table and savings against outcome payments, by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.analytics.business_case import rate_for_year, weekly_rate
from billing.analytics.figures import contract_dashboard
from billing.analytics.selectors import benefit_rates
from organisations.models import BenefitRate
from tests.billing_helpers import make_candidate, make_contract, set_status, settle

pytestmark = pytest.mark.django_db


def test_the_migration_seeds_the_published_rates_and_marks_interpolated_years() -> None:
    rates = {r.year: (r.without_children, r.with_children, r.is_estimate) for r in BenefitRate.objects.all()}
    published = {
        2014: (10689, 14203),
        2016: (10968, 14575),
        2017: (11143, 14808),
        2018: (11282, 14993),
        2021: (11698, 15547),
        2023: (11944, 15874),
        2024: (12326, 16382),
    }
    for year, (without, with_children) in published.items():
        assert rates[year] == (Decimal(without), Decimal(with_children), False)
    # Linear between published years, whole kroner, half up: (10689 + 10968) / 2 = 10828.5 -> 10829.
    assert rates[2015] == (Decimal(10829), Decimal(14389), True)
    assert rates[2019] == (Decimal(11421), Decimal(15178), True)  # 11282 + 416/3, 14993 + 554/3
    assert rates[2020] == (Decimal(11559), Decimal(15362), True)
    assert rates[2022] == (Decimal(11821), Decimal(15711), True)  # 15710.5 -> 15711
    assert sorted(rates) == list(range(2014, 2025))


def test_weekly_rate_is_monthly_times_12_over_52_and_years_outside_the_table_are_estimates() -> None:
    assert weekly_rate(Decimal("11282")) * 52 == Decimal("11282") * 12
    rates = benefit_rates()
    assert rate_for_year(2018, rates).estimate is False
    later = rate_for_year(2026, rates)
    assert (later.rate_year, later.monthly_without, later.estimate) == (2024, Decimal("12326.00"), True)
    assert rate_for_year(2010, rates).rate_year == 2014


def test_savings_and_net_gain_by_hand() -> None:
    # 2018-W52 and 2019-W01: one year each. Full 1200, partial 600, education 1200 per week.
    contract = make_contract(
        first="2018-W50",
        last="2019-W10",
        partial_saving_share=Decimal("0.25"),
        avoided_course_cost_per_candidate=Decimal("37500.00"),
    )
    a = make_candidate(contract, "A", enrolled=date(2018, 12, 10))
    b = make_candidate(contract, "B", enrolled=date(2018, 12, 10))
    set_status(a, "2018-W52", "full")  # 2018: full
    set_status(a, "2019-W01", "education")  # 2019: full-rate week
    set_status(b, "2019-W01", "partial")  # 2019: partial (a quarter saved on this contract)
    set_status(b, "2019-W03", "full")  # not settled yet: left out of both sides
    settle(contract, "2019-01-15T12:00")  # W01 closes 14 January: settled through 2019-W01
    contract.refresh_from_db()
    assert contract.settled_through == date(2018, 12, 31)
    case = contract_dashboard(contract=contract, suppress=False, today=date(2019, 1, 20)).business
    weekly_2018 = Decimal(11282) * 12 / 52
    weekly_2019 = Decimal(11421) * 12 / 52
    expected = weekly_2018 * 1 + weekly_2019 * (1 + Decimal("0.25"))
    assert case.savings_without == expected.quantize(Decimal("0.01"))
    assert case.savings_without == Decimal("5898.06")  # 2603.538 + 1.25 x 2635.615 = 5898.057
    weekly_with = Decimal(14993) * 12 / 52 + Decimal(15178) * 12 / 52 * Decimal("1.25")
    assert case.savings_with == weekly_with.quantize(Decimal("0.01"))
    assert (case.weeks_full, case.weeks_partial) == (2, 1)
    assert case.outcome_payments == Decimal("3000.00")  # 1200 + 1200 + 600, excl. VAT
    assert case.course_costs == Decimal("75000.00")  # two enrolled candidates x 37,500
    assert case.net_gain_low == case.savings_without + Decimal("75000.00") - Decimal("3000.00")
    assert [y.year for y in case.years] == [2018, 2019]
    assert case.uses_estimates  # 2019 is interpolated


def test_partial_week_saves_half_by_default() -> None:
    contract = make_contract(first="2021-W01", last="2021-W10")
    assert contract.partial_saving_share == Decimal("0.50")
    candidate = make_candidate(contract, "A", enrolled=date(2021, 1, 4))
    set_status(candidate, "2021-W01", "partial")
    settle(contract, "2021-01-20T00:00")
    contract.refresh_from_db()
    case = contract_dashboard(contract=contract, suppress=False, today=date(2021, 1, 20)).business
    assert case.savings_without == (Decimal(11698) * 12 / 52 / 2).quantize(Decimal("0.01"))
    assert case.course_costs == Decimal("0.00")  # default: no course costs assumed


def test_no_settled_week_means_no_business_case_yet() -> None:
    contract = make_contract(first="2021-W01", last="2021-W10")
    case = contract_dashboard(contract=contract, suppress=False, today=date(2021, 1, 6)).business
    assert case.through is None and case.years == [] and case.net_gain_low == Decimal("0.00")
