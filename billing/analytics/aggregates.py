"""The dashboard's status figures, precomputed per contract and settled week so that a page reads a few
hundred rows instead of every weekly status.

What is stored (billing.models): per week the recorded and billable (B1) outcomes, the candidates who
succeed (B13) and those first paid that week; retention counts by weeks after the first paid week; the
sector mix per week; per candidate the first paid week and the billable weeks counted up to those needed
for success, which is all the next week needs to know about a candidate's past.

One SQL text computes the figures of a range of weeks from those per-candidate facts at its start, and
serves three uses, so they cannot drift apart:
- settling a week adds that week (`dashboard_aggregates_refresh`, called in the settlement transaction);
- a rebuild computes every settled week from empty facts (after a correction of a settled week);
- the dashboard adds the weeks after the last aggregated one (the unsettled tail, one or two weeks in a
  running contract) live, and computes everything live while the aggregates are stale.
Staleness is marked by database triggers (billing/triggers.py, migration 0009), so the figures are exact
whichever path wrote the data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from billing.analytics.selectors import (
    SimulationBase,
    StatusAggregates,
    _fetch,
    _params,
    as_date,
    days_between,
    plus_days,
    reference_week,
    simulation_base,
    weeks_sql_monday,
)
from billing.models import (
    CandidatePaidAggregate,
    ContractRetentionAggregate,
    ContractSectorAggregate,
    ContractWeekAggregate,
    DashboardAggregateState,
)
from billing.services.settlement import date_param, statuses_cte
from organisations.models import Contract

TEMP_TABLE = "sib_dashboard_statuses"
OUTCOMES = ("full", "partial", "education")
# Columns of a week's row, in the order the SQL below yields them.
# Provisional figures of the unsettled weeks older than this are recomputed when a dashboard shows them.
PROVISIONAL_MAX_AGE = timedelta(minutes=5)
# Unsettled weeks beyond this many are not precomputed (a running contract has one or two).
PROVISIONAL_MAX_WEEKS = 8
# A dashboard queues at most one refresh of a contract per this many seconds (the cache remembers).
ENQUEUE_DEBOUNCE_SECONDS = 60
WEEK_COLUMNS = (
    "full",
    "partial",
    "education",
    "billable_full",
    "billable_partial",
    "billable_education",
    "successes",
    "first_paid",
)


def _paid_statuses_ctes(contract: Contract) -> str:
    """CTEs ending in `t`: the contract's statuses with a paid outcome in weeks %(start)s..%(through)s (and
    from the first week), with whether each is billable (B1): the only statuses any dashboard figure counts."""
    return f"""{statuses_cte(contract, from_start=True)},
        t AS (
            SELECT candidate_id, week, outcome, billable FROM s
            WHERE outcome IN ('partial', 'full', 'education') AND week >= %(first)s
        )"""


def _figures_ctes(t: str) -> str:
    """CTEs for _FIGURES over relation `t` (the paid statuses of one range of weeks), given the per-candidate
    facts at the range's start (`p`; none when %(with_state)s = 0)."""
    return f"""p AS (
            SELECT candidate_id, first_paid, paid_weeks FROM billing_candidatepaidaggregate
            WHERE contract_id = %(contract)s AND %(with_state)s = 1
        ),
        b AS (
            SELECT t.candidate_id, t.week, p.first_paid AS known_first,
                   COALESCE(p.paid_weeks, 0) + ROW_NUMBER() OVER (PARTITION BY t.candidate_id ORDER BY t.week) AS n
            FROM {t} t LEFT JOIN p ON p.candidate_id = t.candidate_id
            WHERE t.billable = 1
        ),
        f AS (SELECT candidate_id, MIN(week) AS first_paid FROM b WHERE known_first IS NULL GROUP BY candidate_id),
        firsts AS (
            SELECT candidate_id, first_paid FROM p
            UNION ALL SELECT candidate_id, first_paid FROM f
        )"""


