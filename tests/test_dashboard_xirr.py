"""XIRR against textbook cash flows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.analytics.xirr import xirr


def test_xirr_matches_the_spreadsheet_textbook_example() -> None:
    # The classic XIRR example (Excel's and LibreOffice's documentation): 37.34 % a year.
    flows = [
        (date(2008, 1, 1), Decimal("-10000")),
        (date(2008, 3, 1), Decimal("2750")),
        (date(2008, 10, 30), Decimal("4250")),
        (date(2009, 2, 15), Decimal("3250")),
        (date(2009, 4, 1), Decimal("2750")),
    ]
    assert xirr(flows) == pytest.approx(0.373362535, abs=1e-8)


def test_xirr_of_one_year_doubling_and_a_loss() -> None:
    # 365 days apart: (1 + r) = 2000 / 1000 exactly.
    assert xirr([(date(2021, 1, 1), Decimal("-1000")), (date(2022, 1, 1), Decimal("2000"))]) == pytest.approx(1.0)
    # Half the money back after two years (730 days): (1 + r)^2 = 0.5.
    assert xirr([(date(2021, 1, 1), Decimal("-1000")), (date(2023, 1, 1), Decimal("500"))]) == pytest.approx(
        0.5**0.5 - 1
    )


def test_xirr_order_of_flows_does_not_matter_and_same_day_flows_add_up() -> None:
    flows = [
        (date(2020, 6, 1), Decimal("600")),
        (date(2020, 1, 1), Decimal("-400")),
        (date(2020, 1, 1), Decimal("-600")),
        (date(2020, 12, 31), Decimal("600")),
    ]
    expected = xirr(
        [(date(2020, 1, 1), Decimal("-1000")), (date(2020, 6, 1), Decimal("600")), (date(2020, 12, 31), Decimal("600"))]
    )
    assert xirr(flows) == pytest.approx(expected)
    assert expected is not None and expected > 0


def test_xirr_is_undefined_without_a_change_of_sign() -> None:
    assert xirr([]) is None
    assert xirr([(date(2020, 1, 1), Decimal("-100")), (date(2020, 6, 1), Decimal("-5"))]) is None
    assert xirr([(date(2020, 1, 1), Decimal("100"))]) is None


def test_xirr_of_a_heavy_loss_is_found_by_bisection() -> None:
    # 1 % back after 183 days: r = 0.01^(365/183) - 1, about -99.99 %; Newton from 10 % overshoots below
    # -100 % here and the bisection finds it.
    rate = xirr([(date(2020, 1, 1), Decimal("-10000")), (date(2020, 7, 2), Decimal("100"))])
    assert rate == pytest.approx(0.01 ** (365 / 183) - 1, rel=1e-6)
