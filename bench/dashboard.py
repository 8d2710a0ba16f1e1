"""Benchmark of the investor dashboard (issue #6/#8): its data and its page on the generated contract.

Called by bench/run.py once per size (`bench(context)`), after the settlement benchmark settled the first
weeks. The contract is measured as it stands on a weekday of a running programme: "this week" is two weeks
after the last settled week, so the dashboard reads the stored aggregates of the settled weeks and the
provisional figures of the two unsettled weeks (the same figures with those weeks live are measured once,
as a page sees them before the refresh task has run). Figures, median of `repeat` runs:
- dashboard data: every figure and chart of the contract (billing.analytics.figures.contract_dashboard);
- status figures from the aggregates (what the precomputation serves) against the same figures computed
  live from every status by the hand-written SQL the dashboard used before (selectors.status_aggregates),
  and against the floor of reading the stored rows with one plain SELECT;
- the full page through Django's test client, as the investor (counts below 5 suppressed), and its queries;
- a rebuild of the aggregates (after a correction of a settled week) and the nightly extension by one week.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock

TABLE = "Investor dashboard"


def _median(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def _ms(value: float) -> str:
    return f"{value * 1000:,.0f} ms"


def _investor(contract: Any) -> Any:
    from django.contrib.auth import get_user_model

    from organisations.models import Membership

    user, _ = get_user_model().objects.get_or_create(username=f"bench-investor-{contract.code.lower()}")
    Membership.objects.get_or_create(user=user, organisation=contract.payee, role="investor")
    return user


def verified_client(user: Any) -> Any:
    """A test client logged in as `user`, past the second factor where the role needs one (as if the code
    had been entered: the session names a confirmed authenticator)."""
    from django.test import Client

    from tests.otp_helpers import session_verified

    client = Client(HTTP_HOST="127.0.0.1")  # an allowed host; the test server's name is not
    client.force_login(user)
    session_verified(client, user)
    return client


FLOOR_SQL = """
    SELECT 'W', week, "full", partial, education, billable_full, billable_partial, billable_education, successes,
           first_paid
    FROM billing_contractweekaggregate WHERE contract_id = %(contract)s
    UNION ALL SELECT 'R', NULL, weeks_after, candidates, 0, 0, 0, 0, 0, 0
    FROM billing_contractretentionaggregate WHERE contract_id = %(contract)s
    UNION ALL SELECT 'S', week, 0, weeks, 0, 0, 0, 0, 0, 0
    FROM billing_contractsectoraggregate WHERE contract_id = %(contract)s
"""


def bench(context: Any) -> list[Any]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from bench.run import Row
    from billing.analytics import aggregates, figures, selectors
    from billing.models import DashboardAggregateState
    from common import weeks
    from organisations.models import Contract

    contract = Contract.objects.get(pk=context.contract_id)
    if contract.settled_through is None:
        return []
    # A rebuild (as after a correction of a settled week) through the week before the last settled one,
    # then the nightly extension by the last settled week.
    last = contract.settled_through
    Contract.objects.filter(pk=contract.pk).update(settled_through=last - timedelta(weeks=1))
    DashboardAggregateState.objects.filter(contract=contract).update(stale=True)
    # The settled weeks alone (the provisional weeks after them are measured below).
    started = time.perf_counter()
    assert aggregates._refresh_settled(contract_id=contract.pk)[0] == "rebuilt"
    rebuild = time.perf_counter() - started
    Contract.objects.filter(pk=contract.pk).update(settled_through=last)
    started = time.perf_counter()
    assert aggregates._refresh_settled(contract_id=contract.pk)[0] == "extended"
    extend = time.perf_counter() - started

    contract = Contract.objects.get(pk=contract.pk)
    today = last + timedelta(weeks=2, days=2)  # a Wednesday two weeks after the last settled week
    through = selectors.reference_week(contract, today=today)
    repeat = context.repeat

    # The two unsettled weeks computed live, as the page does until their provisional figures exist ...
    tail_live = _median(lambda: aggregates.dashboard_status_aggregates(contract=contract, through=through), 1)
    # ... which the refresh task computes (after each settlement, and when a dashboard finds them old).
    with mock.patch.object(weeks, "now_copenhagen", lambda: weeks.local_midnight(today)):
        started = time.perf_counter()
        aggregates.dashboard_aggregates_refresh(contract_id=contract.pk)
        provisional = time.perf_counter() - started
    if through > last:  # (an ended contract, as the demo's, has no unsettled week)
        assert aggregates.dashboard_status_aggregates(contract=contract, through=through).provisional_from is not None

    data = _median(lambda: figures.contract_dashboard(contract=contract, suppress=True, today=today), repeat)
    stored = _median(lambda: aggregates.dashboard_status_aggregates(contract=contract, through=through), repeat)
    live = _median(lambda: selectors.status_aggregates(contract=contract, through=through), 1)

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, {"contract": contract.pk})
            cursor.fetchall()

    floor_time = _median(floor, repeat)
    exact = selectors.status_aggregates(contract=contract, through=through)
    shown = aggregates.dashboard_status_aggregates(contract=contract, through=through)
    assert (exact.weekly, exact.successes, exact.retained, exact.sectors) == (
        shown.weekly,
        shown.successes,
        shown.retained,
        shown.sectors,
    )

    client = verified_client(_investor(contract))
    url = f"/dashboard/{contract.code}/"
    with mock.patch.object(weeks, "now_copenhagen", lambda: weeks.local_midnight(today)):
        first = client.get(url)
        assert first.status_code == 200, (first.status_code, first.get("Location"))
        reset_queries()  # each request resets the log: count from empty
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        page = _median(lambda: client.get(url), repeat)
        # The simulator fragment as the page loads it (htmx), this week's starting point stored by the refresh.
        simulator_url = f"/dashboard/{contract.code}/simulator/"
        assert client.get(simulator_url, HTTP_HX_REQUEST="true").status_code == 200
        simulator_page = _median(lambda: client.get(simulator_url, HTTP_HX_REQUEST="true"), repeat)
    print(
        f"[{context.size:,}] dashboard: data {_ms(data)}, page {_ms(page)} ({len(queries)} queries); status figures "
        f"stored + provisional {_ms(stored)}, stored + live tail {_ms(tail_live)}, all live SQL {_ms(live)} "
        f"(floor {_ms(floor_time)}); rebuild {rebuild:.1f} s, one more week {_ms(extend)}, "
        f"provisional weeks {provisional:.1f} s; simulator {_ms(simulator_page)}",
        flush=True,
    )
    return [
        Row(
            TABLE,
            {
                "candidates": f"{context.size:,}",
                "settled / live weeks": f"{(last - contract.first_week).days // 7 + 1} / {max(0, (through - last).days // 7)}",
                "dashboard data": _ms(data),
                "page (investor)": _ms(page),
                "page queries": str(len(queries)),
                "simulator (fragment)": _ms(simulator_page),
                "status figures (stored + provisional weeks)": _ms(stored),
                "same, unsettled weeks live (before their refresh)": _ms(tail_live),
                "same figures, live SQL over every status": _ms(live),
                "floor: SELECT of the stored rows": _ms(floor_time),
                "rebuild after a correction": f"{rebuild:.1f} s",
                "nightly extension by one week": _ms(extend),
                "provisional weeks (refresh task)": f"{provisional:.1f} s",
            },
        )
    ]
