"""Benchmarks on PostgreSQL: the app against a hand-written SQL floor doing the same work, in one run.

    make bench                      # 10,000 and 100,000 candidates (three years of weekly statuses)
    BENCH_SIZES=2000 make bench     # a quick run
    BENCH_FANOUT=0 make bench       # without the Celery fan-out measurement
    BENCH_EXTRAS=0 make bench       # without the dashboard, grid and load test modules

Uses the database in BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/sib_bench), which it
drops and recreates for each size (and `<name>_fanout`, `<name>_fanout_tpl` for the fan-out); the fan-out
starts Celery workers on REDIS_URL (default redis://127.0.0.1:6379/0) with their own queue. Prints median
figures and writes bench/RESULTS.md.

Other measurements plug in as modules of this package (bench/dashboard.py, bench/grid.py,
bench/loadtest.py, see EXTRA_MODULES): each defines `bench(context: BenchContext) -> list[Row]`, called
once per size after the engine's measurements, on the generated contract; every Row names the Markdown
table it belongs to, and RESULTS.md gets one table per name, rows in the order they came.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import io
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sib_bench")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
FANOUT = os.environ.get("BENCH_FANOUT", "1") != "0"
EXTRAS = os.environ.get("BENCH_EXTRAS", "1") != "0"  # 0: without the modules of EXTRA_MODULES
WEEKS = 156
FIRST = date(2020, 1, 6)  # 2020-W02
# Settlement and import run "now" = early 2024: every bench week has closed, and the issued documents are
# too old to be e-mailed (an e-mail per document would measure PDF rendering, not settlement).
AS_OF = datetime(2024, 1, 15, 3, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))
EXTRA_MODULES = ["bench.dashboard", "bench.grid", "bench.loadtest"]


@dataclass(frozen=True)
class BenchContext:
    """What an extra benchmark module gets: the generated contract of one size, in a migrated database."""

    size: int  # candidates
    weeks: int  # weekly statuses per candidate
    contract_id: int
    database_url: str
    redis_url: str
    repeat: int


@dataclass(frozen=True)
class Row:
    """One row of a RESULTS.md table: `table` is its heading, `cells` the formatted values by column."""

    table: str
    cells: dict[str, str]


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- helpers -------------------------------------------------------------------------------------------


def database_url(suffix: str = "") -> str:
    return URL + suffix


def admin_connect():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(URL.rsplit("/", 1)[0] + "/postgres", autocommit=True)


def recreate_database(url: str = URL, template: str | None = None) -> None:
    """Drop and create the database of `url`: a copy of `template`, or empty and migrated."""
    name = url.rsplit("/", 1)[1]
    from django.db import connections

    connections.close_all()
    with admin_connect() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    if template is None:
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_LOG_LEVEL": "WARNING"}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    import django

    django.setup()


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def rolled_back(work: Callable[[Any], None]) -> Callable[[], None]:
    """`work(cursor)` in a transaction that checks its deferred constraints (as a commit would), then rolls back."""
    from django.db import connection, transaction

    def run() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            work(cursor)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            transaction.set_rollback(True)

    return run


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


# --- data ----------------------------------------------------------------------------------------------


def _parties() -> tuple[object, object, object]:
    from organisations.models import Organisation

    municipality, _ = Organisation.objects.get_or_create(
        cvr="29189919", defaults={"name": "Bench Kommune", "kind": "municipality", "ean": "5798000000001"}
    )
    operator, _ = Organisation.objects.get_or_create(
        cvr="29189927", defaults={"name": "Bench Operatør", "kind": "operator"}
    )
    investor, _ = Organisation.objects.get_or_create(
        cvr="29189935", defaults={"name": "Bench Fond", "kind": "investor"}
    )
    return municipality, operator, investor


def create_contract(*, code: str) -> int:
    from organisations.models import Contract, RateCardVersion

    municipality, operator, investor = _parties()
    contract = Contract.objects.create(
        code=code,
        name=f"Benchmark {code}",
        municipality=municipality,
        operator=operator,
        payee=investor,
        first_week=FIRST,
        last_week=FIRST + timedelta(weeks=WEEKS - 1),
    )
    RateCardVersion.objects.create(
        contract=contract, effective_from=FIRST, price_full=1200, price_partial=600, price_education=1200
    )
    RateCardVersion.objects.create(
        contract=contract,
        effective_from=FIRST + timedelta(weeks=52),
        price_full=1250,
        price_partial=625,
        price_education=1250,
    )
    return contract.pk


GENERATE_CANDIDATES = """
    INSERT INTO candidates_candidate (contract_id, ref, name, cpr_encrypted, cpr_hash, referred_on, enrolled_on,
                                      withdrawal_reason, notes, created_at)
    SELECT %(contract)s, 'K' || lpad(n::text, 6, '0'), '', '', '', %(referred)s, %(first)s + (n %% 120), '', '', now()
    FROM generate_series(0, %(size)s - 1) AS n
