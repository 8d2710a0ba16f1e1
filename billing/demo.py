"""A realistic demo programme modelled on IMPACT60 (Aalborg, 2018-2021), with one login per role, for `load_demo`."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from billing.models import Document
from billing.services.ledger import disbursement_record, payment_record
from billing.services.settlement import settle_contract, week_closes_at
from candidates.models import Candidate
from candidates.services import candidate_build, weekly_status_import
from common import weeks
from common.validators import gs1_check_digit_ok
from organisations.models import Contract, ContractInvestor, Membership, Organisation, RateCardVersion, Role, User
from placements.models import Employer, Job
from placements.services import employer_build, job_build, placement_build, placements_create_bulk

DEMO_CODE = "IMPACT60"
DEMO_URL = "http://127.0.0.1:8000/"
SEED = 60
CANDIDATES = 120
NOT_ENROLLED = 4  # referred, but declined before enrolment
WITHDRAWN = 12
SUCCESS_RATE = Decimal("0.46")  # what the IMPACT60 evaluation found
UNPAID_NEWEST = 4  # the newest invoices are left open
FIRST_WEEK = "2018-W40"
LAST_WEEK = "2021-W39"
# After settling this week the demo records a few corrections of settled weeks (B10), with reasons, so the
# following documents carry adjustment lines.
CORRECTION_CHECKPOINT = "2020-W20"

FEMALE = [
    "Anne",
    "Kirsten",
    "Mette",
    "Hanne",
    "Helle",
    "Susanne",
    "Lene",
    "Marianne",
    "Camilla",
    "Pia",
    "Louise",
    "Charlotte",
    "Tina",
    "Gitte",
    "Maria",
    "Line",
    "Sofie",
    "Julie",
    "Emma",
    "Ida",
    "Sara",
    "Maja",
    "Nanna",
    "Trine",
    "Birgitte",
    "Dorthe",
    "Malene",
    "Stine",
    "Fatima",
    "Amina",
    "Signe",
    "Rikke",
]
MALE = [
    "Peter",
    "Michael",
    "Lars",
    "Jens",
    "Thomas",
    "Henrik",
    "Søren",
    "Christian",
    "Martin",
    "Jan",
    "Morten",
    "Jesper",
    "Anders",
    "Niels",
    "Mads",
    "Rasmus",
    "Mikkel",
    "Kasper",
    "Jonas",
    "Frederik",
    "Bo",
    "Kim",
    "Brian",
    "Dennis",
    "Allan",
    "René",
    "Ali",
    "Mohammed",
    "Ahmad",
    "Jacob",
    "Steffen",
    "Kenneth",
]
SURNAMES = [
    "Nielsen",
    "Jensen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Christiansen",
    "Poulsen",
    "Johansen",
    "Møller",
    "Mortensen",
    "Knudsen",
    "Jakobsen",
    "Mikkelsen",
    "Frederiksen",
    "Laursen",
    "Holm",
    "Østergaard",
    "Lund",
    "Kjær",
    "Bach",
    "Dahl",
    "Vestergaard",
    "Nørgaard",
    "Iversen",
    "Hussein",
    "Yilmaz",
]
WITHDRAWAL_REASONS = [
    "Flyttet fra kommunen",
    "Langvarig sygdom; overgået til sygedagpenge",
    "Ønsker ikke længere at deltage",
    "Overgået til ressourceforløb",
    "Visiteret til fleksjob uden for projektet",
]

# (name, sector, cvr, own enterprise, [(title, kind, hours)])
EMPLOYERS: list[tuple[str, str, str, bool, list[tuple[str, str, str]]]] = [
    (
        "Café Fokus",
        "restaurant",
        "38112201",
        True,
        [("Køkkenmedhjælper", "small_job", "10"), ("Opvasker", "small_job", "8"), ("Barista", "small_job", "12")],
    ),
    (
        "Fokus Facility Service",
        "cleaning",
        "38112202",
        True,
        [("Rengøringsassistent", "small_job", "12"), ("Vicevært-medhjælper", "small_job", "15")],
    ),
    (
        "Genbrug Fokus",
        "retail",
        "38112203",
        True,
        [("Butiksmedhjælper", "small_job", "8"), ("Sortering af tøj", "small_job", "6")],
    ),
    (
        "Restaurant Limfjorden",
        "restaurant",
        "38223301",
        False,
        [("Opvasker", "small_job", "10"), ("Køkkenassistent", "ordinary", "30")],
    ),
    ("Pizzeria Vestbyen", "restaurant", "38223302", False, [("Pizzabud", "small_job", "9")]),
    (
        "Nordjysk Rengøring ApS",
        "cleaning",
        "38223303",
        False,
        [("Rengøringsassistent", "small_job", "15"), ("Servicemedarbejder", "ordinary", "32")],
    ),
    ("Skansen Erhvervsservice", "cleaning", "38223304", False, [("Kontorrengøring", "small_job", "7")]),
    (
        "Købmand Hjørnet",
        "retail",
        "38223305",
        False,
        [("Varepåfylder", "small_job", "12"), ("Butiksassistent", "ordinary", "30")],
    ),
    ("Blomsterhuset Nørresundby", "retail", "38223306", False, [("Medhjælper", "small_job", "5")]),
    (
        "Aalborg Tømrer og Snedker ApS",
        "construction",
        "38223307",
        False,
        [("Pladsmand", "small_job", "16"), ("Tømrermedhjælper", "ordinary", "37")],
    ),
    (
        "Limfjordens Murerforretning",
        "construction",
        "38223308",
        False,
        [("Murerarbejdsmand", "small_job", "20"), ("Nedrivning og oprydning", "flex_job", "15")],
    ),
]
EDUCATIONS = [
    "Social- og sundhedshjælper (SOSU)",
    "Pædagogisk assistent (PAU)",
    "Ernæringsassistent",
    "Lager og logistik (EUD)",
    "Almen voksenuddannelse (AVU)",
    "Forberedende grunduddannelse (FGU)",
]
LOGINS = [
    # (username, role in the programme, first name, last name)
    ("admin", "admin", "Ada", "Admin"),
    ("konsulent", Role.CONSULTANT, "Karin", "Konsulent"),
    ("konsulent2", Role.CONSULTANT, "Kurt", "Konsulent"),
    ("koordinator", Role.COORDINATOR, "Kamilla", "Koordinator"),
    ("kommune", Role.MUNICIPALITY, "Lise", "Holm"),
    ("investor", Role.INVESTOR, "Ivan", "Investor"),
]


@dataclass
class Login:
    username: str
    role: str
    password: str | None  # None: the user existed already and keeps their password


@dataclass
class DemoResult:
    contract: Contract
    created: bool
    logins: list[Login] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)


def _with_check_digit(body: str) -> str:
    return next(body + str(d) for d in range(10) if gs1_check_digit_ok(body + str(d)))


def _organisation(*, cvr: str, **values: Any) -> Organisation:
    organisation = Organisation.objects.filter(cvr=cvr).first()
    if organisation is None:
        organisation = Organisation(cvr=cvr, **values)
        organisation.full_clean()
        organisation.save()
    return organisation


def _cpr(rng: random.Random, female: bool, used: set[str]) -> str:
    """A valid CPR number of someone born 1960-1996 (7th digit 0-3: 1900s; odd last digit: male)."""
    while True:
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 37))
        last = rng.choice([0, 2, 4, 6, 8] if female else [1, 3, 5, 7, 9])
        number = f"{born:%d%m%y}{rng.randrange(4)}{rng.randrange(100):02d}{last}"
        if number not in used:
            used.add(number)
            return number


@dataclass
class _Plan:
    """What happens to one candidate: their placements and outcome week by week."""

    candidate: Candidate
    last_week: date
    placements: list[tuple[Job | None, str, date, date | None]] = field(default_factory=list)
    outcomes: dict[date, tuple[str, Decimal | None]] = field(default_factory=dict)

    def _end(self, end_week: date) -> date | None:
        # Still running when the programme ends: the placement has no end date.
        return None if end_week >= self.last_week else end_week + timedelta(days=4)

    def work(self, job: Job, start_week: date, end_week: date, outcome: str, hours: Decimal | None) -> None:
        self.placements.append((job, "", start_week, self._end(end_week)))
        for week in weeks.iter_weeks(start_week, end_week):
            self.outcomes[week] = (outcome, hours)

    def study(self, education: str, start_week: date, end_week: date) -> None:
        self.placements.append((None, education, start_week, self._end(end_week)))
        for week in weeks.iter_weeks(start_week, end_week):
            self.outcomes[week] = ("education", None)


class _Demo:
    def __init__(self, *, now: datetime, seed: int, password: Callable[[], str]) -> None:
        self.now = now
        self.rng = random.Random(seed)  # nosec B311  # reproducible demo data; the passwords come from `password`
        self.password = password
        self.first_week = weeks.parse_week(FIRST_WEEK)
        self.last_week = weeks.parse_week(LAST_WEEK)
        self.current = weeks.current_week(now)
        self.end = min(self.last_week, self.current)

    # --- parties, contract, people ------------------------------------------------------------------

    def parties(self) -> None:
        self.municipality = _organisation(
            cvr="29189420",
            name="Aalborg Kommune, Jobcenter Aalborg",
            kind=Organisation.Kind.MUNICIPALITY,
            ean=_with_check_digit("579800012345"),
            street_name="Boulevarden",
            building_number="13",
            postal_code="9000",
            city="Aalborg",
            contact_email="jobcenter@example.dk",
        )
        self.operator = _organisation(
            cvr="38112200",
            name="Fokus Folkeoplysning",
            kind=Organisation.Kind.OPERATOR,
            street_name="Danmarksgade",
            building_number="52",
            postal_code="9000",
            city="Aalborg",
            contact_email="kontakt@fokus.example.dk",
        )
        self.investor = _organisation(
            cvr="36440872",
            name="Den Sociale Kapitalfond",
            kind=Organisation.Kind.INVESTOR,
            street_name="Rued Langgaards Vej",
            building_number="8",
            postal_code="2300",
            city="København S",
            contact_email="fond@example.dk",
            bank_account="5301 0000123456",
        )
        self.funder = _organisation(
            cvr="27781458",
            name="Nordjysk Familiefond",
            kind=Organisation.Kind.FUNDER,
            postal_code="9000",
            city="Aalborg",
            contact_email="fond@familiefond.example.dk",
        )

    def contract(self) -> Contract:
        contract = Contract(
            code=DEMO_CODE,
            name="Job i fokus",
            municipality=self.municipality,
            operator=self.operator,
            payee=self.investor,
            first_week=self.first_week,
            last_week=self.last_week,
            candidate_window_weeks=156,
            grace_days=7,
            vat_rate=Decimal("0"),
            payment_terms_days=30,
            success_target=Decimal("0.50"),
            baseline_rate=Decimal("0.25"),
            success_min_weeks=4,
            municipality_reference="Lise Holm",
            order_reference="JIF-2018-001",
        )
        contract.full_clean()
        contract.save()
        RateCardVersion.objects.bulk_create(
            [
                # Indexed from 2020 by the municipality's wage and price regulation.
                RateCardVersion(
                    contract=contract,
                    effective_from=self.first_week,
                    price_full=Decimal("1500.00"),
                    price_partial=Decimal("750.00"),
                    price_education=Decimal("1500.00"),
                ),
                RateCardVersion(
                    contract=contract,
                    effective_from=weeks.parse_week("2020-W01"),
                    price_full=Decimal("1540.00"),
                    price_partial=Decimal("770.00"),
                    price_education=Decimal("1540.00"),
                ),
            ]
        )
        self.investors = ContractInvestor.objects.bulk_create(
            [
                ContractInvestor(
                    contract=contract, organisation=self.investor, kind="investor", committed=Decimal("4000000.00")
                ),
                ContractInvestor(
                    contract=contract, organisation=self.funder, kind="funder", committed=Decimal("3600000.00")
                ),
            ]
        )
        return contract

    def users(self) -> list[Login]:
        organisations: dict[str, Organisation] = {
            Role.CONSULTANT: self.operator,
            Role.COORDINATOR: self.operator,
            Role.MUNICIPALITY: self.municipality,
            Role.INVESTOR: self.investor,
        }
        logins: list[Login] = []
        self.people: dict[str, User] = {}
        existing = {u.username: u for u in User.objects.filter(username__in=[login[0] for login in LOGINS])}
        passwords = {username: self.password() for username, *_ in LOGINS if username not in existing}
        # Argon2 (like PBKDF2) releases the GIL: hashing the new passwords side by side saves seconds.
        with ThreadPoolExecutor(max_workers=len(passwords) or 1) as pool:
            hashes = dict(zip(passwords, pool.map(make_password, passwords.values()), strict=True))
        for username, role, first, last in LOGINS:
            user = existing.get(username)
            password = passwords.get(username)
            if user is None:
                user = User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@example.dk",
                    is_superuser=role == "admin",
                    is_staff=role in ("admin", Role.COORDINATOR),
                    password=hashes[username],
                )
                user.full_clean()
                user.save()
            if role != "admin" and not Membership.objects.filter(user=user, organisation=organisations[role]).exists():
                membership = Membership(user=user, organisation=organisations[role], role=role)
                membership.full_clean()
                membership.save()
            self.people[username] = user
            logins.append(Login(username=username, role=str(role), password=password))
        return logins

    def employers(self) -> list[Job]:
        existing = {e.cvr: e for e in Employer.objects.filter(operator=self.operator)}
        employers, jobs = [], []
        for name, sector, cvr, own, positions in EMPLOYERS:
            employer = existing.get(cvr) or employer_build(
                operator=self.operator, name=name, cvr=cvr, sector=sector, own_enterprise=own
            )
            employers.append(employer)
            for title, kind, hours in positions:
                jobs.append(
                    job_build(
                        employer=employer,
                        title=title,
                        kind=kind,
                        hours_per_week=Decimal(hours),
                        hourly_wage=Decimal("128.00") if kind == "small_job" else Decimal("142.50"),
                    )
                )
        Employer.objects.bulk_create([e for e in employers if e.pk is None])
        Job.objects.bulk_create(jobs)
        self.employer_count = len(employers)
        return jobs

    def candidates(self, contract: Contract) -> list[Candidate]:
        rng, used = self.rng, set[str]()
        candidates: list[Candidate] = []
        referral_start, referral_days = date(2018, 10, 1), (date(2020, 3, 31) - date(2018, 10, 1)).days
        referred = sorted(referral_start + timedelta(days=rng.randrange(referral_days)) for _ in range(CANDIDATES))
        never = set(rng.sample(range(CANDIDATES), NOT_ENROLLED))
        for index, referred_on in enumerate(referred):
            female = rng.random() < 0.45
            name = f"{rng.choice(FEMALE if female else MALE)} {rng.choice(SURNAMES)}"
            enrolled_on = None if index in never else referred_on + timedelta(days=rng.randrange(3, 21))
            candidate = candidate_build(
                contract=contract,
                ref=f"C{index + 1:03d}",
                name=name,
                cpr=_cpr(rng, female, used),
                referred_on=referred_on,
                enrolled_on=enrolled_on,
                consent_on=referred_on,
            )
            candidate.consultant = self.people["konsulent" if index % 2 == 0 else "konsulent2"]
            candidates.append(candidate)
        return candidates

    # --- what happens to each candidate -----------------------------------------------------------------

    def plans(self, candidates: list[Candidate], jobs: list[Job]) -> list[_Plan]:
        rng = self.rng
        small = [j for j in jobs if j.kind in ("small_job", "flex_job")]
        ordinary = [j for j in jobs if j.kind == "ordinary"]
        enrolled = [c for c in candidates if c.enrolled_on]
        succeeding = set(rng.sample(range(len(enrolled)), int((SUCCESS_RATE * len(enrolled)).to_integral_value())))
        quitters = [i for i in range(len(enrolled)) if i not in succeeding]
        withdrawn = set(rng.sample(quitters, WITHDRAWN - 2)) | set(rng.sample(sorted(succeeding), 2))
        near_misses = set(rng.sample([i for i in quitters if i not in withdrawn], 8))
        plans: list[_Plan] = []
        for index, candidate in enumerate(enrolled):
            assert candidate.enrolled_on is not None
            plan = _Plan(candidate, self.last_week)
            start = weeks.week_of(candidate.enrolled_on)
            end = self.end
            if index in withdrawn:
                # Withdrawn after some months; one who succeeded leaves after the first job has run a while.
                stayed = rng.randint(40, 70) if index in succeeding else rng.randint(6, 40)
                withdrawn_on = min(candidate.enrolled_on + timedelta(weeks=stayed), self.last_week)
                candidate.withdrawn_on = withdrawn_on
                candidate.withdrawal_reason = rng.choice(WITHDRAWAL_REASONS)
                end = min(end, weeks.week_of(withdrawn_on))
            for week in weeks.iter_weeks(start, end):
                plan.outcomes[week] = ("none", None)
            if index in succeeding:
                self._success(plan, start, end, small, ordinary)
            elif index in near_misses:
                # A trial small job that ended after one to three weeks: paid, but not a success (B13).
                trial = min(weeks.add_weeks(start, rng.randint(6, 40)), weeks.add_weeks(end, -4))
                job = rng.choice(small)
                plan.work(job, trial, weeks.add_weeks(trial, rng.randint(0, 2)), "partial", job.hours_per_week)
            plans.append(plan)
        return plans

    def _success(self, plan: _Plan, start: date, end: date, small: list[Job], ordinary: list[Job]) -> None:
        rng = self.rng
        latest = weeks.add_weeks(end, -12)
        first = min(weeks.add_weeks(start, rng.randint(6, 45)), latest)
        path = rng.random()
        job = rng.choice(small)
        if path < 0.15:
            plan.study(rng.choice(EDUCATIONS), first, end)
        elif path < 0.40:
            # A small job that grows into an ordinary job without benefits.
            switch = min(weeks.add_weeks(first, rng.randint(10, 40)), weeks.add_weeks(end, -2))
            plan.work(job, first, weeks.add_weeks(switch, -1), "partial", job.hours_per_week)
            better = rng.choice(ordinary)
            plan.work(better, switch, end, "full", better.hours_per_week)
        elif path < 0.55:
            # The first small job ends; after a few weeks without work a new one starts.
            stop = min(weeks.add_weeks(first, rng.randint(8, 30)), weeks.add_weeks(end, -8))
            plan.work(job, first, stop, "partial", job.hours_per_week)
            again = weeks.add_weeks(stop, rng.randint(3, 6))
            other = rng.choice(small)
            plan.work(other, again, end, "partial", other.hours_per_week)
        else:
            # A small job of 5-20 hours, kept with partial self-support; some drop out for a stretch.
            plan.work(job, first, end, "partial", job.hours_per_week)
            if rng.random() < 0.3:
                gap = weeks.add_weeks(first, rng.randint(5, 20))
                for week in weeks.iter_weeks(gap, min(weeks.add_weeks(gap, 2), end)):
                    plan.outcomes[week] = ("none", None)

    # --- writing ---------------------------------------------------------------------------------------

    def status_rows(self, plans: list[_Plan]) -> dict[str, list[dict[str, Any]]]:
        """Rows per consultant, so each recorded status names who recorded it."""
        rows: dict[str, list[dict[str, Any]]] = {}
        for plan in plans:
            consultant = plan.candidate.consultant
            assert consultant is not None
            for week, (outcome, hours) in sorted(plan.outcomes.items()):
                rows.setdefault(consultant.username, []).append(
                    {
                        "path": f"{plan.candidate.ref}/{weeks.format_week(week)}",
                        "candidate": plan.candidate.ref,
                        "week": weeks.format_week(week),
                        "outcome": outcome,
                        "hours": "" if hours is None else hours,
                    }
                )
        return rows

    def corrections(self, plans: list[_Plan]) -> list[dict[str, Any]]:
        """Corrections of settled weeks, each with its reason: two paid weeks that were not, two the other way."""
        checkpoint = weeks.parse_week(CORRECTION_CHECKPOINT)
        window = list(weeks.iter_weeks(weeks.add_weeks(checkpoint, -30), weeks.add_weeks(checkpoint, -2)))
        paid, unpaid = [], []
        for plan in plans:
            outcomes = [(w, plan.outcomes[w][0]) for w in window if w in plan.outcomes]
            has_paid = any(outcome != "none" for outcome, _ in plan.outcomes.values())
            paid += [(plan, w) for w, o in outcomes if o in ("partial", "full")][:1]
            if not has_paid:
                unpaid += [(plan, w) for w, o in outcomes][:1]
        rows = []
        for plan, week in self.rng.sample(paid, 2):
            rows.append(
                {
                    "path": "correction",
                    "candidate": plan.candidate.ref,
                    "week": weeks.format_week(week),
                    "outcome": "none",
                    "note": "Lønsedlen viste, at der ikke blev arbejdet i ugen (sygdom)",
                }
            )
        for plan, week in self.rng.sample(unpaid, 2):
            rows.append(
                {
                    "path": "correction",
                    "candidate": plan.candidate.ref,
                    "week": weeks.format_week(week),
                    "outcome": "partial",
                    "hours": "6",
                    "note": "Sen lønseddel fra arbejdsgiveren: prøvevagt i ugen",
                }
            )
        return rows

    def settle_through(self, contract: Contract, last: date) -> None:
        """Settle week by week as the nightly run would have, so each document carries its own issue date."""
        week = contract.first_week if contract.settled_through is None else weeks.add_weeks(contract.settled_through, 1)
        while week <= last:
            closes = week_closes_at(contract=contract, week=week)
            if closes > self.now:
                break
            settle_contract(contract=contract, as_of=closes + timedelta(hours=2, minutes=30))
            week = weeks.add_weeks(week, 1)

    def disbursements(self, contract: Contract) -> int:
        investor, funder = self.investors
        count = 0
        quarter = date(2018, 10, 1)
        for number in range(12):
            if quarter > self.now.date():
                break
            label = f"Q{(quarter.month - 1) // 3 + 1} {quarter.year}"
            disbursement_record(
                contract=contract,
                investor=investor,
                amount=Decimal("250000.00"),
                disbursed_on=quarter,
                note=f"Driftskapital {label}",
            )
            count += 1
            if number < 6:
                disbursement_record(
                    contract=contract,
                    investor=funder,
                    amount=Decimal("600000.00"),
                    disbursed_on=quarter,
                    note=f"Etableringstilskud {label}",
                )
                count += 1
            quarter = date(quarter.year + (quarter.month + 3 > 12), (quarter.month + 2) % 12 + 1, 1)
        return count

    def payments(self, contract: Contract) -> int:
        invoices = list(
            Document.objects.filter(contract=contract, kind=Document.Kind.INVOICE, total__gt=0).order_by("seq")
        )
        user = self.people["kommune"]
        count = 0
        for document in invoices[: max(len(invoices) - UNPAID_NEWEST, 0)]:
            paid_on = min(document.issue_date + timedelta(days=self.rng.randint(8, 28)), document.due_date)
            if paid_on > self.now.date():
                continue
            payment_record(
                document=document, amount=document.total, paid_on=paid_on, note="Betalt via NemHandel", user=user
            )
            count += 1
        return count


@transaction.atomic
def demo_load(
    *, now: datetime | None = None, seed: int = SEED, password: Callable[[], str] = lambda: secrets.token_urlsafe(12)
) -> DemoResult:
    """Create the IMPACT60 demo; if it exists already, change nothing and say so (`created` False)."""
    existing = Contract.objects.filter(code=DEMO_CODE).first()
    if existing is not None:
        return DemoResult(contract=existing, created=False)
    now = now or timezone.now()
    demo = _Demo(now=now, seed=seed, password=password)
    demo.parties()
    contract = demo.contract()
    logins = demo.users()
    jobs = demo.employers()
    candidates = demo.candidates(contract)
    plans = demo.plans(candidates, jobs)
    bulk_create_with_history(
        candidates, Candidate, batch_size=500, default_user=demo.people["koordinator"], default_date=now
    )
    placements = [
        placement_build(candidate=plan.candidate, job=job, education=education, start=start, end=end)
        for plan in plans
        for job, education, start, end in plan.placements
    ]
    placements_create_bulk(placements=placements, user=demo.people["koordinator"])
    statuses = 0
    for username, rows in demo.status_rows(plans).items():
        result = weekly_status_import(contract=contract, rows=rows, user=demo.people[username], now=now)
        if result.errors:
            raise RuntimeError("demo statuses break the import rules: " + "; ".join(map(str, result.errors[:5])))
        statuses += result.created
    checkpoint = weeks.parse_week(CORRECTION_CHECKPOINT)
    demo.settle_through(contract, checkpoint)
    corrected = 0
    if contract.is_week_settled(checkpoint):
        result = weekly_status_import(
            contract=contract, rows=demo.corrections(plans), user=demo.people["koordinator"], now=now
        )
        if result.errors:
            raise RuntimeError("demo corrections break the import rules: " + "; ".join(map(str, result.errors)))
        corrected = result.updated
    demo.settle_through(contract, contract.last_week)
    settle_contract(contract=contract, as_of=now)
    disbursements = demo.disbursements(contract)
    payments = demo.payments(contract)
    documents = Document.objects.filter(contract=contract)
    counts = {
        "candidates": len(candidates),
        "enrolled": sum(1 for c in candidates if c.enrolled_on),
        "withdrawn": sum(1 for c in candidates if c.withdrawn_on),
        "employers": demo.employer_count,
        "own enterprises": sum(1 for e in EMPLOYERS if e[3]),
        "jobs": len(jobs),
        "placements": len(placements),
        "weekly statuses": statuses,
        "corrections of settled weeks": corrected,
        "invoices": documents.filter(kind=Document.Kind.INVOICE).count(),
        "credit notes": documents.filter(kind=Document.Kind.CREDIT_NOTE).count(),
        "payments": payments,
        "disbursements": disbursements,
    }
    return DemoResult(contract=contract, created=True, logins=logins, counts=counts)
