"""The recompute_from watermark kept by database triggers, and the engine recomputing from it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing.services.settlement import line_drafts
from candidates.models import WeeklyStatus
from organisations.models import Contract, RateCardVersion
from tests.billing_helpers import W, make_candidate, make_contract, set_status, settle
from tests.factories import CandidateFactory

pytestmark = pytest.mark.django_db


def watermark(contract: Contract) -> date | None:
    return Contract.objects.values_list("recompute_from", flat=True).get(pk=contract.pk)


@pytest.fixture
def settled():
    contract = make_contract(first="2020-W01", last="2020-W20")
    candidate = make_candidate(contract, "A")
    for week in ("2020-W02", "2020-W03", "2020-W04"):
        set_status(candidate, week, "full")
    settle(contract, "2020-02-03T00:00")  # settles W01..W04
    assert watermark(contract) is None
    return contract, candidate


def test_a_change_in_a_settled_week_lowers_the_watermark_and_settling_clears_it(settled):
    contract, candidate = settled
    set_status(candidate, "2020-W05", "full")  # not settled yet: nothing to recompute
    assert watermark(contract) is None
    set_status(candidate, "2020-W03", "partial")
    set_status(candidate, "2020-W04", "none")
    assert watermark(contract) == W("2020-W03")
    (document,) = settle(contract, "2020-02-10T00:00")
    assert sorted((line.week, line.amount) for line in document.lines.all()) == [
        (W("2020-W03"), Decimal("-600.00")),
        (W("2020-W04"), Decimal("-1200.00")),
        (W("2020-W05"), Decimal("1200.00")),
    ]
    assert watermark(contract) is None


def test_a_note_only_change_does_not_lower_it(settled):
    contract, candidate = settled
    candidate.weekly_statuses.filter(week=W("2020-W02")).update(note="timesedler modtaget")
    assert watermark(contract) is None


def test_enrolment_withdrawal_rate_card_and_cap_changes_lower_it(settled):
    contract, candidate = settled
    candidate.withdrawn_on = date(2020, 1, 16)  # Thursday of W03
    candidate.save(update_fields=["withdrawn_on"])
    assert watermark(contract) is not None and watermark(contract) <= W("2020-W03")
    Contract.objects.filter(pk=contract.pk).update(recompute_from=None)

    RateCardVersion.objects.create(
        contract=contract,
        effective_from=W("2020-W04"),
        price_full=Decimal("1300"),
        price_partial=Decimal("650"),
        price_education=Decimal("1300"),
    )
    assert watermark(contract) == W("2020-W04")
    Contract.objects.filter(pk=contract.pk).update(recompute_from=None)

    contract.refresh_from_db()
    contract.cap_amount = Decimal("1000.00")
    contract.save()
    assert watermark(contract) == W("2020-W01")


def test_incremental_and_full_recomputation_agree(settled):
    contract, candidate = settled
    contract.cap_amount = Decimal("2500.00")
    contract.save()
    other = make_candidate(contract, "B")
    set_status(other, "2020-W02", "partial")
    set_status(candidate, "2020-W05", "full")
    contract.refresh_from_db()
    incremental = line_drafts(contract=contract, through=W("2020-W05"), start=contract.recompute_from)
    full = line_drafts(contract=contract, through=W("2020-W05"))
    assert incremental == full and full  # there is something to bill


def test_bulk_statements_mark_only_settled_weeks_of_their_own_contract(settled):
    """Set-based writes (as the import does them): a statement's rows after every settled week mark nothing,
    whichever contract is settled furthest; a row moved into, out of or between settled weeks marks the
    earlier of its two weeks; a status moved to another contract's candidate marks both contracts."""
    contract, candidate = settled  # settled through 2020-W04
    ahead = make_contract(first="2020-W01", last="2020-W20")
    runner = make_candidate(ahead, "R")
    for week in ("2020-W02", "2020-W06", "2020-W07"):
        set_status(runner, week, "full")
    settle(ahead, "2020-02-24T00:00")  # the other contract is settled through 2020-W07
    assert watermark(ahead) is None

    # Weeks W05-W06 are unsettled in `contract` though settled in `ahead`: nothing to mark in `contract`.
    WeeklyStatus.objects.bulk_create(
        [
            WeeklyStatus(candidate=candidate, week=W(w), outcome="full", recorded_at=timezone.now())
            for w in ("2020-W05", "2020-W06")
        ]
    )
    WeeklyStatus.objects.filter(candidate=candidate, week__gte=W("2020-W05")).update(outcome="partial")
    assert (watermark(contract), watermark(ahead)) == (None, None)

    # Moved from an unsettled week into a settled one (and back): marked from the settled week.
    moved = WeeklyStatus.objects.get(candidate=candidate, week=W("2020-W06"))
    WeeklyStatus.objects.filter(pk=moved.pk).update(week=W("2020-W01"))
    assert watermark(contract) == W("2020-W01")
    Contract.objects.filter(pk=contract.pk).update(recompute_from=None)
    WeeklyStatus.objects.filter(pk=moved.pk).update(week=W("2020-W06"))
    assert watermark(contract) == W("2020-W01")
    Contract.objects.filter(pk=contract.pk).update(recompute_from=None)

    # Moved to the other contract's candidate: both contracts lose (or gain) the week.
    WeeklyStatus.objects.filter(candidate=candidate, week=W("2020-W03")).update(candidate=runner)
    assert (watermark(contract), watermark(ahead)) == (W("2020-W03"), W("2020-W03"))
    Contract.objects.filter(pk__in=[contract.pk, ahead.pk]).update(recompute_from=None)

    # Deleted in a settled week of one contract only.
    WeeklyStatus.objects.filter(candidate=runner, week=W("2020-W06")).delete()
    assert (watermark(contract), watermark(ahead)) == (None, W("2020-W06"))


