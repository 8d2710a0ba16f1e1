"""A small programme for the portal, document and API tests: parties with addresses, three issued documents.

IMPACT-P, VAT 25 %: week 2020-W01 invoices C001 (full) and C002 (partial); 2020-W02 invoices C001 (full);
then C001's week 1 is corrected to `none`, so 2020-W03 issues a credit note of that week (-1200 + VAT).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billing.demo import _with_check_digit
from billing.models import Document
from candidates.models import Candidate
from organisations.models import Contract, Organisation, User
from tests.billing_helpers import make_candidate, make_contract, set_status, settle
from tests.factories import MembershipFactory, OrganisationFactory

MUNICIPALITY_EAN = _with_check_digit("579800012345")


@dataclass
class Programme:
    contract: Contract
    anna: Candidate
    bo: Candidate
    invoice1: Document
    invoice2: Document
    credit_note: Document

    @property
    def municipality(self) -> Organisation:
        return self.contract.municipality

    @property
    def payee(self) -> Organisation:
        return self.contract.payee


def build_programme(code: str = "IMPACT-P", *, vat_rate: str = "0.25") -> Programme:
    municipality = OrganisationFactory(
        name="Aalborg Kommune, Jobcenter",
        kind=Organisation.Kind.MUNICIPALITY,
        cvr="29189420",
        ean=MUNICIPALITY_EAN,
        street_name="Boulevarden",
        building_number="13",
        postal_code="9000",
        city="Aalborg",
        contact_email="jobcenter@example.dk",
    )
    payee = OrganisationFactory(
        name="Den Sociale Kapitalfond",
        kind=Organisation.Kind.INVESTOR,
        cvr="36440872",
        street_name="Rued Langgaards Vej",
        building_number="8",
        postal_code="2300",
        city="København S",
        contact_email="fond@example.dk",
        bank_account="5301 0000123456",
    )
    operator = OrganisationFactory(name="Fokus Folkeoplysning", kind=Organisation.Kind.OPERATOR, cvr="38112200")
    contract = make_contract(
        code=code,
        municipality=municipality,
        payee=payee,
        operator=operator,
        vat_rate=Decimal(vat_rate),
        municipality_reference="Lise Holm",
        order_reference="JIF-2018-001",
    )
    anna = make_candidate(contract, "C001", name="Anna Hansen")
    bo = make_candidate(contract, "C002", name="Bo Jensen")
    set_status(anna, "2020-W01", "full")
    set_status(bo, "2020-W01", "partial")
    (invoice1,) = settle(contract, "2020-01-13T00:00")
    set_status(anna, "2020-W02", "full")
    (invoice2,) = settle(contract, "2020-01-20T00:00")
    set_status(anna, "2020-W01", "none")
    (credit_note,) = settle(contract, "2020-01-27T00:00")
    assert credit_note.is_credit_note and credit_note.corrects_id == invoice2.pk
    return Programme(contract, anna, bo, invoice1, invoice2, credit_note)


def member(role: str, organisation: Organisation, *, username: str | None = None) -> User:
    extra = {"user__username": username} if username else {}
    return MembershipFactory(role=role, organisation=organisation, **extra).user
