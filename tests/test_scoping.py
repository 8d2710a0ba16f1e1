"""Who sees what (SPEC section 5): every role against every scoping selector, as one table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.test import override_settings

from billing import selectors as billing_selectors
from billing.services.ledger import disbursement_record, document_post, payment_record
from candidates import selectors as candidate_selectors
from candidates.models import WeeklyStatusUpload
from common import weeks
from organisations.models import Role
from organisations.selectors import contracts_for_user
from placements import selectors as placement_selectors
from tests.factories import (
    CandidateFactory,
    ContractFactory,
    ContractInvestorFactory,
    DocumentFactory,
    DocumentLineFactory,
    EmployerFactory,
    InvestorFactory,
    JobFactory,
    MembershipFactory,
    MunicipalityFactory,
    OperatorFactory,
    PlacementFactory,
    SettlementFactory,
    UserFactory,
    WeeklyStatusFactory,
)


@dataclass
class World:
    users: dict[str, Any] = field(default_factory=dict)
    # label -> object, so the table below can name what each role sees
    objects: dict[str, Any] = field(default_factory=dict)

    def labels(self, queryset: Any) -> set[str]:
        by_key = {(type(obj), obj.pk): label for label, obj in self.objects.items()}
        found = {by_key.get((type(obj), obj.pk), f"unlabelled {type(obj).__name__} {obj.pk}") for obj in queryset}
        return found


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once for the module inside a transaction that is rolled back at its end; tests nest in it."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _db(db: None) -> None:
    """Every test runs in its own savepoint inside the module's world."""


def build_world() -> World:
    w = World()
    operator_a, operator_b = OperatorFactory(name="Operator A"), OperatorFactory(name="Operator B")
    municipality_x, municipality_y = MunicipalityFactory(name="Kommune X"), MunicipalityFactory(name="Kommune Y")
    investor_1, investor_2 = InvestorFactory(name="Fond 1"), InvestorFactory(name="Fond 2")
    funder = InvestorFactory(name="Familiefond", kind="funder")
    contract_1 = ContractFactory(code="AX", operator=operator_a, municipality=municipality_x, payee=investor_1)
    contract_2 = ContractFactory(code="BY", operator=operator_b, municipality=municipality_y, payee=investor_2)
    ContractInvestorFactory(contract=contract_1, organisation=investor_1)
    co_funding = ContractInvestorFactory(contract=contract_1, organisation=funder, kind="funder")
    investment_2 = ContractInvestorFactory(contract=contract_2, organisation=investor_2)

    def member(label: str, organisation: Any, role: str, **user_fields: Any) -> Any:
        user = UserFactory(username=label, **user_fields)
        MembershipFactory(user=user, organisation=organisation, role=role)
        w.users[label] = user
        return user

    consultant_a = member("consultant_a", operator_a, Role.CONSULTANT)
    consultant_a2 = member("consultant_a2", operator_a, Role.CONSULTANT)
    member("coordinator_a", operator_a, Role.COORDINATOR, is_staff=True)
    consultant_b = member("consultant_b", operator_b, Role.CONSULTANT)
    member("municipality_x", municipality_x, Role.MUNICIPALITY)
    member("municipality_y", municipality_y, Role.MUNICIPALITY)
    member("investor_1", investor_1, Role.INVESTOR)
    member("funder_1", funder, Role.INVESTOR)
    member("inactive_coordinator_a", operator_a, Role.COORDINATOR, is_active=False)
    w.users["admin"] = UserFactory(username="admin", is_superuser=True, is_staff=True)
    w.users["anonymous"] = AnonymousUser()
    w.users["no_membership"] = UserFactory(username="no_membership", is_staff=True)

    o = w.objects
    o["c1"] = CandidateFactory(contract=contract_1, ref="A1", consultant=consultant_a)
    o["c2"] = CandidateFactory(contract=contract_1, ref="A2", consultant=consultant_a2)
    o["c3"] = CandidateFactory(contract=contract_1, ref="A3", consultant=None)
    o["c4"] = CandidateFactory(contract=contract_2, ref="B1", consultant=consultant_b)
    for n in (1, 2, 3, 4):
        o[f"ws{n}"] = WeeklyStatusFactory(candidate=o[f"c{n}"])
    o["employer_a"] = EmployerFactory(operator=operator_a)
    o["employer_b"] = EmployerFactory(operator=operator_b)
    o["job_a"] = JobFactory(employer=o["employer_a"])
    o["job_b"] = JobFactory(employer=o["employer_b"])
    o["p1"] = PlacementFactory(candidate=o["c1"], job=o["job_a"])
    o["p2"] = PlacementFactory(candidate=o["c2"], job=None, education="SOSU-assistent")
    o["p4"] = PlacementFactory(candidate=o["c4"], job=o["job_b"])

    for n, contract, candidate in ((1, contract_1, o["c1"]), (2, contract_2, o["c4"])):
        settlement = SettlementFactory(contract=contract)
        document = DocumentFactory(settlement=settlement, seq=1, subtotal=Decimal("1200.00"))
        o[f"settlement{n}"] = settlement
        o[f"document{n}"] = document
        o[f"line{n}"] = DocumentLineFactory(document=document, candidate=candidate, amount=Decimal("1200.00"))
        o[f"document_entry{n}"] = document_post(document=document)
        payment = payment_record(document=document, amount=Decimal("1000.00"), paid_on=date(2020, 2, 1))
        o[f"payment{n}"] = payment
        o[f"payment_entry{n}"] = payment.journal_entry
    o["disbursement1"] = disbursement_record(
        contract=contract_1, investor=co_funding, amount=Decimal("50000.00"), disbursed_on=date(2020, 1, 2)
    )
    o["disbursement_entry1"] = o["disbursement1"].journal_entry
    o["disbursement2"] = disbursement_record(
        contract=contract_2, investor=investment_2, amount=Decimal("70000.00"), disbursed_on=date(2020, 1, 2)
    )
    o["disbursement_entry2"] = o["disbursement2"].journal_entry
    for n, (contract, uploader) in enumerate(
        [(contract_1, consultant_a), (contract_1, consultant_a2), (contract_2, consultant_b)], start=1
    ):
        o[f"upload{n}"] = WeeklyStatusUpload.objects.create(
            contract=contract,
            uploaded_by=uploader,
            file_name=f"uge{n}.csv",
            file_format="csv",
            uploaded_at=weeks.now_copenhagen(),
        )
    for entry_label in [label for label in o if "entry" in label]:
        for posting in o[entry_label].postings.all():
            o[f"{entry_label}.{posting.account}"] = posting
    return w


