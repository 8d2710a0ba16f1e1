"""load_demo: the documented IMPACT60-sized demo (sizes, roles, employers, success rate, money) and idempotence."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min, Sum

from billing.demo import CANDIDATES, DEMO_CODE, UNPAID_NEWEST, _Demo
from billing.models import CapitalDisbursement, Document, DocumentLine, JournalEntry, Payment
from billing.outcomes import success_summary
from billing.selectors import ledger_balances_for_contract as account_balances
from candidates.cpr import parse_cpr
from candidates.models import Candidate, WeeklyStatus
from common import weeks
from common.validators import gs1_check_digit_ok
from organisations.models import Contract, Membership, User
from placements.models import Employer, Job, Placement


def _candidates(seed: int) -> list[tuple[object, ...]]:
    demo = _Demo(now=datetime(2026, 1, 1, tzinfo=weeks.COPENHAGEN), seed=seed, password=lambda: "x")
    demo.people = {name: User(username=name) for name in ("konsulent", "konsulent2")}
    return [(c.ref, c.name, c.cpr, c.referred_on, c.enrolled_on) for c in demo.candidates(Contract(code="X"))]


def test_the_generator_is_deterministic_and_makes_valid_cpr_numbers() -> None:
    first = _candidates(60)
    assert first == _candidates(60) and first != _candidates(61)
    assert len(first) == CANDIDATES and len({row[2] for row in first}) == CANDIDATES
    for _, name, cpr, referred_on, _ in first:
        _, born = parse_cpr(str(cpr))
        assert 1960 <= born.year <= 1996 and born < referred_on  # type: ignore[operator]
        assert re.fullmatch(r"\w+ \w+", str(name))


@pytest.mark.slow
@pytest.mark.django_db
def test_load_demo_builds_the_documented_programme(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load_demo")
    out = capsys.readouterr().out
    contract = Contract.objects.select_related("municipality", "operator", "payee").get(code=DEMO_CODE)

    # Parties and contract.
    assert contract.name == "Job i fokus" and "Aalborg Kommune" in contract.municipality.name
    assert gs1_check_digit_ok(contract.municipality.ean) and contract.operator.name == "Fokus Folkeoplysning"
    assert contract.payee.name == "Den Sociale Kapitalfond"
    assert {(i.organisation.name, i.kind) for i in contract.investors.select_related("organisation")} == {
        ("Den Sociale Kapitalfond", "investor"),
        ("Nordjysk Familiefond", "funder"),
    }
    assert (contract.first_week_label, contract.last_week_label) == ("2018-W40", "2021-W39")
    assert contract.rate_cards.count() == 2

    # One login per role, printed once with the URL; the printed passwords work.
    assert "http://127.0.0.1:8000/" in out
    printed = dict(re.findall(r"^\| \w+ +\| (\w+) +\| (\S+) +\|$", out, flags=re.MULTILINE))
    assert set(printed) == {"username", "admin", "konsulent", "konsulent2", "koordinator", "kommune", "investor"}
    for username, password in printed.items():
        if username != "username":
            assert User.objects.get(username=username).check_password(password), username
    assert "set up two-factor at their first login" in out
    roles = {(m.user.username, m.role, m.organisation_id) for m in Membership.objects.select_related("user")}
    assert roles == {
        ("konsulent", "consultant", contract.operator_id),
        ("konsulent2", "consultant", contract.operator_id),
        ("koordinator", "coordinator", contract.operator_id),
        ("kommune", "municipality", contract.municipality_id),
        ("investor", "investor", contract.payee_id),
    }
    assert User.objects.get(username="admin").is_superuser and User.objects.get(username="koordinator").is_staff
    assert Candidate.objects.filter(consultant__username="konsulent").count() == CANDIDATES // 2

    # Candidates: 120, personal data encrypted, some never enrolled, some withdrawn with a reason.
    candidates = Candidate.objects.filter(contract=contract)
    assert candidates.count() == CANDIDATES
    assert candidates.values("cpr_hash").distinct().count() == CANDIDATES
    enrolled = candidates.filter(enrolled_on__isnull=False).count()
    assert 110 <= enrolled < CANDIDATES
    withdrawn = candidates.filter(withdrawn_on__isnull=False)
    assert withdrawn.count() >= 10 and not withdrawn.filter(withdrawal_reason="").exists()

    # Employers: the operator's own café, facility service and second-hand shop, and outside firms.
    own = Employer.objects.filter(operator=contract.operator, own_enterprise=True)
    assert set(own.values_list("sector", flat=True)) == {"restaurant", "cleaning", "retail"}
    outside = Employer.objects.filter(operator=contract.operator, own_enterprise=False)
    assert set(outside.values_list("sector", flat=True)) == {"restaurant", "cleaning", "retail", "construction"}
    small = Job.objects.filter(employer__operator=contract.operator, kind="small_job")
    assert small.count() >= 10 and all(5 <= j.hours_per_week <= 20 for j in small)
    placements = Placement.objects.filter(candidate__contract=contract)
    assert placements.filter(job__isnull=False).count() > 40 and placements.filter(job__isnull=True).count() > 3

    # Three years of weekly statuses, with every outcome.
    statuses = WeeklyStatus.objects.filter(candidate__contract=contract)
    span = statuses.aggregate(first=Min("week"), last=Max("week"))
    assert weeks.format_week(span["first"]) <= "2018-W45" and span["last"] == contract.last_week
    assert statuses.values("week").distinct().count() >= 150  # of the 157 in 2018-W40..2021-W39
    by_outcome = dict(statuses.values_list("outcome").annotate(n=Count("id")))
    assert set(by_outcome) == {"none", "partial", "full", "education"} and statuses.count() > 10000

    # B13: about the 46 % the evaluation found.
    summary = success_summary(contract=contract)
    assert summary.enrolled == enrolled and Decimal("0.43") <= summary.rate <= Decimal("0.49")  # type: ignore[operator]
    assert f"{summary.succeeded} of {enrolled} enrolled" in out

    # Quarterly capital disbursements, each posted to the ledger.
    disbursements = CapitalDisbursement.objects.filter(contract=contract)
    assert disbursements.count() == 18
    assert {(d.disbursed_on.month, d.disbursed_on.day) for d in disbursements} == {(1, 1), (4, 1), (7, 1), (10, 1)}
    assert JournalEntry.objects.filter(disbursement__in=disbursements).count() == 18

    # Settled to the end (so locked), invoices issued week by week, corrections as adjustment lines,
    # and all but the newest few invoices paid.
    assert contract.settled_through == contract.last_week and contract.is_locked
    documents = Document.objects.filter(contract=contract).order_by("seq")
    assert documents.count() > 100 and documents.first().number == f"{DEMO_CODE}-00001"
    assert documents.values("issue_date").distinct().count() == documents.count()
    assert DocumentLine.objects.filter(document__contract=contract, adjustment=True).count() >= 4
    invoices = list(documents.filter(kind="invoice", total__gt=0))
    paid = {p.document_id: p.amount for p in Payment.objects.filter(document__contract=contract)}
    assert all(paid.get(d.pk) == d.total for d in invoices[:-UNPAID_NEWEST])
    assert not any(d.pk in paid for d in invoices[-UNPAID_NEWEST:])
    outstanding = sum((d.total for d in invoices[-UNPAID_NEWEST:]), Decimal("0.00"))
    assert account_balances(contract=contract)["municipality_receivable"] == outstanding
    billed = DocumentLine.objects.filter(document__contract=contract).aggregate(s=Sum("amount"))["s"]
    assert account_balances(contract=contract)["outcome_revenue"] == -billed

    # Idempotent: a second run says so and changes nothing.
    before = (Candidate.objects.count(), WeeklyStatus.objects.count(), Document.objects.count(), User.objects.count())
    call_command("load_demo")
    assert "exists already; nothing was changed" in capsys.readouterr().out
    assert (
        Candidate.objects.count(),
        WeeklyStatus.objects.count(),
        Document.objects.count(),
        User.objects.count(),
    ) == before
