"""The security matrix's world: two contracts, A and B, each with every kind of object a URL can name.

Contract A: operator A, municipality X, investor I (the `investor` login is a member of I).
Contract B: operator B, municipality Y, investor J (no login of the matrix belongs to J), so for every
role but admin one of the two contracts is "others'". Candidates carry names and valid CPR numbers, so
the investor scan has personal data to look for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework.authtoken.models import Token

from billing.models import DocumentEmail, Payment
from billing.services.disputes import dispute_open
from billing.services.ledger import disbursement_record, payment_record
from billing.services.referrals import EligiblePerson, referral_lottery_draw
from candidates.cpr import mask_cpr, normalise_cpr
from candidates.models import WeeklyStatusUpload
from common import weeks
from organisations.models import BenefitRate, Role
from tests.billing_helpers import make_candidate, make_contract, set_status, settle
from tests.factories import (
    ContractInvestorFactory,
    EmployerFactory,
    InvestorFactory,
    JobFactory,
    MembershipFactory,
    MunicipalityFactory,
    OperatorFactory,
    PlacementFactory,
    UserFactory,
)

SIDES = ("A", "B")

# Logins of the matrix and the contract each takes part in ("own"); admin's own side is A.
HOME: dict[str, str] = {
    "anonymous": "A",
    "consultant_a": "A",
    "consultant_b": "B",
    "coordinator_a": "A",
    "municipality_x": "A",
    "municipality_y": "B",
    "investor": "A",
    "admin": "A",
}
ROLES = tuple(HOME)
# The kind of each login, as SPEC section 5 names the roles.
KIND: dict[str, str] = {
    "anonymous": "anonymous",
    "consultant_a": Role.CONSULTANT,
    "consultant_b": Role.CONSULTANT,
    "coordinator_a": Role.COORDINATOR,
    "municipality_x": Role.MUNICIPALITY,
    "municipality_y": Role.MUNICIPALITY,
    "investor": Role.INVESTOR,
    "admin": "admin",
}

# Personal data that must never reach the investor. Names and numbers are unusual on purpose, so that a
# find in a page is a leak and not a coincidence; refs are in the referral series (C001, ...) but apart per
# contract, so the lottery's next ref (C103, C203) differs too.
PEOPLE: dict[str, list[tuple[str, str, str]]] = {  # side -> (ref, name, CPR)
    "A": [("C101", "Astrid Sikkerhedsen", "0103851234"), ("C102", "Aksel Fortroligsen", "1507921357")],
    "B": [("C201", "Birthe Hemmeligsen", "2202764680"), ("C202", "Bent Diskretionsen", "0911885792")],
}
# People drawn in each side's referral lottery (the referred become candidates; the rest only hashes).
LOTTERY_PEOPLE: dict[str, list[tuple[str, str]]] = {
    "A": [("1204901111", "Agnete Lodtrækningsen"), ("2308932222", "Arne Sammenligningsen")],
    "B": [("0506873333", "Bodil Lodtrækningsen"), ("1710954444", "Bjarne Sammenligningsen")],
}


@dataclass
class Side:
    """One contract and everything of it a URL can name."""

    letter: str
    contract: Any
    operator: Any
    municipality: Any
    investor: Any
    candidate: Any  # on the side's consultant's caseload
    second_candidate: Any  # on the colleague's caseload
    status: Any
    employer: Any
    job: Any
    placement: Any
    second_placement: Any  # of the candidate on no caseload
    settlement: Any
    document: Any
    line: Any
    payment: Any
    disbursement: Any
    dispute: Any
    lottery: Any
    upload: Any
    second_upload: Any  # the colleague's
    document_email: Any
    consultant: Any
    token: Any
    benefit_rate: Any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return str(self.contract.code)

    @property
    def refs(self) -> list[str]:
        return [str(ref) for ref, _name, _cpr in PEOPLE[self.letter]] + list(self.extra.get("lottery_refs", []))

    @property
    def names(self) -> list[str]:
        return [name for _ref, name, _cpr in PEOPLE[self.letter]] + [name for _c, name in LOTTERY_PEOPLE[self.letter]]

    @property
    def cprs(self) -> list[str]:
        return [cpr for _ref, _name, cpr in PEOPLE[self.letter]] + [cpr for cpr, _n in LOTTERY_PEOPLE[self.letter]]

    def personal_data(self) -> list[str]:
        """Every string that identifies a person of this side: names, refs, CPR (plain, dashed, masked)."""
        found: list[str] = [*self.names, *self.refs]
        for cpr in self.cprs:
            number = normalise_cpr(cpr)
            found += [number, f"{number[:6]}-{number[6:]}", mask_cpr(number)]
        return found

    def markers(self) -> list[str]:
        """What only someone taking part in this side's contract may see: code, documents, people, employer."""
        return [self.code, str(self.document.number), str(self.employer.name), *self.personal_data()]