def _figures_select(t: str) -> str:
    """Rows (tag, week, weeks_after, 8 counts) of the range. 'W' rows: per week the WEEK_COLUMNS (a week
    may come in several rows: add them up); 'R' rows: retention counts by weeks after the first paid week."""
    offset = days_between("tt.week", "firsts.first_paid")
    return f"""SELECT 'W' AS tag, week, 0 AS k,
               SUM(CASE WHEN outcome = 'full' THEN 1 ELSE 0 END),
               SUM(CASE WHEN outcome = 'partial' THEN 1 ELSE 0 END),
               SUM(CASE WHEN outcome = 'education' THEN 1 ELSE 0 END),
               SUM(CASE WHEN outcome = 'full' THEN billable ELSE 0 END),
               SUM(CASE WHEN outcome = 'partial' THEN billable ELSE 0 END),
               SUM(CASE WHEN outcome = 'education' THEN billable ELSE 0 END),
               0, 0
        FROM {t} tt GROUP BY week
        UNION ALL
        SELECT 'W', week, 0, 0, 0, 0, 0, 0, 0, COUNT(*), 0 FROM b WHERE n = %(min_weeks)s GROUP BY week
        UNION ALL
        SELECT 'W', first_paid, 0, 0, 0, 0, 0, 0, 0, 0, COUNT(*) FROM f GROUP BY first_paid
        UNION ALL
        SELECT 'R', NULL, {offset} / 7, COUNT(*), 0, 0, 0, 0, 0, 0, 0
        FROM {t} tt JOIN firsts ON firsts.candidate_id = tt.candidate_id
        WHERE tt.week >= firsts.first_paid
        GROUP BY {offset} / 7"""


def _stored_sql() -> str:
    return f"""SELECT 'W' AS tag, week, 0 AS k, {", ".join(f'"{column}"' for column in WEEK_COLUMNS)}
        FROM billing_contractweekaggregate WHERE contract_id = %(contract)s
        UNION ALL
        SELECT 'R', NULL, weeks_after, candidates, 0, 0, 0, 0, 0, 0, 0
        FROM billing_contractretentionaggregate WHERE contract_id = %(contract)s"""


def _sectors_ctes() -> str:
    """CTEs ending in `m`: paid candidate-weeks (partial, full) of weeks %(sectors_from)s..%(through)s with
    the sector of the job placement active that week (n = 1: the latest started, if several)."""
    return f"""w AS (
            SELECT ws.id, ws.candidate_id, ws.week, ws.outcome
            FROM candidates_weeklystatus ws JOIN candidates_candidate c ON c.id = ws.candidate_id
            WHERE c.contract_id = %(contract)s AND ws.outcome IN ('partial', 'full')
              AND ws.week >= %(first)s AND ws.week >= %(sectors_from)s AND ws.week <= %(through)s
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
            SELECT w.week, w.outcome, COALESCE(jp.sector, '') AS sector,
                   ROW_NUMBER() OVER (PARTITION BY w.id ORDER BY jp.start DESC, jp.id DESC) AS n
            FROM w LEFT JOIN jp ON jp.candidate_id = w.candidate_id AND jp.start <= {plus_days("w.week", 6)}
                                AND (jp."end" IS NULL OR jp."end" >= w.week)
        )"""


@dataclass
class _Figures:
    """Figures of a range of weeks (or of the stored aggregates), as Python sums."""

    weeks: dict[date, list[int]]
    retained: dict[int, int]


def _collect(rows: list[tuple[Any, ...]], into: _Figures | None = None) -> _Figures:
    figures = into or _Figures(weeks={}, retained={})
    for tag, week, k, *counts in rows:
        if tag == "W":
            sums = figures.weeks.setdefault(as_date(week), [0] * len(WEEK_COLUMNS))
            for index, count in enumerate(counts):
                sums[index] += int(count or 0)
        else:
            figures.retained[int(k)] = figures.retained.get(int(k), 0) + int(counts[0])
    return figures


def _range_params(contract: Contract, *, start: date, through: date, with_state: bool) -> dict[str, Any]:
    return {
        **_params(contract, through),
        "start": date_param(start),
        "min_weeks": contract.success_min_weeks,
        "with_state": 1 if with_state else 0,
    }


# --- reading: what the dashboard calls --------------------------------------------------------------------


def _usable(state: DashboardAggregateState | None, contract: Contract) -> bool:
    return state is not None and not state.stale and state.success_min_weeks == contract.success_min_weeks


