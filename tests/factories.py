"""factory_boy factories for tests: plain state. Flows (import, settlement) go through the services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from candidates.models import Candidate, WeeklyStatus
from common import weeks
from organisations.models import Contract, ContractInvestor, Membership, Organisation, RateCardVersion, User
from placements.models import Employer, Job, Placement


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("cvr",)

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.OPERATOR
    cvr = factory.Sequence(lambda n: f"{30000000 + n}")


class MunicipalityFactory(OrganisationFactory):
    kind = Organisation.Kind.MUNICIPALITY
    name = factory.Sequence(lambda n: f"Kommune {n}")
    ean = "5798000000001"


class OperatorFactory(OrganisationFactory):
    kind = Organisation.Kind.OPERATOR
    name = factory.Sequence(lambda n: f"Operatør {n}")


class InvestorFactory(OrganisationFactory):
    kind = Organisation.Kind.INVESTOR
    name = factory.Sequence(lambda n: f"Kapitalfond {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Bruger{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OperatorFactory)
    role = "consultant"


class ContractFactory(DjangoModelFactory):
    class Meta:
        model = Contract

    code = factory.Sequence(lambda n: f"C{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Programme {o.code}")
    municipality = factory.SubFactory(MunicipalityFactory)
    operator = factory.SubFactory(OperatorFactory)
    payee = factory.SubFactory(InvestorFactory)
    first_week = weeks.parse_week("2020-W01")
    last_week = weeks.parse_week("2022-W52")


class RateCardVersionFactory(DjangoModelFactory):
    class Meta:
        model = RateCardVersion

    contract = factory.SubFactory(ContractFactory)
    effective_from = factory.LazyAttribute(lambda o: o.contract.first_week)
    price_full = Decimal("1200.00")
    price_partial = Decimal("600.00")
    price_education = Decimal("1200.00")


class ContractInvestorFactory(DjangoModelFactory):
    class Meta:
        model = ContractInvestor

    contract = factory.SubFactory(ContractFactory)
    organisation = factory.LazyAttribute(lambda o: o.contract.payee)
    kind = "investor"
    committed = Decimal("4000000.00")


class CandidateFactory(DjangoModelFactory):
    class Meta:
        model = Candidate
        skip_postgeneration_save = True

    contract = factory.SubFactory(ContractFactory)
    ref = factory.Sequence(lambda n: f"C{n:04d}")
    name = factory.Sequence(lambda n: f"Kandidat Nummer{n}")
    referred_on = date(2020, 1, 1)
    enrolled_on = date(2020, 1, 6)

    @factory.post_generation
    def cpr(obj, create, extracted, **kwargs):
        number = extracted or f"0101{80 + obj.pk % 20 if obj.pk else 90}{(obj.pk or 0) % 10000:04d}"
        obj.set_cpr(number)
        if create:
            obj.save(update_fields=["cpr_encrypted", "cpr_hash"])


class WeeklyStatusFactory(DjangoModelFactory):
    class Meta:
        model = WeeklyStatus

    candidate = factory.SubFactory(CandidateFactory)
    week = weeks.parse_week("2020-W02")
    outcome = "full"
    recorded_at = factory.LazyFunction(lambda: weeks.now_copenhagen())


class EmployerFactory(DjangoModelFactory):
    class Meta:
        model = Employer

    operator = factory.SubFactory(OperatorFactory)
    name = factory.Sequence(lambda n: f"Virksomhed {n}")
    cvr = factory.Sequence(lambda n: f"{50000000 + n}")
    sector = "retail"


class JobFactory(DjangoModelFactory):
    class Meta:
        model = Job

    employer = factory.SubFactory(EmployerFactory)
    title = "Butiksassistent"
    kind = "small_job"
    hours_per_week = Decimal("10.00")
    sector = "retail"


class PlacementFactory(DjangoModelFactory):
    class Meta:
        model = Placement

    candidate = factory.SubFactory(CandidateFactory)
    job = factory.SubFactory(JobFactory)
    start = date(2020, 2, 3)


# --- billing (plain rows for scoping and admin tests; real documents come from the settlement service) ---


class SettlementFactory(DjangoModelFactory):
    class Meta:
        model = "billing.Settlement"

    contract = factory.SubFactory(ContractFactory)
    week = weeks.parse_week("2020-W02")
    settled_at = factory.LazyFunction(lambda: weeks.now_copenhagen())
    as_of = factory.LazyFunction(lambda: weeks.now_copenhagen())


class DocumentFactory(DjangoModelFactory):
    """An invoice whose subtotal must match its lines: add DocumentLineFactory rows summing to it."""

    class Meta:
        model = "billing.Document"

    settlement = factory.SubFactory(SettlementFactory)
    contract = factory.LazyAttribute(lambda o: o.settlement.contract)
    seq = factory.Sequence(lambda n: n + 1)
    number = factory.LazyAttribute(lambda o: f"{o.contract.code}-{o.seq:05d}")
    kind = "invoice"
    week = factory.LazyAttribute(lambda o: o.settlement.week)
    issue_date = date(2020, 1, 20)
    due_date = date(2020, 2, 19)
    vat_rate = Decimal("0")
    subtotal = Decimal("1200.00")
    vat = Decimal("0.00")
    total = factory.LazyAttribute(lambda o: o.subtotal + o.vat)


class DocumentLineFactory(DjangoModelFactory):
    class Meta:
        model = "billing.DocumentLine"

    document = factory.SubFactory(DocumentFactory)
    candidate = factory.SubFactory(CandidateFactory, contract=factory.SelfAttribute("..document.contract"))
    week = factory.LazyAttribute(lambda o: o.document.week)
    outcome = "full"
    price = Decimal("1200.00")
    amount = Decimal("1200.00")
    adjustment = False