@dataclass
class World:
    users: dict[str, Any]
    sides: dict[str, Side]

    def side(self, letter: str) -> Side:
        return self.sides[letter]


def _side(letter: str, *, investor_org: Any) -> Side:
    operator = OperatorFactory(name=f"Operatør {letter} Sikkerhed")
    municipality = MunicipalityFactory(name=f"Kommune {letter} Sikkerhed")
    contract = make_contract(
        code=f"SIK{letter}",
        first="2020-W01",
        last="2022-W52",
        operator=operator,
        municipality=municipality,
        payee=investor_org,
    )
    funding = ContractInvestorFactory(contract=contract, organisation=investor_org)

    consultant = UserFactory(username=f"consultant_{letter.lower()}")
    MembershipFactory(user=consultant, organisation=operator, role=Role.CONSULTANT)
    municipal_user = UserFactory(username=f"municipal_clerk_{letter.lower()}")
    MembershipFactory(user=municipal_user, organisation=municipality, role=Role.MUNICIPALITY)

    (ref1, name1, cpr1), (ref2, name2, cpr2) = PEOPLE[letter]
    candidate = make_candidate(contract, ref1, name=name1, cpr=cpr1, consultant=consultant)
    colleague = UserFactory(username=f"colleague_{letter.lower()}")
    MembershipFactory(user=colleague, organisation=operator, role=Role.CONSULTANT)
    second = make_candidate(contract, ref2, name=name2, cpr=cpr2, consultant=colleague)
    set_status(candidate, "2020-W01", "full")
    set_status(second, "2020-W01", "partial")
    set_status(candidate, "2020-W02", "full")
    status = candidate.weekly_statuses.get(week=weeks.parse_week("2020-W02"))

    employer = EmployerFactory(operator=operator, name=f"Virksomhed {letter} Sikkerhed ApS")
    job = JobFactory(employer=employer, title=f"Pakker {letter}")
    placement = PlacementFactory(candidate=candidate, job=job, start=date(2020, 1, 6))
    second_placement = PlacementFactory(candidate=second, job=job, start=date(2020, 1, 6))

    (document,) = settle(contract, "2020-01-13T00:00")  # 2020-W01: both candidates
    settle(contract, "2020-01-20T00:00")  # 2020-W02
    line = document.lines.select_related("candidate").get(candidate=candidate)
    payment = payment_record(document=document, amount=Decimal("100.00"), paid_on=date(2020, 2, 1))
    disbursement = disbursement_record(
        contract=contract, investor=funding, amount=Decimal("50000.00"), disbursed_on=date(2020, 1, 2)
    )
    dispute = dispute_open(line=line, reason="Ikke i arbejde den uge", claimed_outcome="none", user=municipal_user)
    outcome = referral_lottery_draw(
        contract=contract,
        people=[EligiblePerson(line=n, cpr=cpr, name=name) for n, (cpr, name) in enumerate(LOTTERY_PEOPLE[letter], 1)],
        referred_count=1,
        referral_date=date(2020, 3, 2),
        seed=f"seed-{letter}",
        user=municipal_user,
    )
    upload = WeeklyStatusUpload.objects.create(
        contract=contract,
        uploaded_by=consultant,
        file_name=f"uge-{letter}.csv",
        file_format="csv",
        uploaded_at=weeks.now_copenhagen(),
    )
    second_upload = WeeklyStatusUpload.objects.create(
        contract=contract,
        uploaded_by=colleague,
        file_name=f"kollega-{letter}.csv",
        file_format="csv",
        uploaded_at=weeks.now_copenhagen(),
    )
    document_email = DocumentEmail.objects.create(
        document=document, recipient=f"faktura-{letter.lower()}@example.dk", sent_at=timezone.now()
    )
    token = Token.objects.create(user=consultant)
    benefit_rate, _created = BenefitRate.objects.get_or_create(
        year=2090 + SIDES.index(letter),
        defaults={"without_children": Decimal("12000.00"), "with_children": Decimal("16000.00")},
    )
    side = Side(
        letter=letter,
        contract=contract,
        operator=operator,
        municipality=municipality,
        investor=investor_org,
        candidate=candidate,
        second_candidate=second,
        status=status,
        employer=employer,
        job=job,
        placement=placement,
        second_placement=second_placement,
        settlement=document.settlement,
        document=document,
        line=line,
        payment=Payment.objects.get(pk=payment.pk),
        disbursement=disbursement,
        dispute=dispute,
        lottery=outcome.lottery,
        upload=upload,
        second_upload=second_upload,
        document_email=document_email,
        consultant=consultant,
        token=token,
        benefit_rate=benefit_rate,
    )
    side.extra["lottery_refs"] = [str(ref) for ref in outcome.lottery.referred_refs]
    side.extra.update(_login_records(letter, consultant, candidate=candidate))
    side.extra["municipal_user"] = municipal_user
    return side