def _tail_figures(
    contract: Contract, *, start: date, through: date, sectors_from: date, with_state: bool
) -> tuple[_Figures, dict[tuple[str, str], int]]:
    """Weeks start..through computed live from their statuses (with the per-candidate facts at `start` when
    `with_state`), and the sector mix of weeks sectors_from..through: two queries."""
    params = {
        **_range_params(contract, start=start, through=through, with_state=with_state),
        "sectors_from": date_param(sectors_from),
    }
    figures = _collect(
        _fetch(f"WITH {_paid_statuses_ctes(contract)}, {_figures_ctes('t')}\n{_figures_select('t')}", params)
    )
    sectors: dict[tuple[str, str], int] = defaultdict(int)
    sql = f"WITH {_sectors_ctes()}\nSELECT sector, outcome, COUNT(*) FROM m WHERE n = 1 GROUP BY sector, outcome"
    for sector, outcome, count in _fetch(sql, params):
        sectors[(sector or "", outcome)] += int(count)
    return figures, sectors


def _provisional(state: DashboardAggregateState, *, start: date, through: date) -> _Figures | None:
    """The stored provisional figures of weeks start..through, if that is the range they were computed for."""
    data = state.provisional_figures
    if state.provisional_through != through or not data or data.get("start") != start.isoformat():
        return None
    return _Figures(
        weeks={date.fromisoformat(week): list(counts) for week, counts in data["weeks"].items()},
        retained={int(k): int(n) for k, n in data["retained"].items()},
    )


def _provisional_behind(
    contract: Contract, state: DashboardAggregateState, provisional: _Figures | None, *, start: date, through: date
) -> bool:
    """Would a refresh bring the provisional figures of weeks start..through up to date? Yes when they are
    older than PROVISIONAL_MAX_AGE, or missing for this week (a new week began, the stored weeks moved on);
    not for a past week (a refresh computes up to this week), nor past PROVISIONAL_MAX_WEEKS."""
    if provisional is not None:
        return state.provisional_at is None or timezone.now() - state.provisional_at > PROVISIONAL_MAX_AGE
    if through != reference_week(contract) or through > start + timedelta(weeks=PROVISIONAL_MAX_WEEKS - 1):
        return False  # a refresh computes this week's, and no more than PROVISIONAL_MAX_WEEKS
    data = state.provisional_figures or {}
    return (
        state.provisional_through is None
        or state.provisional_through < through
        or data.get("start") != start.isoformat()
    )


def dashboard_status_aggregates(*, contract: Contract, through: date) -> StatusAggregates:
    """The dashboard's status figures up to `through`: the stored aggregates of the settled weeks plus the
    unsettled weeks after them, from their provisional figures (computed in the background, shown with
    their time) or else computed live; everything live when the aggregates are missing, stale or reach
    past `through`. Three queries, whatever the contract's size."""
    state = DashboardAggregateState.objects.filter(contract=contract).first()
    usable = _usable(state, contract) and state is not None and state.through <= through
    tail_start = contract.first_week
    sectors_from = contract.first_week
    provisional: _Figures | None = None
    if usable and state is not None:
        tail_start = state.through + timedelta(weeks=1)
        sectors_from = min(tail_start, max(contract.first_week, state.sectors_stale_from or tail_start))
        if tail_start <= through:
            provisional = _provisional(state, start=tail_start, through=through)
    params = {
        **_range_params(contract, start=tail_start, through=through, with_state=usable),
        "sectors_from": date_param(sectors_from),
    }
    stored = [_stored_sql()] if usable else []
    if tail_start <= through and provisional is None:
        sql = f"WITH {_paid_statuses_ctes(contract)}, {_figures_ctes('t')}\n" + "\nUNION ALL\n".join(
            [*stored, _figures_select("t")]
        )
    else:
        sql = stored[0]
    figures = _collect(_fetch(sql, params))
    if provisional is not None:
        for week, counts in provisional.weeks.items():
            figures.weeks[week] = counts
        for k, n in provisional.retained.items():
            figures.retained[k] = figures.retained.get(k, 0) + n

    stored_sectors = (
        [
            "SELECT sector, outcome, SUM(weeks) FROM billing_contractsectoraggregate "
            "WHERE contract_id = %(contract)s AND week < %(sectors_from)s GROUP BY sector, outcome"
        ]
        if usable
        else []
    )
    sectors: dict[tuple[str, str], int] = defaultdict(int)
    # The provisional sector mix holds while the stored one is current up to it.
    provisional_sectors = provisional is not None and sectors_from == tail_start and state is not None
    if sectors_from <= through and not provisional_sectors:
        sql = f"WITH {_sectors_ctes()}\n" + "\nUNION ALL\n".join(
            [*stored_sectors, "SELECT sector, outcome, COUNT(*) FROM m WHERE n = 1 GROUP BY sector, outcome"]
        )
    else:
        sql = stored_sectors[0]
    for sector, outcome, count in _fetch(sql, params):
        sectors[(sector or "", outcome)] += int(count)
    if provisional_sectors and state is not None and state.provisional_figures is not None:
        for sector, outcome, count in state.provisional_figures["sectors"]:
            sectors[(sector, outcome)] += int(count)

    provisional_old = (
        usable
        and tail_start <= through
        and state is not None
        and _provisional_behind(contract, state, provisional, start=tail_start, through=through)
    )
    result = StatusAggregates(
        refresh_due=contract.settled_through is not None
        and (
            not _usable(state, contract)
            or state is None
            or state.through != contract.settled_through
            or state.sectors_stale_from is not None
            or bool(provisional_old)
        )
    )
    if provisional is not None and state is not None:
        result.provisional_from, result.provisional_at = tail_start, state.provisional_at
    for week, counts in sorted(figures.weeks.items()):
        for index, outcome in enumerate(OUTCOMES):
            if counts[index]:
                result.weekly[(week, outcome)] = counts[index]
            if counts[3 + index]:
                result.billable[(week, outcome)] = counts[3 + index]
        if counts[6]:
            result.successes[week] = counts[6]
        if counts[7]:
            horizon = (through - week).days // 7
            result.horizons[horizon] = result.horizons.get(horizon, 0) + counts[7]
    result.retained = {k: n for k, n in sorted(figures.retained.items()) if n}
    result.sectors = {key: n for key, n in sectors.items() if n}
    return result


