"""The payment-flow simulator: deterministic when seeded, monotone in its assumptions, break-even, speed."""

from __future__ import annotations

import dataclasses
import time
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from billing.analytics.figures import contract_dashboard
from billing.analytics.selectors import simulation_base
from billing.analytics.simulator import _irr, default_assumptions, default_calibration, simulate
from billing.services.ledger import disbursement_record
from common import weeks
from tests.billing_helpers import W, make_candidate, make_contract, set_status, settle
from tests.factories import ContractInvestorFactory

pytestmark = pytest.mark.django_db
TODAY = date(2021, 6, 1)


@pytest.fixture
def programme() -> dict[str, object]:
    """40 candidates over a year; every other one works partially from 8 weeks after enrolment on."""
    contract = make_contract(first="2020-W01", last="2020-W52")
    for n in range(40):
        enrolled = date(2020, 1, 6) + timedelta(weeks=n % 10)
        candidate = make_candidate(contract, f"S{n:02d}", enrolled=enrolled)
        if n % 2 == 0:
            for k in range(8, 30):
                week = weeks.week_of(enrolled) + timedelta(weeks=k)
                set_status(candidate, weeks.format_week(week), "partial" if k % 3 else "full")
    settle(contract, "2021-01-20T00:00")
    investor = ContractInvestorFactory(contract=contract, committed=Decimal("400000.00"))
    disbursement_record(
        contract=contract, investor=investor, amount=Decimal("300000.00"), disbursed_on=date(2020, 1, 6)
    )
    contract.refresh_from_db()
    dashboard = contract_dashboard(contract=contract, suppress=False, today=TODAY, with_charts=False)
    base = simulation_base(contract=contract, start=contract.first_week, calibrate_through=W("2020-W52"))
    calibration = default_calibration(contract=contract, dashboard=dashboard, base=base)
    return {"contract": contract, "dashboard": dashboard, "calibration": calibration}


def _run(programme: dict[str, object], **changes: object):  # type: ignore[no-untyped-def]
    assumptions = default_assumptions(
        contract=programme["contract"], dashboard=programme["dashboard"], calibration=programme["calibration"]
    )
    return simulate(
        contract=programme["contract"],
        dashboard=programme["dashboard"],
        assumptions=dataclasses.replace(assumptions, **changes),
        calibration=programme["calibration"],
    )


def test_defaults_come_from_the_data(programme: dict[str, object]) -> None:
    calibration = programme["calibration"]
    # 20 of 40 succeeded, each with 22 paid weeks, the first 8 weeks after enrolment.
    assert calibration.success_rate == pytest.approx(0.5)
    assert calibration.observed_paid_weeks == pytest.approx(22)
    assert calibration.weeks_to_first_paid == pytest.approx(8)
    assert calibration.resimulation  # the contract has ended: it is replayed from its first week
    assumptions = default_assumptions(
        contract=programme["contract"], dashboard=programme["dashboard"], calibration=calibration
    )
    assert assumptions.start == W("2020-W01") and assumptions.success_rate == 0.5
    assert assumptions.weeks_sustained == 22
    assert assumptions.enrolment_until == W("2020-W11")  # the last enrolment week


def test_same_seed_same_projection_other_seed_other_draws(programme: dict[str, object]) -> None:
    first, again = _run(programme, seed=7), _run(programme, seed=7)
    assert np.array_equal(first.cum_p50, again.cum_p50) and np.array_equal(first.total_payments, again.total_payments)
    assert first.break_even_rate == again.break_even_rate
    other = _run(programme, seed=8)
    assert not np.array_equal(first.total_payments, other.total_payments)


def test_replay_with_observed_assumptions_lands_near_the_actual_payments(programme: dict[str, object]) -> None:
    projection = _run(programme)
    invoiced = float(programme["dashboard"].headline.invoiced)
    median = float(projection.payments_percentile(50))
    assert invoiced * 0.75 < median < invoiced * 1.25
    assert (
        projection.payments_percentile(10) <= projection.payments_percentile(50) <= projection.payments_percentile(90)
    )


def test_more_success_pays_more_and_raises_the_irr(programme: dict[str, object]) -> None:
    low, high = _run(programme, success_rate=0.3), _run(programme, success_rate=0.9)
    assert high.payments_percentile(50) > low.payments_percentile(50)
    assert high.irr_percentile(50) > low.irr_percentile(50)
    longer = _run(programme, weeks_sustained=40)
    assert longer.payments_percentile(50) > _run(programme).payments_percentile(50)


def test_at_the_break_even_rate_payments_equal_the_capital(programme: dict[str, object]) -> None:
    projection = _run(programme)
    rate = projection.break_even_rate
    assert rate is not None and 0 < rate < 1
    at_break_even = _run(programme, success_rate=rate)
    assert float(at_break_even.total_payments.mean()) == pytest.approx(projection.capital_total, rel=0.02)
    assert abs(at_break_even.irr_percentile(50)) < 0.05


def test_break_even_beyond_reach_when_the_cap_is_below_the_capital(programme: dict[str, object]) -> None:
    contract = programme["contract"]
    contract.cap_amount = Decimal("1000.00")
    projection = _run(programme)
    assert projection.break_even_rate is None and projection.break_even_note == "cap_below_capital"
    assert projection.payments_percentile(90) <= Decimal("1000")


def test_a_thousand_draws_run_well_under_a_second(programme: dict[str, object]) -> None:
    started = time.perf_counter()
    projection = _run(programme, draws=1000)
    assert projection.draws == 1000
    assert time.perf_counter() - started < 1.0


def test_projection_from_mid_contract_keeps_the_actual_past(programme: dict[str, object]) -> None:
    projection = _run(programme, start=W("2020-W27"), enrolment_per_month=0.0)
    s = projection.start_index
    actual = projection.cum_actual[s - 1]
    assert projection.cum_p10[s - 1] == pytest.approx(actual) == pytest.approx(projection.cum_p90[s - 1])
    assert projection.cum_p50[-1] >= actual


def test_vectorised_irr_matches_a_hand_computed_rate() -> None:
    # -1000 now, +1100 after exactly one year: 10 %; a second row without a sign change: undefined.
    cash = np.array([[-1000.0, 1100.0], [100.0, 100.0]])
    rates = _irr(cash, np.array([0.0, 1.0]))
    assert rates[0] == pytest.approx(0.10, abs=1e-9) and np.isnan(rates[1])
