"""Dashboard aggregates (billing/analytics/aggregates.py): the stored figures plus the live tail equal the live
computation from every status, after settlements, corrections, placement changes and rebuilds; the
triggers mark them stale; settling enqueues a refresh; the dashboard's query count stays flat."""

from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.analytics.aggregates import (
    dashboard_aggregates_refresh,
    dashboard_status_aggregates,
    simulation_base_from_aggregates,
)
from billing.analytics.figures import contract_dashboard
from billing.analytics.selectors import StatusAggregates, simulation_base, status_aggregates
from billing.models import CandidatePaidAggregate, ContractWeekAggregate, DashboardAggregateState
from candidates.models import WeeklyStatus
from common import weeks
from organisations.models import Contract
from tests.billing_helpers import W, make_candidate, make_contract, set_status, settle
from tests.factories import EmployerFactory, JobFactory, PlacementFactory

pytestmark = pytest.mark.django_db

OUTCOMES = ["none", "partial", "full", "education"]


def _figures(result: StatusAggregates) -> tuple[object, ...]:
    return (result.weekly, result.billable, result.successes, result.retained, result.horizons, result.sectors)


def assert_exact(contract: Contract, through: date) -> StatusAggregates:
    """The dashboard's figures (stored + tail) equal the live computation from every status."""
    contract.refresh_from_db()
    stored = dashboard_status_aggregates(contract=contract, through=through)
    assert _figures(stored) == _figures(status_aggregates(contract=contract, through=through))
    return stored


def assert_same_simulation_base(contract: Contract, *, start: date, through: date) -> None:
    """The simulator's starting point from the aggregates equals the one computed from every status."""
    contract.refresh_from_db()
    assert simulation_base_from_aggregates(contract=contract, start=start, calibrate_through=through) == (
        simulation_base(contract=contract, start=start, calibrate_through=through)
    )


def _state(contract: Contract) -> DashboardAggregateState:
    return DashboardAggregateState.objects.get(contract=contract)


@pytest.fixture
def running() -> dict[str, object]:
    """Eight candidates over ten weeks with jobs in two sectors; weeks 1-6 settled, 7-10 not yet."""
    contract = make_contract(first="2020-W01", last="2020-W20", success_min_weeks=2)
    retail = JobFactory(sector="Retail", employer=EmployerFactory(operator=contract.operator))
    cleaning = JobFactory(sector="", employer=EmployerFactory(operator=contract.operator, sector="Cleaning"))
    people = []
    for n in range(8):
        candidate = make_candidate(contract, f"R{n}", enrolled=date(2020, 1, 1) + timedelta(days=3 * n))
        people.append(candidate)
        PlacementFactory(candidate=candidate, job=retail if n % 2 else cleaning, start=date(2020, 1, 6 + n))
        for week in range(1, 11):
            set_status(candidate, f"2020-W{week:02d}", OUTCOMES[(n + week) % 4])
    sparse = make_candidate(contract, "S", enrolled=date(2020, 1, 1))  # one paid week before W07: succeeds in W07
    for week, outcome in [("2020-W02", "full"), ("2020-W07", "partial"), ("2020-W08", "full"), ("2020-W09", "full")]:
        set_status(sparse, week, outcome)
    settle(contract, "2020-02-20T00:00")  # W06 closed on 17 February
    return {"contract": contract, "people": people, "retail": retail}


def test_refresh_stores_the_settled_weeks_and_the_tail_is_added_live(running: dict[str, object]) -> None:
    contract = running["contract"]
    assert dashboard_aggregates_refresh(contract_id=contract.pk) == "rebuilt"
    state = _state(contract)
    assert (state.through, state.stale, state.sectors_stale_from) == (W("2020-W06"), False, None)
    assert set(ContractWeekAggregate.objects.filter(contract=contract).values_list("week", flat=True)) <= {
        W(f"2020-W{n:02d}") for n in range(1, 7)
    }
    result = assert_exact(contract, W("2020-W10"))
    assert result.weekly and result.successes and result.retained and result.sectors
    assert not result.refresh_due
    assert dashboard_aggregates_refresh(contract_id=contract.pk) == "fresh"  # run twice: nothing changes


