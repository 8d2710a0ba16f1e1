"""The payment-flow simulator: projects weekly outcome payments, investor cash flows and IRR to the end of the
contract from today's data and adjustable assumptions, with a Monte Carlo band (numpy, seeded: deterministic).

Model, per draw. From the projection's first week S:
- candidates paid in the week before S go on for the rest of their spell (a uniform share of a fresh spell);
- enrolled candidates who have not succeeded yet, and new candidates (Poisson, at the enrolment pace until the
  enrolment stops), succeed with the future success rate; the first paid week follows after an exponential
  delay (mean observed from the data) and the spell lasts a gamma(2)-distributed number of weeks with the
  given mean, cut by the candidate's window (B1), the candidate cap (B3) and the contract's last week;
- each paid week costs the municipality the observed outcome mix at the rate card in force that week; the
  contract cap (B4) is applied to the running total; the payment arrives the observed lag later.
Capital: every recorded disbursement at its date, plus any further capital spread evenly from S.
Before S everything is actual. Money is converted to float only inside the simulation; results are rounded
to whole kroner for display. The break-even success rate is where the expected outcome payments equal the
capital (IRR 0): the expected payments are linear in the success rate, so it is solved exactly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from billing.analytics.aggregates import simulation_base_from_aggregates
from billing.analytics.figures import ContractDashboard
from billing.analytics.selectors import SimulationBase, rate_cards
from common import weeks
from common.money import ZERO
from organisations.models import Contract, RateCardVersion

MAX_CELLS = 5_000_000  # draws x simulated candidates; above it the number of draws is reduced
GAMMA_SHAPE = 2.0
WEEK = timedelta(weeks=1)


@dataclass(frozen=True)
class Assumptions:
    start: date
    success_rate: float
    weeks_sustained: float
    enrolment_per_month: float
    enrolment_until: date
    further_capital: Decimal
    draws: int = 1000
    seed: int = 1


@dataclass(frozen=True)
class Calibration:
    """What the data says; the defaults of the assumptions and the fixed parts of the model."""

    success_rate: float | None
    observed_paid_weeks: float | None  # mean billable weeks per succeeded candidate, as observed
    weeks_to_first_paid: float
    enrolment_per_month: float
    last_enrolment_week: date | None
    payment_lag_weeks: int
    outcome_mix: dict[str, float]
    resimulation: bool  # the projection replays the whole contract (it has ended, or not started)


@dataclass
class Projection:
    assumptions: Assumptions
    calibration: Calibration
    weeks: list[date]
    start_index: int
    cum_capital: np.ndarray
    cum_actual: np.ndarray  # actual cumulative payments (weeks before the start)
    cum_p10: np.ndarray
    cum_p50: np.ndarray
    cum_p90: np.ndarray
    weekly_p50: np.ndarray
    irr: np.ndarray  # per draw (nan where undefined)
    total_payments: np.ndarray  # per draw
    capital_total: float
    break_even_rate: float | None
    break_even_note: str
    draws: int
    elapsed_ms: float
    payback_week: date | None = None
    spell_mean: float = 0.0
    price_now: float = 0.0  # the mean price of a paid week at the start of the projection
    notes: list[str] = field(default_factory=list)

    def irr_percentile(self, q: float) -> float | None:
        values = self.irr[~np.isnan(self.irr)]
        return float(np.percentile(values, q)) if values.size else None

    def payments_percentile(self, q: float) -> Decimal:
        return Decimal(round(float(np.percentile(self.total_payments, q))))

    @property
    def probability_break_even(self) -> float:
        return float(np.mean(self.total_payments >= self.capital_total - 0.5))


def default_calibration(*, contract: Contract, dashboard: ContractDashboard, base: SimulationBase) -> Calibration:
    enrolment_weeks = sorted(dashboard.enrolment.by_week)
    pace = 0.0
    if len(enrolment_weeks) >= 2:
        span_weeks = (enrolment_weeks[-1] - enrolment_weeks[0]) / WEEK + 1
        pace = dashboard.enrolment.enrolled / span_weeks * 52 / 12
    mix_counts = dict.fromkeys(("full", "partial", "education"), 0)
    for (_week, outcome), count in dashboard.status.billable.items():
        mix_counts[outcome] += count
    total = sum(mix_counts.values())
    mix = {o: (n / total if total else 1 / 3) for o, n in mix_counts.items()}
    lag = dashboard.money.payment_lag_weeks
    default_lag = (7 + contract.grace_days + contract.payment_terms_days) / 7
    enrolled = dashboard.enrolment.enrolled
    succeeded = dashboard.status.succeeded
    today_week = weeks.current_week()
    delay = base.mean_weeks_to_first_paid or 20.0
    return Calibration(
        success_rate=succeeded / enrolled if enrolled and succeeded else None,
        observed_paid_weeks=base.mean_paid_weeks,
        weeks_to_first_paid=delay,
        enrolment_per_month=pace,
        last_enrolment_week=enrolment_weeks[-1] if enrolment_weeks else None,
        payment_lag_weeks=max(0, round(lag if lag is not None else default_lag)),
        outcome_mix=mix,
        resimulation=not (contract.first_week < today_week <= contract.last_week),
    )


def _fit_spell(*, contract: Contract, enrol: np.ndarray, delay: float, observed: float) -> float:
    """The mean spell whose paid weeks, once cut by the window and the contract's end, average `observed`.

    "Weeks sustained" is what the invoices show: paid weeks per succeeded candidate, already cut short by
    the contract's end. Used unchanged as the spell's mean, the model would pay too few weeks. Solved by
    bisection on a fixed set of draws (the paid weeks grow with the mean). `enrol`: enrolment week indices
    from the contract's first week."""
    if not enrol.size:
        return observed
    rng = np.random.default_rng(0)
    enrol = np.tile(enrol, max(1, 6000 // enrol.size))
    last = (contract.last_week - contract.first_week) // WEEK + 1
    starts = np.maximum(enrol + np.floor(rng.exponential(max(delay, 0.5), size=enrol.shape)), 0)
    limit = np.minimum(enrol + contract.candidate_window_weeks, last)
    counted = starts < limit
    if not counted.any():
        return observed
    unit = rng.gamma(GAMMA_SHAPE, 1 / GAMMA_SHAPE, size=enrol.shape)
    minimum = contract.success_min_weeks

    def paid_weeks(mean: float) -> float:
        spells = np.maximum(np.ceil(unit * mean), minimum)
        return float((np.minimum(starts + spells, limit) - starts)[counted].mean())

    low, high = 1.0, observed * 20
    if paid_weeks(high) < observed:
        return high
    for _ in range(40):
        middle = (low + high) / 2
        if paid_weeks(middle) < observed:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def default_assumptions(*, contract: Contract, dashboard: ContractDashboard, calibration: Calibration) -> Assumptions:
    """Today's data as the assumptions; a contract that has ended (or not begun) is replayed from its first week."""
    if calibration.resimulation:
        start = contract.first_week
        until = calibration.last_enrolment_week or contract.last_week
        pace = calibration.enrolment_per_month
        further = ZERO
    else:
        start = weeks.current_week()
        latest = calibration.last_enrolment_week
        recent = latest is not None and latest >= start - 13 * WEEK
        pace = calibration.enrolment_per_month if recent else 0.0
        until = max(start, contract.last_week - round(calibration.weeks_to_first_paid + 13) * WEEK)
        further = max(ZERO, dashboard.money.committed - dashboard.money.disbursed)
    rate = calibration.success_rate
    if rate is None or dashboard.enrolment.enrolled < 20:
        rate = float(contract.success_target)
    return Assumptions(
        start=start,
        success_rate=round(rate, 2),
        weeks_sustained=round(calibration.observed_paid_weeks or 52.0),
        enrolment_per_month=round(pace, 1),
        enrolment_until=min(until, contract.last_week),
        further_capital=further,
    )


def _price_per_week(grid: list[date], cards: list[RateCardVersion], mix: dict[str, float]) -> np.ndarray:
    prices = np.zeros(len(grid))
    for index, week in enumerate(grid):
        card = next((c for c in reversed(cards) if c.effective_from <= week), None)
        if card is not None:
            prices[index] = sum(float(card.price_for(o)) * share for o, share in mix.items())
    return prices


def _spells(rng: np.random.Generator, shape: tuple[int, ...], mean: float, minimum: int) -> np.ndarray:
    mean = max(mean, 1.0)
    return np.maximum(np.ceil(rng.gamma(GAMMA_SHAPE, mean / GAMMA_SHAPE, size=shape)), minimum).astype(np.int64)


def _accumulate(starts: np.ndarray, ends: np.ndarray, mask: np.ndarray, length: int) -> np.ndarray:
    """Weekly counts of paid candidates per draw from [start, end) spells (draws x candidates)."""
    draws = starts.shape[0]
    rows = np.broadcast_to(np.arange(draws)[:, None], starts.shape)
    valid = mask & (ends > starts)
    base = rows[valid] * (length + 1)
    size = draws * (length + 1)
    diff = np.bincount(base + np.clip(starts[valid], 0, length), minlength=size) - np.bincount(
        base + np.clip(ends[valid], 0, length), minlength=size
    )
    return np.cumsum(diff.reshape(draws, length + 1)[:, :length], axis=1).astype(float)


def _irr(cash: np.ndarray, years: np.ndarray, iterations: int = 45) -> np.ndarray:
    """IRR per row by bisection on the net present value (nan where the flows do not change sign)."""
    low = np.full(cash.shape[0], -0.99)
    high = np.full(cash.shape[0], 10.0)

    def npv(rate: np.ndarray) -> np.ndarray:
        return (cash * np.exp(-np.log1p(rate)[:, None] * years[None, :])).sum(axis=1)

    f_low = npv(low)
    defined = (cash.min(axis=1) < 0) & (cash.max(axis=1) > 0) & (np.sign(f_low) != np.sign(npv(high)))
    for _ in range(iterations):
        middle = (low + high) / 2
        f_middle = npv(middle)
        same = np.sign(f_middle) == np.sign(f_low)
        low = np.where(same, middle, low)
        f_low = np.where(same, f_middle, f_low)
        high = np.where(same, high, middle)
    result = (low + high) / 2
    result[~defined] = np.nan
    return result


def simulate(
    *,
    contract: Contract,
    dashboard: ContractDashboard,
    assumptions: Assumptions,
    calibration: Calibration | None = None,
) -> Projection:
    """Run the Monte Carlo projection (deterministic for a given seed)."""
    began = time.perf_counter()
    base = simulation_base_from_aggregates(
        contract=contract, start=assumptions.start, calibrate_through=dashboard.headline.reference_week
    )
    calibration = calibration or default_calibration(contract=contract, dashboard=dashboard, base=base)
    cash = dashboard.money
    lag = calibration.payment_lag_weeks
    money_days = [*cash.paid_by_day, *cash.disbursed_by_day, *cash.invoiced_by_day]
    grid0 = min([contract.first_week, *(weeks.week_of(d) for d in money_days)])
    grid_end = max([contract.last_week + (lag + 2) * WEEK, *(weeks.week_of(d) for d in money_days)])
    grid = list(weeks.iter_weeks(grid0, grid_end))
    length = len(grid)

    def index(week: date) -> int:
        return (weeks.week_of(week) - grid0) // WEEK

    start = max(assumptions.start, contract.first_week)
    s = index(start)
    last = index(contract.last_week) + 1  # exclusive end of payable weeks
    window = contract.candidate_window_weeks
    rng = np.random.default_rng(assumptions.seed)
    minimum = contract.success_min_weeks
    cap_weeks = contract.max_paid_weeks_per_candidate or 10**6

    # --- candidates already in the programme at the start -------------------------------------------------
    def expand(pool: dict[date, int]) -> np.ndarray:
        return np.repeat(np.array([index(w) for w in pool], dtype=np.int64), list(pool.values()))

    active_enrol = expand(base.active_pool)
    open_enrol = expand(base.open_pool)
    # --- new enrolments -------------------------------------------------------------------------------------
    until = min(assumptions.enrolment_until, contract.last_week)
    enrol_weeks = max(0, index(until) - s + 1)
    per_week = max(assumptions.enrolment_per_month, 0.0) * 12 / 52
    expected_new = per_week * enrol_weeks
    candidates = len(active_enrol) + len(open_enrol) + int(expected_new + 4 * math.sqrt(expected_new) + 1)
    draws = max(1, min(assumptions.draws, MAX_CELLS // max(candidates, 1)))
    notes = []
    if draws < assumptions.draws:
        notes.append(f"draws reduced to {draws} to stay within {MAX_CELLS:,} simulated candidate-draws")

    new_counts = rng.poisson(expected_new, size=draws) if enrol_weeks else np.zeros(draws, dtype=np.int64)
    k_new = int(new_counts.max(initial=0))
    new_enrol = s + rng.integers(0, max(enrol_weeks, 1), size=(draws, k_new))
    new_mask = np.arange(k_new)[None, :] < new_counts[:, None]

    # Candidates whose success depends on the success rate: the open pool and the new ones.
    enrol = np.concatenate([np.broadcast_to(open_enrol, (draws, len(open_enrol))), new_enrol], axis=1)
    present = np.concatenate([np.ones((draws, len(open_enrol)), dtype=bool), new_mask], axis=1)
    delay_mean = max(calibration.weeks_to_first_paid, 0.5)
    delays = np.floor(rng.exponential(delay_mean, size=enrol.shape)).astype(np.int64)
    first_possible = np.where(np.arange(enrol.shape[1])[None, :] < len(open_enrol), s, enrol)
    starts = np.maximum(first_possible + delays, s)
    observed_enrol = np.repeat(
        np.array([(w - contract.first_week) // WEEK for w in dashboard.enrolment.by_week], dtype=np.int64),
        list(dashboard.enrolment.by_week.values()),
    )
    planned_enrol = np.arange(s, s + enrol_weeks) - (contract.first_week - grid0) // WEEK
    spell_mean = _fit_spell(
        contract=contract,
        enrol=observed_enrol if observed_enrol.size else planned_enrol,
        delay=calibration.weeks_to_first_paid,
        observed=max(assumptions.weeks_sustained, 1.0),
    )
    spells = np.minimum(_spells(rng, enrol.shape, spell_mean, minimum), cap_weeks)
    ends = np.minimum(np.minimum(starts + spells, enrol + window), last)
    succeed = rng.random(enrol.shape) < assumptions.success_rate
    paid_if_all = _accumulate(starts, ends, present, length)
    paid_dependent = _accumulate(starts, ends, present & succeed, length)

    # Candidates paid in the week before the start go on for the rest of a spell.
    active = np.broadcast_to(active_enrol, (draws, len(active_enrol)))
    remaining = np.ceil(_spells(rng, active.shape, spell_mean, 1) * rng.random(active.shape))
    active_ends = np.minimum(np.minimum(s + remaining.astype(np.int64), active + window), last)
    paid_active = _accumulate(np.full(active.shape, s), active_ends, np.ones(active.shape, dtype=bool), length)

    prices = _price_per_week(grid, rate_cards(contract=contract), calibration.outcome_mix)

    # --- money per week ---------------------------------------------------------------------------------------
    actual_paid = np.zeros(length)
    for day, amount in cash.paid_by_day.items():
        if weeks.week_of(day) < start:
            actual_paid[index(day)] += float(amount)
    invoiced_before = sum((a for d, a in cash.invoiced_by_day.items() if weeks.week_of(d) < start), ZERO)
    paid_before = float(actual_paid.sum())
    outstanding = max(0.0, float(invoiced_before) - paid_before)
    capital = np.zeros(length)
    for day, amount in cash.disbursed_by_day.items():
        capital[index(day)] += float(amount)
    further_from = max(s, index(weeks.current_week())) if not calibration.resimulation else s
    further_weeks = max(1, last - further_from)
    if assumptions.further_capital > 0 and further_from < length:
        capital[further_from : further_from + further_weeks] += float(assumptions.further_capital) / further_weeks
    capital_total = float(capital.sum())

    def payments(paid_weeks: np.ndarray) -> np.ndarray:
        due = paid_weeks * prices[None, :]
        if contract.cap_amount is not None:
            room = max(0.0, float(contract.cap_amount) - float(invoiced_before))
            due = np.diff(np.minimum(np.cumsum(due, axis=1), room), axis=1, prepend=0.0)
        arriving = np.zeros_like(due)
        arriving[:, lag:] = due[:, : length - lag] if lag else due
        return arriving

    simulated = payments(paid_dependent + paid_active)
    if outstanding:
        simulated[:, min(length - 1, s + max(1, lag // 2))] += outstanding
    weekly = actual_paid[None, :] + simulated
    cumulative = np.cumsum(weekly, axis=1)
    total = cumulative[:, -1]
    cum_capital = np.cumsum(capital)

    years = np.array([(w - grid0).days / 365.0 for w in grid])
    irr = _irr(weekly - capital[None, :], years)

    # Break-even: expected payments = A + rate x B (linear in the rate while no cap binds).
    known = paid_before + outstanding + float(payments(paid_active).sum(axis=1).mean())
    per_rate = float(payments(paid_if_all).sum(axis=1).mean())
    break_even, note = _break_even(contract=contract, capital=capital_total, known=known, per_rate=per_rate)
    p10, p50, p90 = np.percentile(cumulative, [10, 50, 90], axis=0)
    projection = Projection(
        assumptions=assumptions,
        calibration=calibration,
        weeks=grid,
        start_index=s,
        cum_capital=cum_capital,
        cum_actual=np.cumsum(actual_paid),
        cum_p10=p10,
        cum_p50=p50,
        cum_p90=p90,
        weekly_p50=np.percentile(weekly, 50, axis=0),
        irr=irr,
        total_payments=total,
        capital_total=capital_total,
        break_even_rate=break_even,
        break_even_note=note,
        draws=draws,
        elapsed_ms=0.0,
        notes=notes,
    )
    projection.payback_week = _payback(grid, p50, cum_capital)
    projection.spell_mean = spell_mean
    projection.price_now = float(prices[min(s, max(last - 1, 0))])
    projection.elapsed_ms = (time.perf_counter() - began) * 1000
    return projection


def _break_even(*, contract: Contract, capital: float, known: float, per_rate: float) -> tuple[float | None, str]:
    if capital <= 0:
        return None, "no_capital"
    if contract.cap_amount is not None and float(contract.cap_amount) < capital:
        return None, "cap_below_capital"
    if known >= capital:
        return 0.0, "reached"
    if per_rate <= 0:
        return None, "no_room"
    rate = (capital - known) / per_rate
    if rate > 1:
        return None, "above_100"
    return rate, ""


def _payback(grid: list[date], cumulative: np.ndarray, capital: np.ndarray) -> date | None:
    if not capital[-1] or cumulative[-1] < capital[-1]:
        return None
    behind = np.nonzero(cumulative < capital - 0.5)[0]
    first = int(behind[-1]) + 1 if behind.size else 0
    return grid[first] if first < len(grid) else None
