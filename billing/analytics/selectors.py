"""The dashboard's reads: a fixed number of GROUP BY queries per contract, whatever its number of candidates.

Status-derived figures reuse the engine's B1 SQL (`statuses_cte`), so "billable" and "succeeded" mean here
exactly what they mean on the invoices. Nothing here loops over candidates or statuses in Python: every
result is grouped by week, outcome, date or sector in the database. Scope the contract first
(`dashboard_contracts_for_user`); these read whatever contract they are given.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Sum

from billing.models import CapitalDisbursement, Document, Payment
from billing.services.settlement import date_param, statuses_cte
from candidates.models import Candidate
from common import weeks
from common.money import ZERO
from organisations.models import BenefitRate, Contract, ContractInvestor, RateCardVersion

PAID = ("partial", "full", "education")


def as_date(value: Any) -> date:
    """SQLite returns dates from raw SQL as ISO text; PostgreSQL as dates."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def days_between(later: str, earlier: str) -> str:
    """SQL for the whole number of days from `earlier` to `later` (both date columns or parameters)."""
    if connection.vendor == "postgresql":
        return f"(CAST({later} AS date) - CAST({earlier} AS date))"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def plus_days(column: str, days: int) -> str:
    if connection.vendor == "postgresql":
        return f"(CAST({column} AS date) + {int(days)})"
    return f"date({column}, '+{int(days)} days')"