def test_week_by_week_extension_equals_a_rebuild(running: dict[str, object]) -> None:
    contract = running["contract"]
    dashboard_aggregates_refresh(contract_id=contract.pk)
    settle(contract, "2020-03-09T00:00")  # W07-W09
    assert dashboard_aggregates_refresh(contract_id=contract.pk) == "extended"
    extended = {
        (row.week, row.full, row.partial, row.education, row.billable_full, row.successes, row.first_paid)
        for row in ContractWeekAggregate.objects.filter(contract=contract)
    }
    paid = set(
        CandidatePaidAggregate.objects.filter(contract=contract).values_list("candidate", "first_paid", "paid_weeks")
    )
    assert_exact(contract, W("2020-W10"))
    DashboardAggregateState.objects.filter(contract=contract).update(stale=True)
    assert dashboard_aggregates_refresh(contract_id=contract.pk) == "rebuilt"
    rebuilt = {
        (row.week, row.full, row.partial, row.education, row.billable_full, row.successes, row.first_paid)
        for row in ContractWeekAggregate.objects.filter(contract=contract)
    }
    assert extended == rebuilt
    assert paid == set(
        CandidatePaidAggregate.objects.filter(contract=contract).values_list("candidate", "first_paid", "paid_weeks")
    )


def test_a_correction_of_a_settled_week_marks_them_stale_until_rebuilt(running: dict[str, object]) -> None:
    contract = running["contract"]
    dashboard_aggregates_refresh(contract_id=contract.pk)
    set_status(running["people"][0], "2020-W03", "none")
    WeeklyStatus.objects.filter(candidate=running["people"][1], week=W("2020-W02")).delete()
    assert _state(contract).stale  # by the trigger, through Contract.recompute_from
    result = assert_exact(contract, W("2020-W10"))
    assert result.refresh_due
    assert dashboard_aggregates_refresh(contract_id=contract.pk) == "rebuilt"
    assert not _state(contract).stale
    assert_exact(contract, W("2020-W10"))
    # The next settlement recomputes from the correction and clears the watermark without marking again.
    settle(contract, "2020-02-27T00:00")
    assert not _state(contract).stale
    assert dashboard_aggregates_refresh(contract_id=contract.pk) == "extended"
    assert_exact(contract, W("2020-W10"))


def test_enrolment_and_rate_card_changes_mark_them_stale(running: dict[str, object]) -> None:
    contract = running["contract"]
    dashboard_aggregates_refresh(contract_id=contract.pk)
    candidate = running["people"][2]
    candidate.enrolled_on = date(2020, 1, 27)
    candidate.save(update_fields=["enrolled_on"])
    assert _state(contract).stale
    assert_exact(contract, W("2020-W10"))


def test_placement_changes_recompute_the_sector_mix_from_their_start(running: dict[str, object]) -> None:
    contract = running["contract"]
    dashboard_aggregates_refresh(contract_id=contract.pk)
    PlacementFactory(candidate=running["people"][3], job=running["retail"], start=date(2020, 1, 22))
    assert _state(contract).sectors_stale_from == date(2020, 1, 16)
    assert not _state(contract).stale
    assert_exact(contract, W("2020-W10"))
    assert dashboard_aggregates_refresh(contract_id=contract.pk) == "extended"
    assert _state(contract).sectors_stale_from is None
    assert_exact(contract, W("2020-W10"))
    job = running["retail"]
    job.sector = "Construction"
    job.save(update_fields=["sector"])
    assert _state(contract).sectors_stale_from == contract.first_week
    result = assert_exact(contract, W("2020-W10"))
    assert any(sector == "Construction" for sector, _outcome in result.sectors)
    employer = job.employer
    employer.sector = "Retail"
    employer.save(update_fields=["sector"])  # the job's own sector still wins
    assert_exact(contract, W("2020-W10"))


def test_a_new_success_rule_is_computed_live_then_rebuilt(running: dict[str, object]) -> None:
    contract = running["contract"]
    dashboard_aggregates_refresh(contract_id=contract.pk)
    Contract.objects.filter(pk=contract.pk).update(success_min_weeks=1)
    assert dashboard_status_aggregates(contract=Contract.objects.get(pk=contract.pk), through=W("2020-W10")).refresh_due
    assert_exact(contract, W("2020-W10"))
    assert dashboard_aggregates_refresh(contract_id=contract.pk) == "rebuilt"
    assert_exact(contract, W("2020-W10"))