ROLES = [
    "consultant_a",
    "consultant_a2",
    "coordinator_a",
    "consultant_b",
    "municipality_x",
    "municipality_y",
    "investor_1",
    "funder_1",
    "inactive_coordinator_a",
    "admin",
    "anonymous",
    "no_membership",
]

ALL_CANDIDATES = "c1 c2 c3 c4"
ENTRIES_1 = "document_entry1 payment_entry1 disbursement_entry1"
ENTRIES_2 = "document_entry2 payment_entry2 disbursement_entry2"
POSTINGS_1 = (
    "document_entry1.municipality_receivable document_entry1.outcome_revenue "
    "payment_entry1.cash payment_entry1.municipality_receivable "
    "disbursement_entry1.programme_funding disbursement_entry1.cash"
)
POSTINGS_2 = POSTINGS_1.replace("1.", "2.")

# selector -> role -> what the role sees (space-separated labels of World.objects). "" = nothing.
# Roles left out of a row see nothing: the default is deny. inactive_coordinator_a, anonymous and
# no_membership therefore never appear.
MATRIX: dict[str, dict[str, str]] = {
    "contracts_for_user": {
        "consultant_a": "AX", "consultant_a2": "AX", "coordinator_a": "AX", "consultant_b": "BY",
        "municipality_x": "AX", "municipality_y": "BY", "investor_1": "AX", "funder_1": "AX", "admin": "AX BY",
    },
    "candidates_for_user": {
        "consultant_a": "c1 c2 c3", "consultant_a2": "c1 c2 c3", "coordinator_a": "c1 c2 c3", "consultant_b": "c4",
        "municipality_x": "c1 c2 c3", "municipality_y": "c4", "admin": ALL_CANDIDATES,
    },
    "candidates_editable_by": {
        "consultant_a": "c1", "consultant_a2": "c2", "coordinator_a": "c1 c2 c3", "consultant_b": "c4",
        "admin": ALL_CANDIDATES,
    },
    "weekly_statuses_for_user": {
        "consultant_a": "ws1 ws2 ws3", "consultant_a2": "ws1 ws2 ws3", "coordinator_a": "ws1 ws2 ws3",
        "consultant_b": "ws4", "municipality_x": "ws1 ws2 ws3", "municipality_y": "ws4", "admin": "ws1 ws2 ws3 ws4",
    },
    "weekly_statuses_editable_by": {
        "consultant_a": "ws1", "consultant_a2": "ws2", "coordinator_a": "ws1 ws2 ws3", "consultant_b": "ws4",
        "admin": "ws1 ws2 ws3 ws4",
    },
    "status_uploads_for_user": {
        "consultant_a": "upload1", "consultant_a2": "upload2", "coordinator_a": "upload1 upload2",
        "consultant_b": "upload3", "admin": "upload1 upload2 upload3",
    },
    "employers_for_user": {
        "consultant_a": "employer_a", "consultant_a2": "employer_a", "coordinator_a": "employer_a",
        "consultant_b": "employer_b", "admin": "employer_a employer_b",
    },
    "jobs_for_user": {
        "consultant_a": "job_a", "consultant_a2": "job_a", "coordinator_a": "job_a", "consultant_b": "job_b",
        "admin": "job_a job_b",
    },
    "placements_for_user": {
        "consultant_a": "p1 p2", "consultant_a2": "p1 p2", "coordinator_a": "p1 p2", "consultant_b": "p4",
        "municipality_x": "p1 p2", "municipality_y": "p4", "admin": "p1 p2 p4",
    },
    "placements_editable_by": {
        "consultant_a": "p1", "consultant_a2": "p2", "coordinator_a": "p1 p2", "consultant_b": "p4",
        "admin": "p1 p2 p4",
    },
    "settlements_for_user": {
        "coordinator_a": "settlement1", "municipality_x": "settlement1", "municipality_y": "settlement2",
        "admin": "settlement1 settlement2",
    },
    "documents_for_user": {
        "coordinator_a": "document1", "municipality_x": "document1", "municipality_y": "document2",
        "admin": "document1 document2",
    },
    "document_lines_for_user": {
        "coordinator_a": "line1", "municipality_x": "line1", "municipality_y": "line2", "admin": "line1 line2",
    },
    "journal_entries_for_user": {
        "coordinator_a": ENTRIES_1, "investor_1": ENTRIES_1, "funder_1": ENTRIES_1,
        "admin": f"{ENTRIES_1} {ENTRIES_2}",
    },
    "postings_for_user": {
        "coordinator_a": POSTINGS_1, "investor_1": POSTINGS_1, "funder_1": POSTINGS_1,
        "admin": f"{POSTINGS_1} {POSTINGS_2}",
    },
    "disbursements_for_user": {
        "coordinator_a": "disbursement1", "investor_1": "disbursement1", "funder_1": "disbursement1",
        "admin": "disbursement1 disbursement2",
    },
    "payments_for_user": {
        "coordinator_a": "payment1", "municipality_x": "payment1", "municipality_y": "payment2",
        "admin": "payment1 payment2",
    },
}  # fmt: skip

