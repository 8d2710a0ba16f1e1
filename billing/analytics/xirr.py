"""XIRR: the annual rate that makes the net present value of dated cash flows zero (Excel's convention).

Rates are ratios, not money, so they are computed in floating point; the amounts come in as Decimal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

DAYS_PER_YEAR = 365.0
LOW, HIGH = -0.999999999, 1000.0


def _npv(rate: float, flows: list[tuple[float, float]]) -> float:
    return sum(amount / (1.0 + rate) ** years for years, amount in flows)


def xirr(cash_flows: Iterable[tuple[date, Decimal]], *, tolerance: float = 1e-10) -> float | None:
    """The XIRR of (date, amount) flows (negative out, positive in), or None when it does not exist
    (all flows of one sign, or no flows). Newton's method from 10 %, falling back to bisection."""
    items = sorted((day, float(amount)) for day, amount in cash_flows if amount)
    if not items or min(a for _, a in items) >= 0 or max(a for _, a in items) <= 0:
        return None
    start = items[0][0]
    flows = [((day - start).days / DAYS_PER_YEAR, amount) for day, amount in items]
    rate = 0.1
    for _ in range(50):
        value = _npv(rate, flows)
        slope = sum(-years * amount / (1.0 + rate) ** (years + 1.0) for years, amount in flows)
        if slope == 0 or not math.isfinite(value):
            break
        step = value / slope
        candidate = rate - step
        if not LOW < candidate < HIGH or not math.isfinite(candidate):
            break
        rate = candidate
        if abs(step) < tolerance:
            return rate
    return _bisect(flows, tolerance)


def _bisect(flows: list[tuple[float, float]], tolerance: float) -> float | None:
    low, high = LOW, HIGH
    f_low, f_high = _npv(low, flows), _npv(high, flows)
    if f_low * f_high > 0:
        return None
    for _ in range(300):
        middle = (low + high) / 2.0
        f_middle = _npv(middle, flows)
        if abs(high - low) < tolerance or f_middle == 0:
            return middle
        if (f_middle > 0) == (f_low > 0):
            low, f_low = middle, f_middle
        else:
            high = middle
    return (low + high) / 2.0