"""
# Outcomes cycle (none, partial, full, education, full, none) by candidate number + week: a third unpaid.
GENERATE_STATUSES = """
    INSERT INTO candidates_weeklystatus (candidate_id, week, outcome, note, recorded_at)
    SELECT c.id, %(first)s + 7 * w,
           (ARRAY['none', 'partial', 'full', 'education', 'full', 'none'])[(substr(c.ref, 2)::int + w) %% 6 + 1],
           '', now()
    FROM candidates_candidate c CROSS JOIN generate_series(0, %(weeks)s - 1) AS w
    WHERE c.contract_id = %(contract)s
    ORDER BY c.id, w
"""


def generate(*, contracts: dict[str, int], weeks: int = WEEKS) -> list[int]:
    """Contracts (code -> candidates) with `weeks` weekly statuses per candidate, generated inside PostgreSQL.

    The weekly status table's secondary indexes are dropped around the load and built again after it
    (one sort per index instead of 15.6 M index insertions), and the load skips triggers and foreign key
    checks (session_replication_role = replica): nothing is settled yet, so the recompute_from
    triggers would mark nothing, and the generated keys are right by construction. Then ANALYZE.
    """
    from django.db import connection

    ids = [create_contract(code=code) for code in contracts]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'candidates_weeklystatus'::regclass AND contype = 'u'"
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'candidates_weeklystatus' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'candidates_weeklystatus'::regclass AND contype IN ('p', 'u'))"
        )
        indexes = cursor.fetchall()
        cursor.execute("SET session_replication_role = replica")
        for name, _definition in constraints:
            cursor.execute(f"ALTER TABLE candidates_weeklystatus DROP CONSTRAINT {name}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        for contract_id, size in zip(ids, contracts.values(), strict=True):
            params = {"contract": contract_id, "size": size, "first": FIRST, "weeks": weeks}
            cursor.execute(GENERATE_CANDIDATES, {**params, "referred": FIRST - timedelta(days=7)})
            cursor.execute(GENERATE_STATUSES, params)
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE candidates_weeklystatus ADD CONSTRAINT {name} {definition}")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("SET session_replication_role = DEFAULT")
        # A database in use is vacuumed and analysed by autovacuum; a freshly loaded one would be vacuumed in the
        # middle of the measurements (minutes of a core, on 15.6 M rows). Do it now, untimed: steady state.
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("CHECKPOINT")
    return ids


# --- settlement ------------------------------------------------------------------------------------------


# The same lines as the engine's document for a week without caps or corrections: every billable status of
# the week, at its rate card price. (No dues of earlier weeks to compare: nothing changed there.)
FLOOR_SETTLE_SQL = """
    WITH rc AS (
        SELECT id, effective_from, LEAD(effective_from) OVER (ORDER BY effective_from) AS effective_to,
               price_full, price_partial, price_education
        FROM organisations_ratecardversion WHERE contract_id = %(contract)s
    )
    INSERT INTO billing_documentline (document_id, candidate_id, week, outcome, rate_card_version_id, price, amount,
                                      adjustment)
    SELECT %(document)s, ws.candidate_id, ws.week, ws.outcome, rc.id, p.price, p.price, false
    FROM candidates_weeklystatus ws
    JOIN candidates_candidate c ON c.id = ws.candidate_id
    JOIN rc ON ws.week >= rc.effective_from AND (rc.effective_to IS NULL OR ws.week < rc.effective_to)
    CROSS JOIN LATERAL (SELECT CASE ws.outcome WHEN 'partial' THEN rc.price_partial WHEN 'full' THEN rc.price_full
                                               ELSE rc.price_education END AS price) p
    WHERE c.contract_id = %(contract)s AND ws.week = %(week)s AND ws.outcome <> 'none'
      AND c.enrolled_on IS NOT NULL AND ws.week >= date_trunc('week', c.enrolled_on)::date
      AND ws.week < date_trunc('week', c.enrolled_on)::date + 7 * 156
      AND (c.withdrawn_on IS NULL OR ws.week <= c.withdrawn_on)