# --- the simulator's starting point -----------------------------------------------------------------------


def _facts_ctes(contract: Contract) -> str:
    """CTEs ending in `f`: per candidate with a billable week up to %(at)s, the first one, the billable weeks
    (exact below %(min_weeks)s, at least that many otherwise) and whether paid in week %(at)s; from the
    stored per-candidate facts at %(state_through)s plus the statuses of the weeks after it (and of %(at)s)."""
    return f"""{statuses_cte(contract, from_start=True)},
        tb AS (
            SELECT candidate_id, week FROM s WHERE billable = 1 AND week > %(state_through)s
        ),
        u AS (
            SELECT candidate_id, first_paid, paid_weeks AS n, 0 AS active FROM billing_candidatepaidaggregate
            WHERE contract_id = %(contract)s
            UNION ALL
            SELECT candidate_id, MIN(week), COUNT(*), 0 FROM tb GROUP BY candidate_id
            UNION ALL
            SELECT candidate_id, NULL, 0, 1 FROM s WHERE billable = 1 AND week = %(at)s
        ),
        f AS (
            SELECT candidate_id, MIN(first_paid) AS first_paid, SUM(n) AS n, MAX(active) AS active
            FROM u GROUP BY candidate_id
        )"""


def _facts_params(contract: Contract, *, state: DashboardAggregateState, at: date) -> dict[str, Any]:
    return {
        **_params(contract, at),
        "start": date_param(min(at, state.through + timedelta(weeks=1))),
        "state_through": date_param(state.through),
        "at": date_param(at),
        "min_weeks": contract.success_min_weeks,
    }


def simulation_base_from_aggregates(*, contract: Contract, start: date, calibrate_through: date) -> SimulationBase:
    """The simulator's starting point (selectors.simulation_base) from the stored aggregates and the
    statuses of the unsettled weeks only; the live computation where the aggregates do not serve (stale,
    missing, or past the weeks asked about). Three queries."""
    state = DashboardAggregateState.objects.filter(contract=contract).first()
    if state is None or not _usable(state, contract) or state.through > calibrate_through:
        return simulation_base(contract=contract, start=start, calibrate_through=calibrate_through)
    if start > contract.first_week and state.through > start - timedelta(weeks=1):
        return simulation_base(contract=contract, start=start, calibrate_through=calibrate_through)
    stored = _provisional_simulation_base(contract, state, start=start, calibrate_through=calibrate_through)
    return stored or _simulation_base(contract, state, start=start, calibrate_through=calibrate_through)


