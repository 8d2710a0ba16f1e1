"""Candidate and placement write services: referral with CPR rules, enrolment, withdrawal, caseload, placements."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from candidates.cpr import hash_cpr
from candidates.models import Candidate
from candidates.services import (
    candidate_assign_consultant,
    candidate_enrol,
    candidate_refer,
    candidate_withdraw,
)
from organisations.models import Contract
from placements.models import Placement
from placements.services import employer_create, job_create, placement_create, placement_end
from tests.factories import ContractFactory, EmployerFactory, JobFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract() -> Contract:
    return ContractFactory(code="IMP")


def refer(contract: Contract, **overrides: object) -> Candidate:
    values: dict[str, object] = {
        "contract": contract,
        "ref": "C001",
        "name": "Mette Jensen",
        "cpr": "120385-1234",
        "referred_on": date(2020, 1, 6),
    }
    values.update(overrides)
    return candidate_refer(**values)  # type: ignore[arg-type]


def codes(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str | None]]:
    return {name: [e.code for e in errors] for name, errors in excinfo.value.error_dict.items()}


def test_refer_stores_the_cpr_encrypted_and_hashed(contract: Contract) -> None:
    user = UserFactory()
    candidate = refer(contract, user=user, consent_on=date(2020, 1, 6))
    candidate.refresh_from_db()
    assert candidate.cpr == "1203851234" and candidate.cpr_hash == hash_cpr("1203851234")
    assert "1203851234" not in candidate.cpr_encrypted and candidate.cpr_masked == "120385-XXXX"
    assert candidate.consent_on == date(2020, 1, 6) and candidate.enrolled_on is None
    assert candidate.history.get().history_user == user


@pytest.mark.parametrize(
    ("cpr", "code"),
    [("12038-1234", "cpr_format"), ("310285-1234", "cpr_date"), ("abcdefghij", "cpr_format")],
)
def test_refer_refuses_a_cpr_number_that_is_not_one(contract: Contract, cpr: str, code: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        refer(contract, cpr=cpr)
    assert codes(excinfo) == {"cpr": [code]}
    assert Candidate.objects.count() == 0


def test_refer_accepts_a_cpr_number_without_modulus_11(contract: Contract) -> None:
    # 010180-0001 fails the old modulus-11 check; such numbers are issued since 2007 and are valid.
    assert refer(contract, cpr="0101800001").cpr == "0101800001"


def test_the_same_cpr_number_cannot_be_referred_twice_to_a_contract(contract: Contract) -> None:
    refer(contract)
    with pytest.raises(ValidationError) as excinfo:
        refer(contract, ref="C002", cpr="1203851234")
    assert codes(excinfo) == {"cpr": ["cpr_duplicate"]}
    assert "already referred to IMP as candidate C001" in excinfo.value.error_dict["cpr"][0].message
    other = ContractFactory(code="OTHER")
    assert refer(other, ref="C001").contract == other  # another contract may have the same person


def test_a_ref_is_unique_in_the_contract(contract: Contract) -> None:
    refer(contract)
    with pytest.raises(ValidationError) as excinfo:
        refer(contract, cpr="0101901111")
    assert codes(excinfo) == {"ref": ["ref_duplicate"]}


def test_referral_cannot_precede_birth(contract: Contract) -> None:
    assert refer(contract, cpr="0101201234", referred_on=date(2019, 12, 31)).ref == "C001"  # 7th digit 1: 1920
    with pytest.raises(ValidationError) as excinfo:
        refer(contract, ref="C002", cpr="0101254234", referred_on=date(2024, 12, 31))  # 7th digit 4, yy 25 -> 2025
    assert codes(excinfo) == {"referred_on": ["referred_before_birth"]}


def test_enrol_and_withdraw(contract: Contract) -> None:
    candidate = refer(contract)
    with pytest.raises(ValidationError) as excinfo:
        candidate_enrol(candidate=candidate, enrolled_on=date(2020, 1, 1))
    assert codes(excinfo) == {"enrolled_on": ["enrolled_before_referral"]}
    candidate = candidate_enrol(candidate=candidate, enrolled_on=date(2020, 1, 13))
    assert Candidate.objects.get(pk=candidate.pk).enrolled_on == date(2020, 1, 13)

    with pytest.raises(ValidationError) as excinfo:
        candidate_withdraw(candidate=candidate, withdrawn_on=date(2020, 6, 1), reason="  ")
    assert codes(excinfo) == {"reason": ["reason_required"]}
    coordinator = UserFactory()
    candidate_withdraw(candidate=candidate, withdrawn_on=date(2020, 6, 1), reason="Moved to Aarhus", user=coordinator)
    candidate.refresh_from_db()
    assert (candidate.withdrawn_on, candidate.withdrawal_reason) == (date(2020, 6, 1), "Moved to Aarhus")
    newest = candidate.history.order_by("-history_id").first()
    assert (newest.history_change_reason, newest.history_user) == ("Moved to Aarhus", coordinator)
    with pytest.raises(ValidationError) as excinfo:
        candidate_withdraw(candidate=candidate, withdrawn_on=date(2020, 7, 1), reason="again")
    assert excinfo.value.code == "already_withdrawn"
    with pytest.raises(ValidationError) as excinfo:
        candidate_enrol(candidate=candidate, enrolled_on=date(2020, 1, 13))
    assert excinfo.value.code == "withdrawn"


def test_a_withdrawal_cannot_precede_the_referral(contract: Contract) -> None:
    candidate = refer(contract)
    with pytest.raises(ValidationError) as excinfo:
        candidate_withdraw(candidate=candidate, withdrawn_on=date(2019, 12, 1), reason="Never started")
    assert codes(excinfo) == {"withdrawn_on": ["withdrawn_before_referral"]}


def test_only_the_operators_consultants_take_a_caseload(contract: Contract) -> None:
    candidate = refer(contract)
    consultant = MembershipFactory(organisation=contract.operator, role="consultant").user
    outsider = MembershipFactory(role="consultant").user  # works for another operator
    municipal = MembershipFactory(organisation=contract.municipality, role="municipality").user
    assert candidate_assign_consultant(candidate=candidate, consultant=consultant).consultant == consultant
    for user in (outsider, municipal):
        with pytest.raises(ValidationError) as excinfo:
            candidate_assign_consultant(candidate=candidate, consultant=user)
        assert codes(excinfo) == {"consultant": ["not_consultant"]}
    assert Candidate.objects.get(pk=candidate.pk).consultant == consultant
    assert candidate_assign_consultant(candidate=candidate, consultant=None).consultant is None


# --- placements -------------------------------------------------------------------------------------


def test_employer_cvr_is_unique_per_operator(contract: Contract) -> None:
    employer = employer_create(
        operator=contract.operator, name="Café Fokus", cvr="41234567", sector="restaurant", own_enterprise=True
    )
    assert employer.own_enterprise and employer.operator == contract.operator
    with pytest.raises(ValidationError) as excinfo:
        employer_create(operator=contract.operator, name="Café Fokus igen", cvr="41234567")
    assert codes(excinfo) == {"cvr": ["cvr_duplicate"]}
    with pytest.raises(ValidationError) as excinfo:
        employer_create(operator=contract.municipality, name="Kommunen", cvr="41234568")
    assert codes(excinfo) == {"operator": ["not_operator"]}


def test_job_create_checks_kind_and_hours(contract: Contract) -> None:
    employer = EmployerFactory(operator=contract.operator, sector="cleaning")
    job = job_create(employer=employer, title="Rengøringsassistent", hours_per_week=Decimal("8"))
    assert (job.kind, job.sector, job.hours_per_week) == ("small_job", "cleaning", Decimal("8"))
    with pytest.raises(ValidationError) as excinfo:
        job_create(employer=employer, title="X", kind="summer_job", hours_per_week=Decimal("200"))
    assert set(codes(excinfo)) == {"kind", "hours_per_week"}


def test_placement_is_a_job_xor_an_education_and_ends_after_it_starts(contract: Contract) -> None:
    candidate = refer(contract)
    job = JobFactory(employer=EmployerFactory(operator=contract.operator), hours_per_week=Decimal("12"))
    placement = placement_create(candidate=candidate, job=job, start=date(2020, 2, 3))
    assert placement.hours_per_week == Decimal("12") and placement.history.count() == 1
    education = placement_create(
        candidate=candidate, education="SOSU-hjælper", start=date(2020, 8, 10), hours_per_week=Decimal("30")
    )
    assert education.kind == "education"
    for bad, field in [
        ({"job": job, "education": "SOSU"}, "job"),
        ({}, "job"),
        ({"job": job, "end": date(2020, 1, 1)}, "end"),
        ({"job": job, "hours_per_week": Decimal("169")}, "hours_per_week"),
        ({"job": JobFactory()}, "job"),  # a job at another operator's employer
    ]:
        with pytest.raises(ValidationError) as excinfo:
            placement_create(candidate=candidate, start=date(2020, 2, 3), **bad)  # type: ignore[arg-type]
        assert field in excinfo.value.error_dict, bad
    assert Placement.objects.count() == 2
    with pytest.raises(ValidationError) as excinfo:
        placement_end(placement=placement, end=date(2020, 2, 2))
    assert codes(excinfo) == {"end": ["end_before_start"]}
    assert placement_end(placement=placement, end=date(2020, 5, 31)).end == date(2020, 5, 31)
