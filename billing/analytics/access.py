"""Who sees which dashboard, and small-count suppression: investors see aggregates only, counts below 5 as "<5"."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet
from django.utils import formats

from organisations.models import Contract, Role
from organisations.selectors import contracts_for_user, is_admin

DASHBOARD_ROLES = (Role.INVESTOR, Role.MUNICIPALITY, Role.COORDINATOR)
# The municipality and the operator's coordinator work with the candidates: they may see exact counts.
EXACT_COUNT_ROLES = (Role.MUNICIPALITY, Role.COORDINATOR)
SUPPRESSION_THRESHOLD = 5
SUPPRESSED = "<5"
NOT_SHOWN = "\u2013"  # an en dash: no figure (suppressed or undefined)


def dashboard_contracts_for_user(user: object) -> QuerySet[Contract]:
    """Contracts whose dashboard the user may open: as investor, municipality or coordinator; admins all."""
    return contracts_for_user(user, roles=DASHBOARD_ROLES).select_related("municipality", "operator", "payee")


def exact_count_contract_ids(user: object) -> set[int] | None:
    """Contracts on which the user may see exact counts; None means all of them (admins)."""
    if is_admin(user):
        return None
    return set(contracts_for_user(user, roles=EXACT_COUNT_ROLES).values_list("pk", flat=True))


def suppress_counts_for(user: object, contracts: list[Contract]) -> bool:
    """True when any of the contracts is seen only as an investor: then every count below 5 is hidden."""
    exact = exact_count_contract_ids(user)
    return exact is not None and any(contract.pk not in exact for contract in contracts)


def _separators() -> tuple[str, str]:
    return str(formats.get_format("THOUSAND_SEPARATOR")), str(formats.get_format("DECIMAL_SEPARATOR"))


def format_number(value: Decimal | float | int, decimals: int = 0, *, grouping: bool = True) -> str:
    """A number in the active language's notation (da: 1.234.567,89), rounded half up."""
    thousands, decimal_point = _separators()
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{decimals}f}" if grouping else f"{rounded:.{decimals}f}"
    return text.replace(",", "\0").replace(".", decimal_point).replace("\0", thousands)


def format_int(value: int) -> str:
    return format_number(value)


def format_money(value: Decimal | float, decimals: int = 0) -> str:
    return format_number(value, decimals)


def format_percent(ratio: float | Decimal | None, decimals: int = 0) -> str:
    if ratio is None:
        return NOT_SHOWN
    return format_number(float(ratio) * 100, decimals, grouping=False) + " %"


@dataclass(frozen=True)
class Count:
    """A count of people (or candidate-weeks) as shown to one audience."""

    value: int
    suppressed: bool = False

    @classmethod
    def of(cls, value: int, *, suppress: bool) -> Count:
        return cls(value=value, suppressed=suppress and value < SUPPRESSION_THRESHOLD)

    @property
    def display(self) -> str:
        return SUPPRESSED if self.suppressed else format_int(self.value)

    @property
    def shown(self) -> int | None:
        """The value to draw or export as a number; None when it is suppressed."""
        return None if self.suppressed else self.value

    @property
    def export(self) -> int | str:
        return SUPPRESSED if self.suppressed else self.value

    def __str__(self) -> str:
        return self.display


@dataclass(frozen=True)
class Share:
    """numerator / denominator; hidden when either count is suppressed (the share would give it away)."""

    numerator: Count
    denominator: Count

    @property
    def ratio(self) -> float | None:
        if self.numerator.suppressed or self.denominator.suppressed or not self.denominator.value:
            return None
        return self.numerator.value / self.denominator.value

    @property
    def display(self) -> str:
        return format_percent(self.ratio)

    def __str__(self) -> str:
        return self.display


def share(numerator: int, denominator: int, *, suppress: bool) -> Share:
    return Share(Count.of(numerator, suppress=suppress), Count.of(denominator, suppress=suppress))
