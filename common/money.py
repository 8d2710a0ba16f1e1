"""Money: DKK as Decimal with two decimals, rounded half up; never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class MoneyError(ValueError):
    """A text that is not an amount of money."""


def round_money(value: Decimal) -> Decimal:
    """Round to øre, half away from zero (so a credit note's VAT mirrors the invoice's)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(text: object, *, allow_negative: bool = False) -> Decimal:
    """`"1200.00"`, `1200`, `"1.200,50"`? Only plain decimals: `1200.5` or Danish `1200,5`."""
    if isinstance(text, float):
        raise MoneyError(f"{text!r}: give amounts as strings, not floating point numbers")
    raw = str(text).strip().replace(" ", "")
    if raw.count(",") == 1 and "." not in raw:
        raw = raw.replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise MoneyError(f"'{text}' is not an amount") from None
    if not value.is_finite():
        raise MoneyError(f"'{text}' is not an amount")
    if value != value.quantize(CENT):
        raise MoneyError(f"'{text}' has more than two decimals")
    if value < 0 and not allow_negative:
        raise MoneyError(f"'{text}' is negative")
    return value.quantize(CENT)


def to_ore(value: Decimal) -> int:
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_ore(ore: int) -> Decimal:
    return (Decimal(ore) / 100).quantize(CENT)