def _fetch(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def reference_week(contract: Contract, *, today: date | None = None) -> date:
    """ "This week" of the dashboard: the current week, within the contract's payment period."""
    current = weeks.week_of(today or weeks.now_copenhagen().date())
    return max(contract.first_week, min(current, contract.last_week))


def _params(contract: Contract, through: date) -> dict[str, Any]:
    return {
        "contract": contract.pk,
        "first": date_param(contract.first_week),
        "last": date_param(contract.last_week),
        "through": date_param(through),
    }


@dataclass
class StatusAggregates:
    """Everything the dashboard derives from weekly statuses, grouped in SQL."""

    # (week, outcome) -> candidates with that recorded outcome (any status, billable or not)
    weekly: dict[tuple[date, str], int] = field(default_factory=dict)
    # (week, outcome) -> billable (B1) candidate-weeks
    billable: dict[tuple[date, str], int] = field(default_factory=dict)
    # week -> candidates whose `success_min_weeks`-th billable week it is (B13: they succeed that week)
    successes: dict[date, int] = field(default_factory=dict)
    # weeks after the first paid week -> candidates self-supporting then
    retained: dict[int, int] = field(default_factory=dict)
    # weeks observable after the first paid week (up to the reference week) -> candidates
    horizons: dict[int, int] = field(default_factory=dict)
    # (sector, outcome) -> candidate-weeks in work, by the sector of the active job placement
    sectors: dict[tuple[str, str], int] = field(default_factory=dict)
    # The stored aggregates (billing/analytics/aggregates.py) lag behind a change: a refresh is worth enqueuing.
    refresh_due: bool = False
    # The unsettled weeks from `provisional_from` were read from figures computed at `provisional_at` (they
    # are recomputed in the background; statuses of an unsettled week may still change). None: all exact now.
    provisional_from: date | None = None
    provisional_at: datetime | None = None

    @property
    def succeeded(self) -> int:
        return sum(self.successes.values())


def status_aggregates(*, contract: Contract, through: date) -> StatusAggregates:
    """The live computation from every status (the dashboard reads the precomputed aggregates instead,
    billing/analytics/aggregates.py; tests and the benchmark compare the two).

    Two grouped queries over the contract's statuses up to `through` (one pass over the B1 statuses for
    weekly counts, successes and retention; one for the sector of the active job placement)."""
    params = {**_params(contract, through), "min_weeks": contract.success_min_weeks}
    result = StatusAggregates()
    offset = days_between("s.week", "f.first_paid")
    horizon = days_between("%(through)s", "f.first_paid")
    rows = _fetch(
        f"""WITH {statuses_cte(contract)},
        b AS (SELECT candidate_id, week, ROW_NUMBER() OVER (PARTITION BY candidate_id ORDER BY week) AS n
              FROM s WHERE billable = 1),
        f AS (SELECT candidate_id, MIN(week) AS first_paid FROM b GROUP BY candidate_id)
        SELECT 'w' AS tag, week, 0 AS k, outcome, billable, COUNT(*) FROM s
        WHERE outcome IN ('partial', 'full', 'education') AND week >= %(first)s
        GROUP BY week, outcome, billable
        UNION ALL
        SELECT 's', week, 0, '', 0, COUNT(*) FROM b WHERE n = %(min_weeks)s GROUP BY week
        UNION ALL
        SELECT 'r', NULL, {offset} / 7, '', 0, COUNT(*) FROM s JOIN f ON f.candidate_id = s.candidate_id
        WHERE s.week >= f.first_paid AND s.outcome IN ('partial', 'full', 'education')
        GROUP BY {offset} / 7
        UNION ALL
        SELECT 'h', NULL, {horizon} / 7, '', 0, COUNT(*) FROM f GROUP BY {horizon} / 7""",
        params,
    )
    for tag, week, k, outcome, billable, count in rows:
        if tag == "w":
            key = (as_date(week), outcome)
            result.weekly[key] = result.weekly.get(key, 0) + count
            if billable:
                result.billable[key] = result.billable.get(key, 0) + count
        elif tag == "s":
            result.successes[as_date(week)] = count
        elif tag == "r":
            result.retained[int(k)] = count
        else:
            result.horizons[int(k)] = count
    # The sector of the job placement active in the status' week (the latest started, if several): one
    # join of the contract's paid statuses with its job placements, ranked per status.
    rows = _fetch(
        f"""WITH w AS (
            SELECT ws.id, ws.candidate_id, ws.week, ws.outcome
            FROM candidates_weeklystatus ws JOIN candidates_candidate c ON c.id = ws.candidate_id
            WHERE c.contract_id = %(contract)s AND ws.outcome IN ('partial', 'full')
              AND ws.week >= %(first)s AND ws.week <= %(through)s
        ),
        jp AS (
            SELECT p.id, p.candidate_id, p.start, p."end", COALESCE(NULLIF(j.sector, ''), e.sector, '') AS sector
            FROM placements_placement p
            JOIN placements_job j ON j.id = p.job_id
            JOIN placements_employer e ON e.id = j.employer_id
            JOIN candidates_candidate c ON c.id = p.candidate_id
            WHERE c.contract_id = %(contract)s
        ),
        m AS (
            SELECT w.outcome, jp.sector,
                   ROW_NUMBER() OVER (PARTITION BY w.id ORDER BY jp.start DESC, jp.id DESC) AS n
            FROM w LEFT JOIN jp ON jp.candidate_id = w.candidate_id AND jp.start <= {plus_days("w.week", 6)}
                                AND (jp."end" IS NULL OR jp."end" >= w.week)
        )
        SELECT COALESCE(sector, ''), outcome, COUNT(*) FROM m WHERE n = 1 GROUP BY 1, 2""",
        params,
    )
    result.sectors = {(sector or "", outcome): count for sector, outcome, count in rows}
    return result


@dataclass
class Enrolment:
    referred: int
    enrolled: int
    # week of enrolment -> candidates enrolled that week
    by_week: dict[date, int]

    def enrolled_through(self, week: date) -> int:
        return sum(n for w, n in self.by_week.items() if w <= week)


def enrolment(*, contract: Contract) -> Enrolment:
    rows = (
        Candidate.objects.filter(contract=contract)
        .order_by()
        .values("enrolled_on")
        .annotate(n=Count("id"))
        .values_list("enrolled_on", "n")
    )
    by_week: dict[date, int] = defaultdict(int)
    referred = enrolled = 0
    for enrolled_on, n in rows:
        referred += n
        if enrolled_on is not None:
            enrolled += n
            by_week[weeks.week_of(enrolled_on)] += n
    return Enrolment(referred=referred, enrolled=enrolled, by_week=dict(by_week))


@dataclass
class Money:
    """The contract's money, grouped by day: documents, municipal payments, capital disbursements."""

    invoiced_by_day: dict[date, Decimal]
    subtotal_invoiced: Decimal
    paid_by_day: dict[date, Decimal]
    disbursed_by_day: dict[date, Decimal]
    committed: Decimal
    # organisation name, kind, committed, disbursed
    investors: list[tuple[str, str, Decimal, Decimal]]
    # (day, contract investor) -> amount disbursed
    disbursements: dict[tuple[date, ContractInvestor], Decimal]
    # Mean weeks from a document's week to the municipal payment of it, weighted by amount (None: no payment).
    payment_lag_weeks: float | None

    @property
    def invoiced(self) -> Decimal:
        return sum(self.invoiced_by_day.values(), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum(self.paid_by_day.values(), ZERO)

    @property
    def disbursed(self) -> Decimal:
        return sum(self.disbursed_by_day.values(), ZERO)


def money(*, contract: Contract) -> Money:
    invoiced_by_day: dict[date, Decimal] = {}
    subtotal = ZERO
    for issue_date, total, sub in (
        Document.objects.filter(contract=contract)
        .order_by()
        .values("issue_date")
        .annotate(total=Sum("total"), sub=Sum("subtotal"))
        .values_list("issue_date", "total", "sub")
    ):
        invoiced_by_day[issue_date] = Decimal(total)
        subtotal += Decimal(sub)
    lag = _fetch(
        f"""SELECT SUM(p.amount * {days_between("p.paid_on", "d.week")}), SUM(p.amount)
        FROM billing_payment p JOIN billing_document d ON d.id = p.document_id
        WHERE d.contract_id = %(contract)s""",
        {"contract": contract.pk},
    )[0]
    paid_by_day = {
        day: Decimal(amount)
        for day, amount in Payment.objects.filter(document__contract=contract)
        .order_by()
        .values("paid_on")
        .annotate(amount=Sum("amount"))
        .values_list("paid_on", "amount")
    }
    disbursed_by_day: dict[date, Decimal] = defaultdict(lambda: ZERO)
    disbursed_by_investor: dict[int, Decimal] = defaultdict(lambda: ZERO)
    by_day_investor: dict[tuple[date, int], Decimal] = {}
    for day, investor_id, amount in (
        CapitalDisbursement.objects.filter(contract=contract)
        .order_by()
        .values("disbursed_on", "investor_id")
        .annotate(amount=Sum("amount"))
        .values_list("disbursed_on", "investor_id", "amount")
    ):
        disbursed_by_day[day] += Decimal(amount)
        disbursed_by_investor[investor_id] += Decimal(amount)
        by_day_investor[(day, investor_id)] = Decimal(amount)
    contract_investors = {
        investor.pk: investor
        for investor in ContractInvestor.objects.filter(contract=contract)
        .select_related("organisation")
        .order_by("organisation__name")
    }
    investors = [
        (investor.organisation.name, investor.kind, investor.committed, disbursed_by_investor.get(investor.pk, ZERO))
        for investor in contract_investors.values()
    ]
    return Money(
        invoiced_by_day=invoiced_by_day,
        subtotal_invoiced=subtotal,
        paid_by_day=paid_by_day,
        disbursed_by_day=dict(disbursed_by_day),
        committed=sum((i[2] for i in investors), ZERO),
        investors=investors,
        disbursements={(day, contract_investors[i]): a for (day, i), a in sorted(by_day_investor.items())},
        payment_lag_weeks=float(lag[0]) / float(lag[1]) / 7.0 if lag[1] else None,
    )


def rate_cards(*, contract: Contract) -> list[RateCardVersion]:
    return list(RateCardVersion.objects.filter(contract=contract).order_by("effective_from"))


def benefit_rates() -> dict[int, BenefitRate]:
    return {rate.year: rate for rate in BenefitRate.objects.all()}


@dataclass
class SimulationBase:
    """What the simulator starts from at week `start`: the candidates who may still be paid, by enrolment week."""

    # enrolment week -> enrolled, not withdrawn, not yet succeeded, still in their window at `start`
    open_pool: dict[date, int]
    # enrolment week -> billable (paid) in the week before `start`: their spell goes on
    active_pool: dict[date, int]
    # mean weeks from enrolment to the first paid week, over candidates who succeeded (None: nobody yet)
    mean_weeks_to_first_paid: float | None
    # mean billable weeks per succeeded candidate
    mean_paid_weeks: float | None


def _candidate_paths_sql(contract: Contract) -> str:
    """CTE `f`: per candidate with a billable week, the first one, how many, success (B13), paid in %(through)s."""
    return f"""WITH {statuses_cte(contract)},
        b AS (SELECT candidate_id, week, ROW_NUMBER() OVER (PARTITION BY candidate_id ORDER BY week) AS n
              FROM s WHERE billable = 1),
        f AS (SELECT candidate_id, MIN(week) AS first_paid, COUNT(*) AS paid_weeks,
                     MAX(CASE WHEN n = %(min_weeks)s THEN 1 ELSE 0 END) AS succeeded,
                     MAX(CASE WHEN week = %(through)s THEN 1 ELSE 0 END) AS active
              FROM b GROUP BY candidate_id)"""


def simulation_base(*, contract: Contract, start: date, calibrate_through: date) -> SimulationBase:
    """One grouped query for the calibration (all data up to `calibrate_through`) and, when the projection
    starts after the first week, one for the pools at `start`."""
    enrolled_week = weeks_sql_monday("c.enrolled_on")
    to_first = days_between("f.first_paid", enrolled_week)
    params = {**_params(contract, calibrate_through), "min_weeks": contract.success_min_weeks}
    total_first, succeeded, paid_weeks = _fetch(
        f"""{_candidate_paths_sql(contract)}
        SELECT SUM(CASE WHEN f.succeeded = 1 THEN {to_first} ELSE 0 END), SUM(f.succeeded),
               SUM(CASE WHEN f.succeeded = 1 THEN f.paid_weeks ELSE 0 END)
        FROM f JOIN candidates_candidate c ON c.id = f.candidate_id""",
        params,
    )[0]
    mean_first = mean_paid = None
    if succeeded:
        mean_first = float(total_first) / float(succeeded) / 7.0
        mean_paid = float(paid_weeks) / float(succeeded)
    open_pool: dict[date, int] = {}
    active_pool: dict[date, int] = {}
    if start > contract.first_week:
        params = {**_params(contract, start - timedelta(weeks=1)), "min_weeks": contract.success_min_weeks}
        rows = _fetch(
            f"""{_candidate_paths_sql(contract)}
            SELECT 'active', {enrolled_week}, COUNT(*)
            FROM f JOIN candidates_candidate c ON c.id = f.candidate_id
            WHERE f.active = 1 GROUP BY {enrolled_week}
            UNION ALL
            SELECT 'open', {enrolled_week}, COUNT(*)
            FROM candidates_candidate c LEFT JOIN f ON f.candidate_id = c.id
            WHERE c.contract_id = %(contract)s AND c.enrolled_on IS NOT NULL AND c.enrolled_on <= %(through)s
              AND (c.withdrawn_on IS NULL OR c.withdrawn_on > %(through)s)
              AND COALESCE(f.succeeded, 0) = 0 AND COALESCE(f.active, 0) = 0
            GROUP BY {enrolled_week}""",
            params,
        )
        window = timedelta(weeks=contract.candidate_window_weeks)
        for kind, week, count in rows:
            enrolled_monday = as_date(week)
            if enrolled_monday + window <= start:
                continue  # their window has closed: nothing more can be paid for them
            (active_pool if kind == "active" else open_pool)[enrolled_monday] = int(count)
    return SimulationBase(
        open_pool=open_pool, active_pool=active_pool, mean_weeks_to_first_paid=mean_first, mean_paid_weeks=mean_paid
    )


def weeks_sql_monday(column: str) -> str:
    """SQL for the Monday of the week of a date column (as the engine computes it)."""
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('week', {column}) AS date)"
    return f"date({column}, 'weekday 0', '-6 days')"