"""


def bench_settlement(contract_id: int) -> dict[str, float]:
    """Catch up 52 weeks, then settle single weeks (engine) against the SQL floor for the same week."""

    from billing.models import Document
    from billing.services.settlement import next_week_to_settle, settle_next_week
    from organisations.models import Contract

    # The dashboard's aggregates are refreshed by a task queued at each settlement's commit, in a worker
    # (bench/dashboard.py measures it); with the bench's eager Celery it would run inside these timings.
    refresh = mock.patch("billing.analytics.aggregates.dashboard_aggregates_enqueue")
    refresh.start()
    catch_up = timed(lambda: [settle_next_week(contract_id=contract_id, as_of=AS_OF) for _ in range(52)])
    engine_runs, floor_runs = [], []
    for _ in range(REPEAT):
        contract = Contract.objects.get(pk=contract_id)
        week = next_week_to_settle(contract)
        last = Document.objects.filter(contract_id=contract_id).order_by("-seq").first()

        def floor(cursor: Any, last: Document = last, week: date = week) -> None:
            cursor.execute(FLOOR_SETTLE_SQL, {"document": last.pk, "contract": contract_id, "week": week})

        # The lines' foreign keys are checked before the rollback, as the engine's are when it commits.
        floor_runs.append(timed(rolled_back(floor)))
        engine_runs.append(timed(lambda: settle_next_week(contract_id=contract_id, as_of=AS_OF)))
    refresh.stop()
    from billing.tasks import dashboard_aggregates_refresh_task

    dashboard_aggregates_refresh_task(contract_id)  # what the worker would have done, untimed
    return {
        "catch_up_52": catch_up,
        "engine": statistics.median(engine_runs),
        "floor": statistics.median(floor_runs),
    }


# --- import ------------------------------------------------------------------------------------------------

# Floors of an import, each hand-written SQL on the same rows: COPY of the file into a bare table (text columns,
# no index: what COPY costs before anything is stored where the product can use it); COPY of the same rows into
# the status table itself (candidate ids resolved beforehand: the database storing new statuses, with the
# table's indexes, trigger and foreign keys); and COPY followed by the same upsert into the status table, without
# validation, messages or history (what updating stored statuses costs the database).
FLOOR_UPSERT_SQL = """
    INSERT INTO candidates_weeklystatus (candidate_id, week, outcome, hours, note, recorded_at)
    SELECT c.id, to_date(b.week, 'IYYY-"W"IW'), b.outcome, b.hours, '', now()
    FROM bench_import b JOIN candidates_candidate c ON c.contract_id = %(contract)s AND c.ref = b.candidate
    ON CONFLICT (candidate_id, week) DO UPDATE SET outcome = excluded.outcome, hours = excluded.hours,
        recorded_at = excluded.recorded_at