def test_the_simulator_starts_from_the_aggregates(running: dict[str, object]) -> None:
    contract = running["contract"]
    dashboard_aggregates_refresh(contract_id=contract.pk)
    for start in range(1, 12):  # before, at and after the stored weeks (W01-W06)
        assert_same_simulation_base(contract, start=W(f"2020-W{start:02d}"), through=W("2020-W10"))
    with CaptureQueriesContext(connection) as queries:
        base = simulation_base_from_aggregates(contract=contract, start=W("2020-W09"), calibrate_through=W("2020-W10"))
    assert base.active_pool and base.mean_paid_weeks  # (everyone has succeeded by W08: no open pool)
    assert len(queries) == 3
    # only the unsettled weeks' statuses are read: the week index bounds both status scans
    assert all("ws.week >= " in q["sql"] for q in queries.captured_queries if "weeklystatus" in q["sql"])


def test_a_reference_week_before_the_stored_ones_is_computed_live(running: dict[str, object]) -> None:
    contract = running["contract"]
    dashboard_aggregates_refresh(contract_id=contract.pk)
    assert_exact(contract, W("2020-W03"))


# --- the unsettled weeks: provisional figures computed by the refresh ------------------------------------------


def _refresh_on(contract: Contract, day: date) -> str:
    """Run the refresh task's service as a worker would on `day` (its "this week" is that day's week)."""
    with mock.patch.object(weeks, "now_copenhagen", lambda: weeks.local_midnight(day)):
        return dashboard_aggregates_refresh(contract_id=contract.pk)


def test_the_unsettled_weeks_are_read_from_their_provisional_figures(running: dict[str, object]) -> None:
    contract = running["contract"]
    _refresh_on(contract, date(2020, 3, 4))  # a Wednesday of W10: W07-W10 are unsettled
    state = _state(contract)
    assert (state.through, state.provisional_through) == (W("2020-W06"), W("2020-W10"))
    with CaptureQueriesContext(connection) as queries:
        result = assert_exact(contract, W("2020-W10"))
    assert (result.provisional_from, result.provisional_at) == (W("2020-W07"), state.provisional_at)
    assert not result.refresh_due
    # assert_exact ran the live computation too: only its queries read statuses
    live = status_aggregates(contract=contract, through=W("2020-W10"))
    with CaptureQueriesContext(connection) as dashboard_queries:
        dashboard_status_aggregates(contract=contract, through=W("2020-W10"))
    assert len(dashboard_queries) == 3
    assert [q for q in dashboard_queries.captured_queries if "weeklystatus" in q["sql"]] == []
    assert _figures(live) == _figures(result) and len(queries) > len(dashboard_queries)
    # The simulator's default starting point (this week) was stored with them: one query, no status.
    for start in (W("2020-W10"), contract.first_week):
        with CaptureQueriesContext(connection) as simulator_queries:
            stored = simulation_base_from_aggregates(contract=contract, start=start, calibrate_through=W("2020-W10"))
        assert len(simulator_queries) == 1
        assert stored == simulation_base(contract=contract, start=start, calibrate_through=W("2020-W10"))
    assert stored.mean_paid_weeks and not stored.active_pool


def test_a_status_change_shows_once_the_refresh_ran(running: dict[str, object]) -> None:
    contract = running["contract"]
    _refresh_on(contract, date(2020, 3, 4))
    candidate = running["people"][0]
    set_status(candidate, "2020-W08", "full")  # was 'none' (n + week = 8: OUTCOMES[0])
    set_status(running["people"][1], "2020-W09", "none")
    before = dashboard_status_aggregates(contract=contract, through=W("2020-W10"))
    live = status_aggregates(contract=contract, through=W("2020-W10"))
    # Until the refresh runs the page shows the provisional figures, with their time: not the new statuses.
    assert before.provisional_from == W("2020-W07") and _figures(before) != _figures(live)
    _refresh_on(contract, date(2020, 3, 4))
    after = assert_exact(contract, W("2020-W10"))
    assert after.provisional_from == W("2020-W07") and after.provisional_at > before.provisional_at


def test_old_provisional_figures_are_shown_and_a_refresh_is_due(running: dict[str, object]) -> None:
    from billing.analytics.aggregates import PROVISIONAL_MAX_AGE

    contract = running["contract"]
    _refresh_on(contract, date(2020, 3, 4))
    DashboardAggregateState.objects.filter(contract=contract).update(
        provisional_at=timezone.now() - PROVISIONAL_MAX_AGE - timedelta(seconds=1)
    )
    result = assert_exact(contract, W("2020-W10"))
    assert result.provisional_from == W("2020-W07") and result.refresh_due


