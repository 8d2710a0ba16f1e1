"""Builders for the consultant workspace tests: an operator team on a contract running around today."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from candidates.models import Candidate
from common import weeks
from organisations.models import Contract, Organisation
from tests.factories import (
    CandidateFactory,
    ContractFactory,
    EmployerFactory,
    JobFactory,
    MembershipFactory,
    RateCardVersionFactory,
    UserFactory,
)


def this_week() -> date:
    return weeks.current_week()


def week_ago(count: int) -> date:
    return weeks.add_weeks(this_week(), -count)


@dataclass
class Team:
    """One operator's contract with a coordinator and two consultants, plus outsiders who must see nothing."""

    contract: Contract
    operator: Organisation
    coordinator: Any
    consultant: Any
    other_consultant: Any
    municipality_user: Any
    investor_user: Any
    stranger: Any  # a coordinator of another operator
    users: dict[str, Any] = field(default_factory=dict)

    def candidate(self, ref: str, *, consultant: Any = None, **values: Any) -> Candidate:
        values.setdefault("referred_on", week_ago(20))
        values.setdefault("enrolled_on", values["referred_on"] + timedelta(days=7))
        return CandidateFactory(contract=self.contract, ref=ref, consultant=consultant or self.consultant, **values)

    def job(self, title: str = "Opvasker", kind: str = "small_job", hours: str = "10", **values: Any) -> Any:
        employer = values.pop("employer", None) or EmployerFactory(operator=self.operator, name="Café Fokus")
        return JobFactory(employer=employer, title=title, kind=kind, hours_per_week=hours, **values)


def make_team(code: str = "WS1", *, first: date | None = None, last: date | None = None) -> Team:
    contract = ContractFactory(
        code=code,
        first_week=first or week_ago(30),
        last_week=last or weeks.add_weeks(this_week(), 100),
    )
    RateCardVersionFactory(contract=contract)
    operator = contract.operator
    coordinator = MembershipFactory(
        role="coordinator", organisation=operator, user=UserFactory(first_name="Kamilla", last_name="Koordinator")
    ).user
    consultant = MembershipFactory(
        role="consultant", organisation=operator, user=UserFactory(first_name="Karin", last_name="Konsulent")
    ).user
    other = MembershipFactory(
        role="consultant", organisation=operator, user=UserFactory(first_name="Kurt", last_name="Konsulent")
    ).user
    municipality_user = MembershipFactory(role="municipality", organisation=contract.municipality).user
    investor_user = MembershipFactory(role="investor", organisation=contract.payee).user
    stranger = MembershipFactory(role="coordinator", organisation=ContractFactory().operator).user
    return Team(
        contract=contract,
        operator=operator,
        coordinator=coordinator,
        consultant=consultant,
        other_consultant=other,
        municipality_user=municipality_user,
        investor_user=investor_user,
        stranger=stranger,
    )


def htmx(client: Any, method: str, url: str, data: Any = None, **extra: Any) -> Any:
    """A request as htmx sends it (the HX-Request header)."""
    call = getattr(client, method)
    return call(url, data or {}, HTTP_HX_REQUEST="true", **extra)


def root_id(html: bytes | str) -> str:
    """The id of a fragment's root element."""
    import re

    text = html.decode() if isinstance(html, bytes) else html
    first_tag = re.search(r"<[a-zA-Z][^>]*>", text)
    match = re.search(r'\sid="([^"]+)"', first_tag.group(0)) if first_tag else None
    return match.group(1) if match else ""


@pytest.fixture(autouse=True)
def workspace_settings(settings: Any) -> None:
    """Fast password hashing (every team makes seven users) and English pages, so assertions read the
    source strings; the Danish pages are tested on their own."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGE_CODE = "en"
