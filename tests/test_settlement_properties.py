"""Property tests: random status histories, corrections and settlement instants against a plain-Python
reference of B1-B5. After every settlement billed == due for every settled pair, issued documents never
change, numbers are gapless, every ledger entry balances, and running it again changes nothing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import Document, DocumentLine, JournalEntry, Posting
from billing.services.settlement import settle_contract
from candidates.models import WeeklyStatus
from common import weeks
from organisations.models import RateCardVersion
from tests.billing_helpers import at
from tests.factories import CandidateFactory, ContractFactory, RateCardVersionFactory

pytestmark = pytest.mark.django_db

FIRST = weeks.parse_week("2020-W50")  # the period crosses 2020-W53 into 2021
PERIOD_WEEKS = 10
WEEKS = [FIRST + timedelta(weeks=n) for n in range(-1, PERIOD_WEEKS + 1)]
REFS = ["C1", "C10", "C2", "b1", "Ø1"]
OUTCOMES = ["none", "partial", "full", "education"]
money = st.integers(min_value=0, max_value=200_000).map(lambda ore: Decimal(ore) / 100)


@dataclass
class Spec:
    window: int
    max_paid: int | None
    cap: Decimal | None
    vat: Decimal
    rates: list[tuple[int, Decimal, Decimal, Decimal]]
    candidates: list[tuple[int | None, int | None]]  # enrolment / withdrawal offsets in days from FIRST


specs = st.builds(
    Spec,
    window=st.integers(min_value=1, max_value=8),
    max_paid=st.none() | st.integers(min_value=1, max_value=4),
    cap=st.none() | st.integers(min_value=0, max_value=1_000_000).map(lambda ore: Decimal(ore) / 100),
    vat=st.sampled_from([Decimal("0"), Decimal("0.25")]),
    rates=st.lists(
        st.tuples(st.integers(min_value=-1, max_value=8), money, money, money),
        min_size=1,
        max_size=3,
        unique_by=lambda r: r[0],
    ),
    candidates=st.lists(
        st.tuples(
            st.none() | st.integers(min_value=-14, max_value=60), st.none() | st.integers(min_value=0, max_value=70)
        ),
        min_size=1,
        max_size=len(REFS),
    ),
)
# A step records/corrects one status, changes a candidate's enrolment or withdrawal date, adds or
# reprices a rate card version, or runs settlement at a moment (days after FIRST).
steps = st.lists(
    st.one_of(
        st.tuples(st.just("status"), st.integers(0, len(REFS) - 1), st.sampled_from(WEEKS), st.sampled_from(OUTCOMES)),
        st.tuples(st.just("settle"), st.integers(min_value=0, max_value=7 * (PERIOD_WEEKS + 4))),
        st.tuples(
            st.sampled_from(["enrol", "withdraw"]),
            st.integers(0, len(REFS) - 1),
            st.none() | st.integers(min_value=-14, max_value=70),
        ),
        st.tuples(st.just("rate"), st.integers(min_value=-1, max_value=8), money),
    ),
    min_size=1,
    max_size=30,
)


def reference_dues(spec: Spec, candidates: list, statuses: dict, through: date, last: date) -> dict:
    """A direct reading of B1-B5, written independently of the SQL engine."""
    rates = sorted((FIRST + timedelta(weeks=offset), full, partial, edu) for offset, full, partial, edu in spec.rates)
    priced = {}
    for (ref, week), outcome in statuses.items():
        if week > through:
            continue
        enrolled, withdrawn = candidates[ref]
        applicable = [r for r in rates if r[0] <= week]
        billable = (
            enrolled is not None
            and FIRST <= week <= last
            and weeks.week_of(enrolled) <= week < weeks.week_of(enrolled) + timedelta(weeks=spec.window)
            and (withdrawn is None or week <= weeks.week_of(withdrawn))
            and outcome in ("partial", "full", "education")
            and bool(applicable)
        )
        price = Decimal(0)
        if billable:
            _, full, partial, edu = applicable[-1]
            price = {"full": full, "partial": partial, "education": edu}[outcome]
        priced[(ref, week)] = (billable, price)
    paid = {}
    for ref in {ref for ref, _ in priced}:
        count = 0
        for week in sorted(w for r, w in priced if r == ref):
            billable, price = priced[(ref, week)]
            if billable:
                count += 1
            paid[(ref, week)] = price if billable and (spec.max_paid is None or count <= spec.max_paid) else Decimal(0)
    due, running = {}, Decimal(0)
    for ref, week in sorted(paid, key=lambda key: (key[1], key[0])):
        amount = paid[(ref, week)]
        if spec.cap is not None:
            amount = max(Decimal(0), min(amount, spec.cap - running))
        running += amount
        due[(ref, week)] = amount
    return due


def snapshot(contract) -> dict:
    return {
        d.number: (
            d.kind,
            d.week,
            d.subtotal,
            d.vat,
            d.total,
            tuple(d.lines.order_by("pk").values_list("candidate__ref", "week", "amount")),
        )
        for d in Document.objects.filter(contract=contract)
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(spec=specs, plan=steps)
def test_settlement_matches_the_reference_and_keeps_its_invariants(spec: Spec, plan: list) -> None:
    with transaction.atomic():
        last = FIRST + timedelta(weeks=PERIOD_WEEKS - 1)
        contract = ContractFactory(
            first_week=FIRST,
            last_week=last,
            candidate_window_weeks=spec.window,
            max_paid_weeks_per_candidate=spec.max_paid,
            cap_amount=spec.cap,
            vat_rate=spec.vat,
        )
        for offset, full, partial, edu in spec.rates:
            RateCardVersionFactory(
                contract=contract,
                effective_from=FIRST + timedelta(weeks=offset),
                price_full=full,
                price_partial=partial,
                price_education=edu,
            )
        people, attributes = [], {}
        for index, (enrol, withdraw) in enumerate(spec.candidates):
            enrolled = FIRST + timedelta(days=enrol) if enrol is not None else None
            withdrawn = (enrolled or FIRST) + timedelta(days=withdraw) if withdraw is not None else None
            referred = min(d for d in (enrolled, withdrawn, FIRST - timedelta(days=14)) if d is not None)
            people.append(
                CandidateFactory(
                    contract=contract,
                    ref=REFS[index],
                    referred_on=referred,
                    enrolled_on=enrolled,
                    withdrawn_on=withdrawn,
                )
            )
            attributes[REFS[index]] = (enrolled, withdrawn)
        statuses: dict = {}
        issued: dict = {}
        for step in plan:
            if step[0] in ("enrol", "withdraw", "rate") and contract.is_locked:
                continue
            if step[0] in ("enrol", "withdraw"):
                _, index, offset = step
                if index >= len(people):
                    continue
                person = people[index]
                day = FIRST + timedelta(days=offset) if offset is not None else None
                if step[0] == "enrol":
                    person.enrolled_on = day
                else:
                    person.withdrawn_on = day
                if day is not None and day < person.referred_on:
                    person.referred_on = day
                person.save(update_fields=["enrolled_on", "withdrawn_on", "referred_on"])
                attributes[person.ref] = (person.enrolled_on, person.withdrawn_on)
                continue
            if step[0] == "rate":
                _, offset, price = step
                half = (price / 2).quantize(Decimal("0.01"))
                RateCardVersion.objects.update_or_create(
                    contract=contract,
                    effective_from=FIRST + timedelta(weeks=offset),
                    defaults={"price_full": price, "price_partial": half, "price_education": price},
                )
                spec.rates = [r for r in spec.rates if r[0] != offset] + [(offset, price, half, price)]
                continue
            if step[0] == "status":
                _, index, week, outcome = step
                if index >= len(people) or contract.is_locked:
                    continue  # B10: after the last week is settled, statuses are locked
                WeeklyStatus.objects.update_or_create(
                    candidate=people[index],
                    week=week,
                    defaults={"outcome": outcome, "recorded_at": at("2020-12-01T00:00")},
                )
                statuses[(people[index].ref, week)] = outcome
                continue
            moment = at(FIRST.isoformat() + "T00:00") + timedelta(days=step[1])
            settled = settle_contract(contract=contract, as_of=moment)
            contract.refresh_from_db()
            through = contract.settled_through
            if not settled:
                continue  # nothing closed since the last run: corrections wait for the next settlement
            # billed == due for every pair up to the settled week
            due = reference_dues(spec, attributes, statuses, through, last)
            billed = defaultdict(Decimal)
            for ref, week, amount in DocumentLine.objects.filter(document__contract=contract).values_list(
                "candidate__ref", "week", "amount"
            ):
                billed[(ref, week)] += amount
            for key in set(due) | set(billed):
                assert billed.get(key, Decimal(0)) == due.get(key, Decimal(0)), key
            # issued documents never change
            current = snapshot(contract)
            for number, content in issued.items():
                assert current[number] == content
            issued = current
            # gapless numbering, totals, VAT, kinds
            documents = list(Document.objects.filter(contract=contract).order_by("seq"))
            assert [d.seq for d in documents] == list(range(1, len(documents) + 1))
            for d in documents:
                lines_total = d.lines.aggregate(total=Sum("amount"))["total"]
                assert d.subtotal == lines_total
                assert d.vat == (d.subtotal * spec.vat).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                assert d.kind == ("invoice" if d.subtotal >= 0 else "credit_note")
            # every ledger entry balances
            for entry in JournalEntry.objects.filter(contract=contract):
                sums = Posting.objects.filter(entry=entry).aggregate(d=Sum("debit"), c=Sum("credit"))
                assert sums["d"] == sums["c"]
            # running it again changes nothing
            assert settle_contract(contract=contract, as_of=moment) == []
            assert snapshot(contract) == issued
        transaction.set_rollback(True)