def test_a_new_week_is_computed_live_and_a_settlement_moves_the_provisional_weeks(running: dict[str, object]) -> None:
    contract = running["contract"]
    _refresh_on(contract, date(2020, 3, 4))
    # Monday of W11: the provisional figures end at W10, the page computes W07-W11 live (exact) meanwhile.
    with mock.patch.object(weeks, "now_copenhagen", lambda: weeks.local_midnight(date(2020, 3, 9))):
        result = assert_exact(contract, W("2020-W11"))
    assert result.provisional_from is None and result.refresh_due
    result = assert_exact(contract, W("2020-W11"))  # not this week's page: a refresh would not help
    assert result.provisional_from is None and not result.refresh_due
    settle(contract, "2020-02-27T00:00")  # W07 closed and settled (settling changes no status)
    result = assert_exact(contract, W("2020-W10"))
    assert result.provisional_from == W("2020-W07") and result.refresh_due  # the stored weeks are behind
    assert _refresh_on(contract, date(2020, 3, 4)) == "extended"
    result = assert_exact(contract, W("2020-W10"))
    assert result.provisional_from == W("2020-W08") and not result.refresh_due


def test_a_placement_change_makes_the_sector_mix_live_again(running: dict[str, object]) -> None:
    contract = running["contract"]
    _refresh_on(contract, date(2020, 3, 4))
    placement = running["people"][1].placements.get()
    placement.job = JobFactory(sector="Care", employer=placement.job.employer)
    placement.save()
    result = assert_exact(contract, W("2020-W10"))  # the sectors are computed live, the rest is provisional
    assert result.provisional_from == W("2020-W07") and result.refresh_due
    _refresh_on(contract, date(2020, 3, 4))
    assert _state(contract).sectors_stale_from is None
    assert not assert_exact(contract, W("2020-W10")).refresh_due


def test_a_long_unsettled_tail_is_not_precomputed(running: dict[str, object]) -> None:
    from billing.analytics.aggregates import PROVISIONAL_MAX_WEEKS

    contract = running["contract"]
    _refresh_on(contract, W("2020-W06") + timedelta(weeks=PROVISIONAL_MAX_WEEKS))
    assert _state(contract).provisional_through == W("2020-W06") + timedelta(weeks=PROVISIONAL_MAX_WEEKS)
    _refresh_on(contract, W("2020-W06") + timedelta(weeks=PROVISIONAL_MAX_WEEKS + 1))  # a catch-up, say
    assert _state(contract).provisional_through is None
    result = assert_exact(contract, W("2020-W06") + timedelta(weeks=PROVISIONAL_MAX_WEEKS + 1))
    assert result.provisional_from is None


