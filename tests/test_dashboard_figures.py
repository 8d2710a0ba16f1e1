"""Dashboard figures on a small contract, against hand-computed values; flat query counts as candidates grow."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.analytics.access import NOT_SHOWN
from billing.analytics.figures import contract_dashboard, sector_label
from billing.analytics.xirr import xirr
from billing.models import Document
from billing.outcomes import success_summary
from billing.services.ledger import disbursement_record, payment_record
from tests.billing_helpers import W, make_candidate, make_contract, set_status, settle
from tests.factories import ContractInvestorFactory, EmployerFactory, JobFactory, PlacementFactory

pytestmark = pytest.mark.django_db
TODAY = date(2021, 6, 1)  # after the contract's last week: "this week" is its last week, 2020-W52


@pytest.fixture
def small() -> dict[str, object]:
    """Five candidates with statuses written by hand; weeks 1-6 settled, paid and funded.

    A: full W02, full W03, partial W04 (job in retail from W02) -> succeeded in W03 (2 weeks needed)
    B: partial W02 -> not succeeded
    C: referred, never enrolled; full W02 (recorded, never billable)
    D: education W05, W06 -> succeeded in W06
    E: enrolled, no status
    """
    contract = make_contract(
        first="2020-W01", last="2020-W52", success_min_weeks=2, avoided_course_cost_per_candidate=Decimal("37500.00")
    )
    a = make_candidate(contract, "A", enrolled=date(2020, 1, 1))
    b = make_candidate(contract, "B", enrolled=date(2020, 1, 1))
    c = make_candidate(contract, "C", enrolled=None)
    d = make_candidate(contract, "D", enrolled=date(2020, 1, 20))
    make_candidate(contract, "E", enrolled=date(2020, 1, 20))
    job = JobFactory(sector="Retail", employer=EmployerFactory(operator=contract.operator, sector="ignored"))
    PlacementFactory(candidate=a, job=job, start=date(2020, 1, 6), end=date(2020, 1, 26))
    for candidate, week, outcome in [
        (a, "2020-W02", "full"),
        (a, "2020-W03", "full"),
        (a, "2020-W04", "partial"),
        (b, "2020-W02", "partial"),
        (c, "2020-W02", "full"),
        (d, "2020-W05", "education"),
        (d, "2020-W06", "education"),
    ]:
        set_status(candidate, week, outcome)
    documents = settle(contract, "2020-02-20T00:00")  # W06 closed on 17 February: W01-W06 settled
    investor = ContractInvestorFactory(contract=contract, committed=Decimal("20000.00"))
    disbursement_record(contract=contract, investor=investor, amount=Decimal("5000.00"), disbursed_on=date(2020, 1, 6))
    for document in documents:
        payment_record(document=document, amount=document.total, paid_on=date(2020, 3, 1))
    contract.refresh_from_db()
    return {"contract": contract, "documents": documents}


def test_headline_figures_match_the_hand_computation(small: dict[str, object]) -> None:
    contract = small["contract"]
    dashboard = contract_dashboard(contract=contract, suppress=False, today=TODAY)
    h = dashboard.headline
    assert h.reference_week == W("2020-W52")
    assert (h.referred.value, h.enrolled.value, h.succeeded.value) == (5, 4, 2)
    # B13 from the engine's own selector gives the same
    assert success_summary(contract=contract).succeeded == 2
    assert h.success.ratio == 0.5 and h.success.display == "50 %"
    # Invoiced: A 1200 + 1200 + 600, B 600, D 1200 + 1200 (C is not enrolled) = 6000; all paid on 1 March.
    assert sum(d.total for d in small["documents"]) == Decimal("6000.00")
    assert (h.invoiced, h.paid, h.outstanding) == (Decimal("6000.00"), Decimal("6000.00"), Decimal("0.00"))
    assert (h.committed, h.disbursed, h.net_position) == (Decimal("20000.00"), Decimal("5000.00"), Decimal("1000.00"))
    assert h.return_so_far == pytest.approx(0.2)
    # XIRR by hand: 5000 out on 6 January, 6000 back 55 days later.
    assert h.irr == pytest.approx(1.2 ** (365 / 55) - 1, rel=1e-9)
    assert h.irr == pytest.approx(xirr([(date(2020, 1, 6), Decimal(-5000)), (date(2020, 3, 1), Decimal(6000))]))
    # Paid 1 March (a Sunday, week 9) passes the 5000 disbursed.
    assert h.payback_week == W("2020-W09")
    assert (h.in_work.value, h.in_education.value) == (0, 0)  # nobody in week 52


def test_this_week_counts_come_from_the_reference_week(small: dict[str, object]) -> None:
    contract = small["contract"]
    dashboard = contract_dashboard(contract=contract, suppress=False, today=date(2020, 1, 8))  # in W02
    assert dashboard.headline.reference_week == W("2020-W02")
    # W02: A full, C full (recorded though not enrolled), B partial
    assert (dashboard.headline.in_work.value, dashboard.headline.in_education.value) == (3, 0)


def test_chart_series_match_the_hand_computation(small: dict[str, object]) -> None:
    dashboard = contract_dashboard(contract=small["contract"], suppress=False, today=TODAY)
    rows = {w: (f.value, p.value, e.value) for w, f, p, e in dashboard.weekly_outcome_rows()}
    assert rows[W("2020-W02")] == (2, 1, 0)
    assert rows[W("2020-W04")] == (0, 1, 0)
    assert rows[W("2020-W05")] == (0, 0, 1)
    assert len(rows) == 52
    success = {w: (s.value, e.value, r.ratio) for w, s, e, r in dashboard.success_rows()}
    assert success[W("2020-W02")] == (0, 2, 0.0)  # A and B enrolled in W01
    assert success[W("2020-W03")] == (1, 2, 0.5)  # A succeeds; D and E are enrolled only in W04
    assert success[W("2020-W06")] == (2, 4, 0.5)
    retention = {k: (r.value, c.value) for k, r, c, _ in dashboard.retention_rows(every_week=True)}
    # First paid weeks: A W02, B W02, D W05. Self-supporting k weeks later: k=0 all three, k=1 A and D, k=2 A.
    assert retention[0] == (3, 3)
    assert retention[1] == (2, 3)
    assert retention[2] == (1, 3)
    assert retention[4] == (0, 3)
    sectors = {label: (f.value, p.value) for label, f, p in dashboard.sector_rows()}
    assert sectors == {sector_label("Retail"): (2, 1), sector_label(""): (1, 1)}  # B and C had no active job
    assert dashboard.education_weeks().value == 2
    money = {w: (i, p, d) for w, i, p, d in dashboard.money_rows()}
    assert money[W("2020-W02")] == (Decimal("0"), Decimal("0"), Decimal("5000.00"))
    assert money[W("2020-W09")] == (Decimal("6000.00"), Decimal("6000.00"), Decimal("5000.00"))
    for chart in dashboard.charts:
        assert not chart.empty and chart.paths + chart.rects, chart.id


def test_success_week_three_counts_candidates_enrolled_by_then(small: dict[str, object]) -> None:
    dashboard = contract_dashboard(contract=small["contract"], suppress=False, today=TODAY)
    success = {w: e.value for w, _s, e, _r in dashboard.success_rows()}
    assert success[W("2020-W03")] == 2  # D and E are enrolled on 20 January, in W04
    assert success[W("2020-W04")] == 4


def test_counts_below_five_are_suppressed_for_investors(small: dict[str, object]) -> None:
    dashboard = contract_dashboard(contract=small["contract"], suppress=True, today=TODAY)
    h = dashboard.headline
    assert h.referred.display == "5"  # five is not below five
    assert h.enrolled.display == "<5" and h.enrolled.shown is None
    assert h.succeeded.display == "<5" and h.success.ratio is None and h.success.display == NOT_SHOWN
    assert all(f.display == "<5" for _, f, _p, _e in dashboard.weekly_outcome_rows())
    outcome_chart = dashboard.chart("chart-outcomes")
    assert all("<5" in row[1] for row in outcome_chart.table_rows)
    # Money is not a count of people: it stays exact.
    assert h.invoiced == Decimal("6000.00")


def _grow(contract: object, start: int, count: int) -> None:
    job = JobFactory(sector="Cleaning")
    for n in range(start, start + count):
        candidate = make_candidate(contract, f"G{n:03d}", enrolled=date(2020, 1, 1))
        PlacementFactory(candidate=candidate, job=job, start=date(2020, 1, 6))
        for week, outcome in [("2020-W02", "partial"), ("2020-W03", "full"), ("2020-W04", "education")]:
            set_status(candidate, week, outcome)


def test_query_count_is_flat_as_candidates_grow() -> None:
    contract = make_contract(first="2020-W01", last="2020-W52")
    _grow(contract, 0, 3)
    settle(contract, "2020-02-20T00:00")
    with CaptureQueriesContext(connection) as few:
        small = contract_dashboard(contract=contract, suppress=False, today=TODAY)
    _grow(contract, 3, 30)
    with CaptureQueriesContext(connection) as many:
        large = contract_dashboard(contract=contract, suppress=False, today=TODAY)
    assert (small.headline.enrolled.value, large.headline.enrolled.value) == (3, 33)
    assert len(few) == len(many) <= 12
    assert Document.objects.filter(contract=contract).exists()