def _provisional_simulation_base(
    contract: Contract, state: DashboardAggregateState, *, start: date, calibrate_through: date
) -> SimulationBase | None:
    """The starting point the refresh stored with the provisional figures (this week's, from this week on,
    or the calibration alone from the first week), if that is what is asked."""
    tail_start = state.through + timedelta(weeks=1)
    data = state.provisional_figures or {}
    stored = data.get("simulation")
    if stored is None or _provisional(state, start=tail_start, through=calibrate_through) is None:
        return None
    if start == contract.first_week:
        pools: dict[str, dict[str, int]] = {"open_pool": {}, "active_pool": {}}
    elif start == calibrate_through:
        pools = stored
    else:
        return None
    return SimulationBase(
        open_pool={date.fromisoformat(week): n for week, n in pools["open_pool"].items()},
        active_pool={date.fromisoformat(week): n for week, n in pools["active_pool"].items()},
        mean_weeks_to_first_paid=stored["mean_weeks_to_first_paid"],
        mean_paid_weeks=stored["mean_paid_weeks"],
    )


def _simulation_base(
    contract: Contract, state: DashboardAggregateState, *, start: date, calibrate_through: date
) -> SimulationBase:
    pools_at = start - timedelta(weeks=1)
    enrolled_week = weeks_sql_monday("c.enrolled_on")
    to_first = days_between("f.first_paid", enrolled_week)
    # Billable weeks of the candidates who succeeded: all billable weeks less those of the others, whose
    # count the per-candidate facts hold exactly (they are below the weeks for success).
    total_first, succeeded, others_weeks, tail_weeks, stored_weeks = _fetch(
        f"""WITH {_facts_ctes(contract)}
        SELECT SUM(CASE WHEN f.n >= %(min_weeks)s THEN {to_first} ELSE 0 END),
               SUM(CASE WHEN f.n >= %(min_weeks)s THEN 1 ELSE 0 END),
               SUM(CASE WHEN f.n < %(min_weeks)s THEN f.n ELSE 0 END),
               (SELECT COUNT(*) FROM tb),
               (SELECT SUM(billable_full + billable_partial + billable_education) FROM billing_contractweekaggregate
                WHERE contract_id = %(contract)s AND week <= %(state_through)s)
        FROM f JOIN candidates_candidate c ON c.id = f.candidate_id""",
        _facts_params(contract, state=state, at=calibrate_through),
    )[0]
    mean_first = mean_paid = None
    if succeeded:
        paid_weeks = int(stored_weeks or 0) + int(tail_weeks or 0) - int(others_weeks or 0)
        mean_first = float(total_first) / float(succeeded) / 7.0
        mean_paid = float(paid_weeks) / float(succeeded)
    open_pool: dict[date, int] = {}
    active_pool: dict[date, int] = {}
    if start > contract.first_week:
        rows = _fetch(
            f"""WITH {_facts_ctes(contract)}
            SELECT 'active', {enrolled_week}, COUNT(*)
            FROM f JOIN candidates_candidate c ON c.id = f.candidate_id
            WHERE f.active = 1 GROUP BY {enrolled_week}
            UNION ALL
            SELECT 'open', {enrolled_week}, COUNT(*)
            FROM candidates_candidate c LEFT JOIN f ON f.candidate_id = c.id
            WHERE c.contract_id = %(contract)s AND c.enrolled_on IS NOT NULL AND c.enrolled_on <= %(through)s
              AND (c.withdrawn_on IS NULL OR c.withdrawn_on > %(through)s)
              AND COALESCE(f.n, 0) < %(min_weeks)s AND COALESCE(f.active, 0) = 0
            GROUP BY {enrolled_week}""",
            _facts_params(contract, state=state, at=pools_at),
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


# --- writing: at settlement, and the rebuild ----------------------------------------------------------------


def _fill_temp_table(contract: Contract, *, start: date, through: date) -> None:
    params = _range_params(contract, start=start, through=through, with_state=False)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TEMP_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {TEMP_TABLE} AS WITH {_paid_statuses_ctes(contract)} SELECT * FROM t", params
        )