"""


def import_file(contract_id: int, rows: int, *, new_weeks: bool) -> tuple[bytes, bytes, int]:
    """`rows` statuses as the SPEC CSV (every candidate partial, 12.5 h) and the same rows as the status table's
    COPY input. New weeks: the weeks after the contract's last (statuses are kept even where not billable), as
    a weekly upload brings them. Otherwise the contract's last weeks, which are stored and not settled yet:
    each row changes a stored status."""
    from candidates.models import Candidate
    from common import weeks

    candidates = list(Candidate.objects.filter(contract_id=contract_id).order_by("ref").values_list("ref", "pk"))
    per_week = min(len(candidates), rows)
    week_count = max(1, rows // per_week)
    spec, table = io.StringIO(), io.StringIO()
    writer, copy_writer = csv.writer(spec, lineterminator="\n"), csv.writer(table, lineterminator="\n")
    writer.writerow(["candidate", "week", "outcome", "hours"])
    recorded_at = AS_OF.isoformat()
    for w in range(week_count):
        monday = FIRST + timedelta(weeks=WEEKS + w if new_weeks else WEEKS - 1 - w)
        label = weeks.format_week(monday)
        for ref, pk in candidates[:per_week]:
            writer.writerow([ref, label, "partial", "12.5"])
            copy_writer.writerow([pk, monday.isoformat(), "partial", "12.5", "", recorded_at])
    return spec.getvalue().encode(), table.getvalue().encode(), per_week * week_count


def bench_import(contract_id: int, rows: int = 100_000) -> dict[str, float]:
    """Import `rows` statuses through the SPEC CSV, new weeks and corrections (each run rolled back), against
    the floors above in the same run. Every variant checks its deferred constraints before the rollback, as a
    commit would."""

    from candidates.services import weekly_status_import_csv
    from organisations.models import Contract

    contract = Contract.objects.get(pk=contract_id)
    figures: dict[str, float] = {}

    for kind, new_weeks in (("new", True), ("changed", False)):
        content, table_rows, count = import_file(contract_id, rows, new_weeks=new_weeks)

        def app(cursor: Any, content: bytes = content, count: int = count, new_weeks: bool = new_weeks) -> None:
            result = weekly_status_import_csv(contract=contract, content=content, now=AS_OF)
            assert not result.errors, result.errors[:3]
            assert (result.created if new_weeks else result.updated) == count, (result.created, result.updated)

        def bare_copy(cursor: Any, content: bytes = content) -> None:
            cursor.execute("CREATE TEMP TABLE bench_import (candidate text, week text, outcome text, hours numeric)")
            with cursor.connection.cursor().copy("COPY bench_import FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                copy.write(content)

        def copy_into_table(cursor: Any, table_rows: bytes = table_rows) -> None:
            statement = (
                "COPY candidates_weeklystatus (candidate_id, week, outcome, hours, note, recorded_at) "
                "FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (note))"
            )
            with cursor.connection.cursor().copy(statement) as copy:
                copy.write(table_rows)

        def copy_upsert(cursor: Any, content: bytes = content, count: int = count) -> None:
            bare_copy(cursor, content)
            cursor.execute(FLOOR_UPSERT_SQL, {"contract": contract_id})
            assert cursor.rowcount == count

        variants: dict[str, Callable[[Any], None]] = {"app": app, "copy": bare_copy, "upsert": copy_upsert}
        if new_weeks:
            variants["table"] = copy_into_table
        runs: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(REPEAT):  # interleaved, so that a busy moment of the machine hits every variant alike
            for name, work in variants.items():
                runs[name].append(timed(rolled_back(work)))
        figures["rows"] = count
        figures.update({f"{kind} {name}": statistics.median(times) for name, times in runs.items()})
    return figures


# --- fan-out over Celery workers ---------------------------------------------------------------------------

FANOUT_CONTRACTS = 20
FANOUT_CANDIDATES = 2_000
FANOUT_WEEKS = 13  # statuses per candidate: the first 13 weeks, all closed and unsettled


def _start_workers(count: int, queue: str, url: str) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "CELERY_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                queue,
                "-c",
                "1",
                "-P",
                "prefork",
                "-n",
                f"bench{n}-{queue}@%h",
                "-l",
                "warning",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for n in range(count)
    ]


def _stop_workers(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _fanout_run(workers: int, template: str, url: str, expected: int) -> float:
    """Wall time from enqueuing settle_all_contracts to the last settlement committed, on a fresh copy."""
    import psycopg
    from celery import Celery

    recreate_database(url, template=template)
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    processes = _start_workers(workers, queue, url)
    client = Celery(broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
    client.conf.task_default_queue = queue
    try:
        # Wait until every worker answers, so start-up is not measured.
        deadline = time.monotonic() + 120
        while len(client.control.ping(timeout=1.0, destination=None) or []) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError("the Celery workers did not start")
        with psycopg.connect(url, autocommit=True) as conn:
            started = time.perf_counter()
            client.send_task("billing.tasks.settle_all_contracts", args=[AS_OF.isoformat()], queue=queue)
            while conn.execute("SELECT count(*) FROM billing_settlement").fetchone()[0] < expected:
                if time.perf_counter() - started > 1800:
                    raise RuntimeError("the fan-out did not finish within 30 minutes")
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
    finally:
        _stop_workers(processes)
        client.close()
    return elapsed


def bench_fanout() -> dict[str, float]:
    """20 contracts x 2,000 candidates, each with 13 closed unsettled weeks, settled by the nightly task's
    fan-out (one task per contract) with one worker, then with two (each with concurrency 1)."""
    template, url = URL + "_fanout_tpl", URL + "_fanout"
    from django.db import connections

    # Build the template in the main bench database's place, then turn it into a template.
    recreate_database(template)
    connections["default"].settings_dict["NAME"] = template.rsplit("/", 1)[1]
    try:
        generate(contracts={f"FAN{n:02d}": FANOUT_CANDIDATES for n in range(FANOUT_CONTRACTS)}, weeks=FANOUT_WEEKS)
    finally:
        connections.close_all()
        connections["default"].settings_dict["NAME"] = URL.rsplit("/", 1)[1]
    expected = FANOUT_CONTRACTS * FANOUT_WEEKS
    runs: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(REPEAT):  # interleaved, so that a busy moment of the machine hits both alike
        for workers in (1, 2):
            runs[workers].append(_fanout_run(workers, template.rsplit("/", 1)[1], url, expected))
    return {"one": statistics.median(runs[1]), "two": statistics.median(runs[2]), "settlements": expected}


# --- main --------------------------------------------------------------------------------------------------


def extra_benches() -> list[Callable[[BenchContext], list[Row]]]:
    found = []
    for name in EXTRA_MODULES if EXTRAS else []:
        if importlib.util.find_spec(name) is not None:
            found.append(importlib.import_module(name).bench)
    return found


def main() -> None:
    setup_django()
    results = Results()
    for size in SIZES:
        recreate_database()
        started = time.perf_counter()
        (contract_id,) = generate(contracts={f"BENCH{size}": size})
        generated = time.perf_counter() - started
        print(f"[{size:,} candidates] generated {size * WEEKS:,} weekly statuses in {generated:.1f} s", flush=True)
        settle = bench_settlement(contract_id)
        print(
            f"[{size:,}] catch-up of 52 weeks {settle['catch_up_52']:.1f} s; one week: engine {settle['engine']:.2f} s, "
            f"SQL floor {settle['floor']:.2f} s, ratio {settle['engine'] / settle['floor']:.1f}x",
            flush=True,
        )
        imported = bench_import(contract_id)
        print(
            f"[{size:,}] import of {imported['rows']:,} rows of new weeks: app {imported['new app']:.2f} s, COPY into "
            f"the status table {imported['new table']:.2f} s ({imported['new app'] / imported['new table']:.1f}x), "
            f"bare COPY {imported['new copy']:.3f} s ({imported['new app'] / imported['new copy']:.0f}x); "
            f"changing stored statuses: app {imported['changed app']:.2f} s, COPY + upsert "
            f"{imported['changed upsert']:.2f} s ({imported['changed app'] / imported['changed upsert']:.1f}x)",
            flush=True,
        )
        results.rows.append(
            Row(
                "Settlement",
                {
                    "candidates": f"{size:,}",
                    "statuses": f"{size * WEEKS:,}",
                    "generated in": f"{generated:.0f} s",
                    "settle one week (engine)": seconds(settle["engine"]),
                    "SQL floor": seconds(settle["floor"]),
                    "engine / floor": f"{settle['engine'] / settle['floor']:.1f}x",
                    "catch up 52 weeks": seconds(settle["catch_up_52"]),
                },
            )
        )
        results.rows.append(
            Row(
                "Weekly status import (SPEC CSV)",
                {
                    "candidates": f"{size:,}",
                    "rows": f"{imported['rows']:,}",
                    "new weeks: app": seconds(imported["new app"]),
                    "COPY into the status table": seconds(imported["new table"]),
                    "app / COPY into table": f"{imported['new app'] / imported['new table']:.1f}x",
                    "bare COPY": seconds(imported["new copy"]),
                    "app / bare COPY": f"{imported['new app'] / imported['new copy']:.0f}x",
                    "stored weeks changed: app": seconds(imported["changed app"]),
                    "COPY + upsert": seconds(imported["changed upsert"]),
                    "app / (COPY + upsert)": f"{imported['changed app'] / imported['changed upsert']:.1f}x",
                },
            )
        )
        context = BenchContext(
            size=size, weeks=WEEKS, contract_id=contract_id, database_url=URL, redis_url=REDIS_URL, repeat=REPEAT
        )
        for bench in extra_benches():
            results.rows.extend(bench(context))
    if FANOUT:
        fanout = bench_fanout()
        print(
            f"[fan-out] {fanout['settlements']} settlements: one worker {fanout['one']:.1f} s, "
            f"two workers {fanout['two']:.1f} s, speed-up {fanout['one'] / fanout['two']:.2f}x",
            flush=True,
        )
        results.rows.append(
            Row(
                "Nightly settlement fan-out over Celery workers",
                {
                    "contracts": f"{FANOUT_CONTRACTS} x {FANOUT_CANDIDATES:,} candidates",
                    "weeks settled": f"{fanout['settlements']}",
                    "1 worker": seconds(fanout["one"]),
                    "2 workers": seconds(fanout["two"]),
                    "speed-up": f"{fanout['one'] / fanout['two']:.2f}x",
                },
            )
        )
    write_results(results)


def machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0].split()[0]
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
        memory = f", {kib / 1024 / 1024:.0f} GB RAM"
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists() and "model name" in (text := cpuinfo.read_text()):
        cpu = " (" + text.split("model name", 1)[1].split(":", 1)[1].split("\n", 1)[0].strip() + ")"
    return (
        f"{os.cpu_count()} cores{cpu}{memory}, PostgreSQL {server} on the same machine, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def write_results(results: Results) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"`make bench`, {datetime.now().date().isoformat()}. Machine: {machine()}. Median of {REPEAT} runs. "
        "Each floor is hand-written SQL doing the same work in the same run.",
        "",
    ]
    tables: dict[str, list[Row]] = {}
    for row in results.rows:
        tables.setdefault(row.table, []).append(row)
    for title, rows in tables.items():
        columns = list(rows[0].cells)
        lines += [f"## {title}", "", "| " + " | ".join(columns) + " |"]
        lines.append("|" + "|".join("---:" for _ in columns) + "|")
        lines += ["| " + " | ".join(row.cells.get(c, "") for c in columns) + " |" for row in rows]
        lines.append("")
    lines += results.notes
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text(encoding="utf-8").strip()]
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