def _login_records(letter: str, user: Any, *, candidate: Any) -> dict[str, Any]:
    """Records of the login machinery (two-factor devices, lockout log, audit events), where installed.

    They belong to people, not contracts: only admins may see them, so both sides just need one each.
    """
    from django.apps import apps

    found: dict[str, Any] = {}
    if apps.is_installed("django_otp.plugins.otp_totp"):
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        found["totp_device"] = TOTPDevice.objects.create(user=user, name=f"phone {letter}", confirmed=True)
        found["static_device"] = StaticDevice.objects.create(user=user, name=f"backup {letter}", confirmed=True)
    if apps.is_installed("axes"):
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        values = {"user_agent": "test", "ip_address": "127.0.0.1", "username": user.username, "path_info": "/login/"}
        found["access_attempt"] = AccessAttempt.objects.create(
            **values, http_accept="*/*", get_data="", post_data="", failures_since_start=1
        )
        found["access_failure"] = AccessFailureLog.objects.create(**values, http_accept="*/*")
        found["access_log"] = AccessLog.objects.create(**values, http_accept="*/*")
    if apps.is_installed("audit"):
        from audit.models import AuditEvent
        from audit.services import audit_record

        found["audit_event"] = audit_record(
            user=user,
            action=AuditEvent.Action.VIEW_PAGE,
            object_type="candidate",
            object_id=candidate.pk,
            candidate=candidate,
            contract=candidate.contract,
        )
    return found


def build_world() -> World:
    users: dict[str, Any] = {"anonymous": AnonymousUser()}
    investor_i = InvestorFactory(name="Investor I Sikkerhed")
    investor_j = InvestorFactory(name="Investor J Sikkerhed")
    sides = {
        "A": _side("A", investor_org=investor_i),
        "B": _side("B", investor_org=investor_j),
    }
    users["consultant_a"] = sides["A"].consultant
    users["consultant_b"] = sides["B"].consultant
    coordinator = UserFactory(username="coordinator_a", is_staff=True)  # coordinators use the admin (demo)
    MembershipFactory(user=coordinator, organisation=sides["A"].operator, role=Role.COORDINATOR)
    users["coordinator_a"] = coordinator
    users["municipality_x"] = sides["A"].extra["municipal_user"]
    users["municipality_y"] = sides["B"].extra["municipal_user"]
    investor = UserFactory(username="investor_i")
    MembershipFactory(user=investor, organisation=investor_i, role=Role.INVESTOR)
    users["investor"] = investor
    users["admin"] = UserFactory(username="admin_sik", is_superuser=True, is_staff=True)
    return World(users=users, sides=sides)