def test_a_dashboard_queues_one_refresh_per_contract_at_a_time(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    from billing.analytics.aggregates import dashboard_aggregates_enqueue_debounced
    from billing.tasks import dashboard_aggregates_refresh_task

    cache.clear()
    with (
        mock.patch.object(dashboard_aggregates_refresh_task, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for _ in range(3):
            dashboard_aggregates_enqueue_debounced(contract_id=1)
        dashboard_aggregates_enqueue_debounced(contract_id=2)
    assert delay.call_args_list == [mock.call(1), mock.call(2)]
    cache.clear()


def test_settling_enqueues_a_refresh_once_committed(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    contract = make_contract(first="2020-W01", last="2020-W10")
    set_status(make_candidate(contract, "A"), "2020-W01", "full")
    from billing.tasks import dashboard_aggregates_refresh_task

    def run_now(contract_id: int) -> None:  # what a worker does with the queued task
        dashboard_aggregates_refresh_task.apply(args=(contract_id,))

    with (
        mock.patch.object(dashboard_aggregates_refresh_task, "delay", side_effect=run_now) as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        settle(contract, "2020-01-20T00:00")
    assert delay.call_count == 2  # W01 and W02: one refresh queued at each settlement's commit
    assert _state(contract).through == W("2020-W02")
    assert ContractWeekAggregate.objects.get(contract=contract, week=W("2020-W01")).billable_full == 1


def test_dashboard_reads_a_flat_number_of_queries_from_the_aggregates() -> None:
    contract = make_contract(first="2020-W01", last="2020-W10")
    job = JobFactory(sector="Retail")

    def grow(start: int, count: int) -> None:
        for n in range(start, start + count):
            candidate = make_candidate(contract, f"G{n:03d}")
            PlacementFactory(candidate=candidate, job=job, start=date(2020, 1, 6))
            for week in range(1, 11):
                set_status(candidate, f"2020-W{week:02d}", OUTCOMES[(n + week) % 4])

    grow(0, 3)
    settle(contract, "2021-01-01T00:00")
    dashboard_aggregates_refresh(contract_id=contract.pk)
    contract.refresh_from_db()
    with CaptureQueriesContext(connection) as few:
        small = contract_dashboard(contract=contract, suppress=False, today=date(2021, 1, 1))
    grow(3, 30)  # a locked (fully settled) contract takes no more statuses through the services; the trigger
    dashboard_aggregates_refresh(contract_id=contract.pk)  # marked the aggregates stale: rebuild them
    with CaptureQueriesContext(connection) as many:
        large = contract_dashboard(contract=contract, suppress=False, today=date(2021, 1, 1))
    assert (small.headline.enrolled.value, large.headline.enrolled.value) == (3, 33)
    assert len(few) == len(many) <= 12
    status_queries = [q["sql"] for q in many.captured_queries if "weeklystatus" in q["sql"]]
    assert status_queries == [], "a fully aggregated dashboard reads no status"
    assert_exact(contract, W("2020-W10"))


# --- property: any history, any settlement point, any reference week ------------------------------------------

history = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 9), st.sampled_from(OUTCOMES)), min_size=1, max_size=40)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    history=history,
    enrolled=st.lists(st.none() | st.integers(-10, 40), min_size=6, max_size=6),
    withdrawn=st.lists(st.none() | st.integers(0, 70), min_size=6, max_size=6),
    min_weeks=st.integers(1, 3),
    window=st.integers(2, 12),
    settle_weeks=st.integers(0, 9),
    extra=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 9), st.sampled_from(OUTCOMES)), max_size=6),
    reference=st.integers(0, 9),
)
def test_stored_plus_live_equals_live_for_any_history(
    history: list[tuple[int, int, str]],
    enrolled: list[int | None],
    withdrawn: list[int | None],
    min_weeks: int,
    window: int,
    settle_weeks: int,
    extra: list[tuple[int, int, str]],
    reference: int,
) -> None:
    first = W("2020-W50")  # across 2020-W53
    contract = make_contract(
        first="2020-W50", last="2021-W07", success_min_weeks=min_weeks, candidate_window_weeks=window
    )
    job = JobFactory(sector="Retail")
    people = []
    for n in range(6):
        start = None if enrolled[n] is None else first + timedelta(days=enrolled[n])
        candidate = make_candidate(
            contract,
            f"P{n}",
            enrolled=start,
            referred_on=first - timedelta(days=20),
            withdrawn_on=None if start is None or withdrawn[n] is None else start + timedelta(days=withdrawn[n]),
        )
        people.append(candidate)
        if n % 2:
            PlacementFactory(candidate=candidate, job=job, start=first + timedelta(days=7 * n))
    for n, week, outcome in history:
        set_status(people[n], weeks.format_week(first + timedelta(weeks=week)), outcome)
    closing = weeks.local_midnight(first + timedelta(weeks=settle_weeks, days=14)).isoformat()[:16]
    settle(contract, closing)
    dashboard_aggregates_refresh(contract_id=contract.pk)
    assert_exact(contract, first + timedelta(weeks=reference))  # stored weeks + the unsettled tail
    for start in {reference, reference + 1, settle_weeks + 1, 0}:
        assert_same_simulation_base(contract, start=first + timedelta(weeks=start), through=first + timedelta(weeks=9))
    _refresh_on(contract, first + timedelta(weeks=reference, days=2))  # the tail as provisional figures
    assert_exact(contract, first + timedelta(weeks=reference))
    assert_same_simulation_base(
        contract, start=first + timedelta(weeks=reference), through=first + timedelta(weeks=reference)
    )
    settle(contract, "2021-06-01T00:00")
    dashboard_aggregates_refresh(contract_id=contract.pk)  # extended week by week
    assert_exact(contract, first + timedelta(weeks=reference))
    assert_exact(contract, first + timedelta(weeks=9))
    for n, week, outcome in extra:  # corrections of settled weeks: stale, computed live, then rebuilt
        set_status(people[n], weeks.format_week(first + timedelta(weeks=week)), outcome)
    assert_exact(contract, first + timedelta(weeks=9))
    dashboard_aggregates_refresh(contract_id=contract.pk)
    assert_exact(contract, first + timedelta(weeks=9))