def _store(contract: Contract, *, start: date, through: date, with_state: bool) -> None:
    """Add the figures of weeks start..through (their paid statuses in the temporary table) to the stored
    ones. With `with_state` the range is one week following the stored ones; without, the first weeks."""
    params = _range_params(contract, start=start, through=through, with_state=with_state)
    figures = _collect(_fetch(f"WITH {_figures_ctes(TEMP_TABLE)}\n{_figures_select(TEMP_TABLE)}", params))
    ContractWeekAggregate.objects.filter(contract=contract, week__gte=start).delete()
    ContractWeekAggregate.objects.bulk_create(
        [
            ContractWeekAggregate(contract=contract, week=week, **dict(zip(WEEK_COLUMNS, counts, strict=True)))
            for week, counts in sorted(figures.weeks.items())
        ]
    )
    retention = dict(
        ContractRetentionAggregate.objects.filter(contract=contract).values_list("weeks_after", "candidates")
    )
    for k, n in figures.retained.items():
        retention[k] = retention.get(k, 0) + n
    ContractRetentionAggregate.objects.filter(contract=contract).delete()
    ContractRetentionAggregate.objects.bulk_create(
        [
            ContractRetentionAggregate(contract=contract, weeks_after=k, candidates=n)
            for k, n in sorted(retention.items())
        ]
    )
    # The per-candidate facts move to the end of the range (read above as they were at its start).
    with connection.cursor() as cursor:
        if with_state:
            assert start == through, "an incremental refresh adds one week"
            cursor.execute(
                f"""UPDATE billing_candidatepaidaggregate SET paid_weeks = paid_weeks + 1
                WHERE contract_id = %(contract)s AND paid_weeks < %(min_weeks)s
                  AND candidate_id IN (SELECT candidate_id FROM {TEMP_TABLE} WHERE billable = 1)""",
                params,
            )
        cursor.execute(
            f"""INSERT INTO billing_candidatepaidaggregate (candidate_id, contract_id, first_paid, paid_weeks)
            SELECT candidate_id, %(contract)s, MIN(week),
                   CASE WHEN COUNT(*) < %(min_weeks)s THEN COUNT(*) ELSE %(min_weeks)s END
            FROM {TEMP_TABLE} t WHERE billable = 1 AND NOT EXISTS (
                SELECT 1 FROM billing_candidatepaidaggregate p WHERE p.candidate_id = t.candidate_id
            )
            GROUP BY candidate_id""",
            params,
        )
        cursor.execute(f"DROP TABLE {TEMP_TABLE}")