SELECTORS = {
    "contracts_for_user": contracts_for_user,
    **{
        name: getattr(module, name)
        for module in (candidate_selectors, placement_selectors, billing_selectors)
        for name in MATRIX
        if hasattr(module, name)
    },
}


def test_matrix_names_every_role_and_selector() -> None:
    assert set(SELECTORS) == set(MATRIX), "every selector in the table is importable"
    for row in MATRIX.values():
        assert set(row) <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("selector_name", list(MATRIX))
def test_scoping_matrix(world: World, selector_name: str, role: str) -> None:
    selector = SELECTORS[selector_name]
    expected = set(MATRIX[selector_name].get(role, "").split())
    user = world.users[role]
    result = selector(user)
    if selector_name == "contracts_for_user":
        assert {c.code for c in result} == expected
    else:
        assert world.labels(result) == expected
    if expected:
        # a row seen once, not once per membership or investor (no duplicates from joins)
        assert result.count() == len(expected)


def test_every_labelled_object_is_seen_by_the_admin(world: World) -> None:
    """The table above is complete: the admin's view covers every object it labels."""
    admin = world.users["admin"]
    seen: set[str] = set()
    for name, selector in SELECTORS.items():
        if name != "contracts_for_user":
            seen |= world.labels(selector(admin))
    assert seen == set(world.objects)