@pytest.mark.postgres
def test_a_large_statement_after_many_small_ones_is_planned_for_its_own_size(settled):
    """PostgreSQL keeps a PL/pgSQL statement's plan for the session; a plan made for one-row transition tables
    joins two 30,000-row ones by rescanning one per row of the other (about a minute; 0003's
    trigger took 24 s for 20,000 rows). The trigger plans each statement
    for the rows at hand: after twenty single-row updates, an update of 30,000 settled statuses still marks its
    week well within the statement timeout (a guard against a hang, not a measured time)."""
    contract, candidate = settled
    others = CandidateFactory.create_batch(299, contract=contract, referred_on=date(2019, 1, 1))
    ids = [candidate.pk, *(other.pk for other in others)]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO candidates_weeklystatus (candidate_id, week, outcome, note, recorded_at) "
            "SELECT c, DATE '2019-01-07' - 7 * w, 'full', '', now() FROM unnest(%s::bigint[]) AS c, "
            "generate_series(1, 100) AS w",
            [ids],
        )
        Contract.objects.filter(pk=contract.pk).update(recompute_from=None)
        for week in range(1, 21):  # single-row updates: a plan cached for tiny transition tables
            cursor.execute(
                "UPDATE candidates_weeklystatus SET outcome = 'partial' WHERE candidate_id = %s AND week = %s",
                [candidate.pk, date(2019, 1, 7) - timedelta(weeks=week)],
            )
        Contract.objects.filter(pk=contract.pk).update(recompute_from=None)
        cursor.execute("SET LOCAL statement_timeout = '20s'")
        cursor.execute("UPDATE candidates_weeklystatus SET outcome = 'none' WHERE week < '2019-01-07'")
        assert cursor.rowcount == 30_000
        cursor.execute("SET LOCAL statement_timeout = 0")
    assert watermark(contract) == date(2019, 1, 7) - timedelta(weeks=100)