def _store_sectors(contract: Contract, *, start: date, through: date) -> None:
    ContractSectorAggregate.objects.filter(contract=contract, week__gte=start).delete()
    params = {**_params(contract, through), "sectors_from": date_param(start)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO billing_contractsectoraggregate (contract_id, week, sector, outcome, weeks)
            WITH {_sectors_ctes()}
            SELECT %(contract)s, week, sector, outcome, COUNT(*) FROM m WHERE n = 1 GROUP BY week, sector, outcome""",
            params,
        )


def _save_state(contract: Contract, *, through: date) -> None:
    DashboardAggregateState.objects.update_or_create(
        contract=contract,
        defaults={
            "through": through,
            "success_min_weeks": contract.success_min_weeks,
            "stale": False,
            "sectors_stale_from": None,
            "refreshed_at": timezone.now(),
            "provisional_through": None,
            "provisional_figures": None,
            "provisional_at": None,
        },
    )


def _store_provisional(contract: Contract, *, through: date) -> None:
    """Compute the unsettled weeks after the stored ones up to this week and keep them as provisional."""
    until = reference_week(contract)
    start = through + timedelta(weeks=1)
    values: dict[str, Any] = {"provisional_through": None, "provisional_figures": None, "provisional_at": None}
    # Longer tails come from a settlement catching up (or a contract settled long ago and left): the next
    # refresh will have less to do, and a dashboard meanwhile computes them live.
    if start <= until <= start + timedelta(weeks=PROVISIONAL_MAX_WEEKS - 1):
        computed_at = timezone.now()
        figures, sectors = _tail_figures(contract, start=start, through=until, sectors_from=start, with_state=True)
        state = DashboardAggregateState.objects.get(contract=contract)
        # What the simulator starts from by default (this week), computed from the same stored facts.
        base = _simulation_base(contract, state, start=until, calibrate_through=until)
        values = {
            "provisional_through": until,
            "provisional_figures": {
                "start": start.isoformat(),
                "weeks": {week.isoformat(): counts for week, counts in sorted(figures.weeks.items())},
                "retained": {str(k): n for k, n in sorted(figures.retained.items())},
                "sectors": [[sector, outcome, n] for (sector, outcome), n in sorted(sectors.items())],
                "simulation": {
                    "open_pool": {week.isoformat(): n for week, n in sorted(base.open_pool.items())},
                    "active_pool": {week.isoformat(): n for week, n in sorted(base.active_pool.items())},
                    "mean_weeks_to_first_paid": base.mean_weeks_to_first_paid,
                    "mean_paid_weeks": base.mean_paid_weeks,
                },
            },
            "provisional_at": computed_at,
        }
    # Read against the per-candidate facts at `through`: worthless if the stored weeks moved or went stale.
    DashboardAggregateState.objects.filter(
        contract=contract, through=through, stale=False, success_min_weeks=contract.success_min_weeks
    ).update(**values)


def _rebuild(*, contract: Contract, through: date) -> None:
    for model in (ContractWeekAggregate, ContractRetentionAggregate, ContractSectorAggregate, CandidatePaidAggregate):
        model.objects.filter(contract=contract).delete()
    start = contract.first_week
    if through >= start:
        _fill_temp_table(contract, start=start, through=through)
        _store(contract, start=start, through=through, with_state=False)
        _store_sectors(contract, start=start, through=through)
    _save_state(contract, through=through)


def dashboard_aggregates_refresh(*, contract_id: int) -> str:
    """Bring a contract's aggregates up to its last settled week, then compute the unsettled weeks after
    it up to this week as provisional figures; returns what it did to the settled weeks.

    The usual night adds one week: one pass over that week's statuses. When the aggregates are stale (a
    settled week's input changed), the weeks needed for success changed, or nothing is stored yet, every
    settled week is computed again; a stale sector mix alone is recomputed from where it went stale. The
    contract row is locked for that, as settlement and the engine's triggers lock it, so refreshes,
    settlements and corrections serialise without deadlocks. The provisional figures are computed after
    the lock is released (seconds at 100,000 candidates, which imports and settlement need not wait for)
    and kept only if the stored weeks they follow have not moved meanwhile.
    """
    done, through = _refresh_settled(contract_id=contract_id)
    if through is not None:
        _store_provisional(Contract.objects.get(pk=contract_id), through=through)
    return done


@transaction.atomic
def _refresh_settled(*, contract_id: int) -> tuple[str, date | None]:
    contract = Contract.objects.select_for_update().get(pk=contract_id)
    state = DashboardAggregateState.objects.select_for_update().filter(contract=contract).first()
    through = contract.settled_through
    if through is None:
        return "unsettled", None
    if not _usable(state, contract) or state is None or state.through > through:
        _rebuild(contract=contract, through=through)
        return "rebuilt", through
    if state.through == through and state.sectors_stale_from is None:
        return "fresh", through
    week = state.through + timedelta(weeks=1)
    while week <= through:
        _fill_temp_table(contract, start=week, through=week)
        _store(contract, start=week, through=week, with_state=True)
        week += timedelta(weeks=1)
    sectors_from = state.through + timedelta(weeks=1)
    if state.sectors_stale_from is not None:
        sectors_from = max(contract.first_week, min(sectors_from, state.sectors_stale_from))
    if sectors_from <= through:
        _store_sectors(contract, start=sectors_from, through=through)
    _save_state(contract, through=through)
    return "extended", through


def dashboard_aggregates_enqueue(*, contract_id: int) -> None:
    """Refresh the contract's aggregates in the background once the current transaction commits (called
    at the end of each week's settlement; no query here, so settling costs no more). A broker that cannot
    be reached is logged and never undoes the settlement: the dashboard stays exact meanwhile, computing
    the weeks after the stored ones live."""
    from billing.tasks import dashboard_aggregates_refresh_task

    transaction.on_commit(lambda: dashboard_aggregates_refresh_task.delay(contract_id), robust=True)


def dashboard_aggregates_enqueue_debounced(*, contract_id: int) -> None:
    """What a dashboard calls when its figures are behind: at most one refresh per contract queued per
    ENQUEUE_DEBOUNCE_SECONDS (every investor opening the page meanwhile would queue the same work)."""
    if cache.add(f"sib-dashboard-refresh-{contract_id}", 1, timeout=ENQUEUE_DEBOUNCE_SECONDS):
        dashboard_aggregates_enqueue(contract_id=contract_id)