def test_a_second_membership_widens_the_view(world: World) -> None:
    """A municipality user who also coordinates operator B sees both contracts' candidates, each once."""
    user = world.users["municipality_x"]
    operator_b = world.objects["c4"].contract.operator
    MembershipFactory(user=user, organisation=operator_b, role=Role.COORDINATOR)
    user = type(user).objects.get(pk=user.pk)  # fresh object: memberships are cached per user object
    assert world.labels(candidate_selectors.candidates_for_user(user)) == {"c1", "c2", "c3", "c4"}
    assert world.labels(candidate_selectors.candidates_editable_by(user)) == {"c4"}
    assert world.labels(billing_selectors.journal_entries_for_user(user)) == set(ENTRIES_2.split())


def test_ledger_balances_for_contract(world: World) -> None:
    contract = world.objects["document1"].contract
    balances = billing_selectors.ledger_balances_for_contract(contract=contract)
    assert balances == {
        "municipality_receivable": Decimal("200.00"),  # invoiced 1200, paid 1000
        "outcome_revenue": Decimal("-1200.00"),
        "cash": Decimal("-49000.00"),  # received 1000, paid out 50000
        "programme_funding": Decimal("50000.00"),
    }
    assert sum(balances.values()) == 0


def test_ledger_contracts_follow_the_ledger_roles(world: World) -> None:
    codes = {role: {c.code for c in billing_selectors.ledger_contracts_for_user(world.users[role])} for role in ROLES}
    assert codes["investor_1"] == {"AX"}
    assert codes["coordinator_a"] == {"AX"}
    assert codes["municipality_x"] == set()
    assert codes["consultant_a"] == set()
    assert codes["admin"] == {"AX", "BY"}


def test_candidate_list_has_no_n_plus_one(world: World, django_assert_num_queries: Any) -> None:
    """One query for the memberships, one for the candidates with contract and consultant joined."""
    user = type(world.users["coordinator_a"]).objects.get(username="coordinator_a")
    CandidateFactory.create_batch(5, contract=world.objects["c1"].contract, consultant=world.users["consultant_a"])
    with django_assert_num_queries(2):
        rows = [
            (c.contract.code, c.ref, c.consultant.username if c.consultant else "")
            for c in candidate_selectors.candidates_for_user(user)
        ]
    assert len(rows) == 8


@pytest.mark.parametrize(
    ("selector", "touch"),
    [
        (placement_selectors.placements_for_user, lambda p: (p.candidate.contract.code, p.job and p.job.employer.name)),
        (billing_selectors.document_lines_for_user, lambda line: (line.document.contract.code, line.candidate.ref)),
        (billing_selectors.postings_for_user, lambda posting: posting.entry.contract.code),
        (billing_selectors.payments_for_user, lambda payment: payment.document.contract.code),
        (billing_selectors.disbursements_for_user, lambda d: (d.contract.code, d.investor.organisation.name)),
        (candidate_selectors.weekly_statuses_for_user, lambda ws: ws.candidate.contract.code),
    ],
)
def test_list_selectors_join_what_a_list_shows(
    world: World, django_assert_num_queries: Any, selector: Any, touch: Any
) -> None:
    user = type(world.users["admin"]).objects.get(username="admin")
    with django_assert_num_queries(1):
        rows = [touch(obj) for obj in selector(user)]
    assert rows
