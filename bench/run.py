"""Benchmarks on PostgreSQL: the app against a hand-written SQL floor doing the same work, in one run.

    make bench                      # 10,000 and 100,000 candidates (three years of weekly statuses)
    BENCH_SIZES=2000 make bench     # a quick run

Uses the database in BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/sib_bench), which
it drops and recreates. Prints median figures and writes bench/RESULTS.md.
"""

from __future__ import annotations

import csv
import io
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sib_bench")
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
WEEKS = 156
FIRST = date(2020, 1, 6)  # 2020-W02


def recreate_database() -> None:
    name = URL.rsplit("/", 1)[1]
    admin = URL.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    env = {**os.environ, "DATABASE_URL": URL, "DJANGO_LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    import django

    django.setup()


def median_of(runs: list[float]) -> float:
    return statistics.median(runs)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def generate(size: int) -> int:
    """A contract with `size` candidates and three years of weekly statuses, loaded with COPY."""
    from django.db import connection

    from organisations.models import Contract, Organisation, RateCardVersion

    municipality, _ = Organisation.objects.get_or_create(
        cvr="29189919", defaults={"name": "Bench Kommune", "kind": "municipality", "ean": "5798000000001"}
    )
    operator, _ = Organisation.objects.get_or_create(
        cvr="29189927", defaults={"name": "Bench Operatør", "kind": "operator"}
    )
    investor, _ = Organisation.objects.get_or_create(
        cvr="29189935", defaults={"name": "Bench Fond", "kind": "investor"}
    )
    contract = Contract.objects.create(
        code=f"BENCH{size}",
        name=f"Benchmark {size}",
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
    with connection.cursor() as cursor:
        raw = cursor.connection
        with raw.cursor().copy(
            "COPY candidates_candidate (contract_id, ref, name, cpr_encrypted, cpr_hash, referred_on, enrolled_on, "
            "withdrawal_reason, notes, created_at) FROM STDIN"
        ) as copy:
            for n in range(size):
                enrolled = FIRST + timedelta(days=n % 120)
                copy.write_row(
                    (
                        contract.pk,
                        f"K{n:06d}",
                        "",
                        "",
                        "",
                        FIRST - timedelta(days=7),
                        enrolled,
                        "",
                        "",
                        datetime.now(tz=ZoneInfo("UTC")),
                    )
                )
        cursor.execute("SELECT id FROM candidates_candidate WHERE contract_id = %s ORDER BY id", [contract.pk])
        ids = [row[0] for row in cursor.fetchall()]
        outcomes = ("none", "partial", "full", "education", "full", "none")
        now = datetime.now(tz=ZoneInfo("UTC"))
        with raw.cursor().copy(
            "COPY candidates_weeklystatus (candidate_id, week, outcome, note, recorded_at) FROM STDIN"
        ) as copy:
            for index, candidate_id in enumerate(ids):
                for week in range(WEEKS):
                    copy.write_row((candidate_id, FIRST + timedelta(weeks=week), outcomes[(index + week) % 6], "", now))
        cursor.execute("ANALYZE")
    return contract.pk


FLOOR_SQL = """
    INSERT INTO billing_documentline (document_id, candidate_id, week, outcome, rate_card_version_id, price, amount, adjustment)
    SELECT %(document)s, ws.candidate_id, ws.week, ws.outcome, rc.id,
           CASE ws.outcome WHEN 'partial' THEN rc.price_partial ELSE rc.price_full END,
           CASE ws.outcome WHEN 'partial' THEN rc.price_partial ELSE rc.price_full END, false
    FROM candidates_weeklystatus ws
    JOIN candidates_candidate c ON c.id = ws.candidate_id
    JOIN organisations_ratecardversion rc ON rc.contract_id = c.contract_id AND rc.effective_from = (
        SELECT max(effective_from) FROM organisations_ratecardversion r2
        WHERE r2.contract_id = c.contract_id AND r2.effective_from <= ws.week)
    WHERE c.contract_id = %(contract)s AND ws.week = %(week)s AND ws.outcome <> 'none'
      AND c.enrolled_on IS NOT NULL AND ws.week >= date_trunc('week', c.enrolled_on)::date
      AND ws.week < date_trunc('week', c.enrolled_on)::date + 7 * 156
"""


def bench_settlement(contract_id: int) -> dict[str, float]:
    """Catch up 52 weeks, then settle single weeks (engine) against the SQL floor for the same week."""
    from django.db import connection, transaction

    from billing.models import Document
    from billing.services.settlement import next_week_to_settle, settle_next_week
    from organisations.models import Contract

    as_of = datetime(2030, 1, 1, tzinfo=ZoneInfo("Europe/Copenhagen"))
    catch_up = timed(lambda: [settle_next_week(contract_id=contract_id, as_of=as_of) for _ in range(52)])
    engine_runs, floor_runs = [], []
    for _ in range(REPEAT):
        contract = Contract.objects.get(pk=contract_id)
        week = next_week_to_settle(contract)
        last = Document.objects.filter(contract_id=contract_id).order_by("-seq").first()

        def floor(last: Document = last, week: date = week) -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(FLOOR_SQL, {"document": last.pk, "contract": contract_id, "week": week})
                transaction.set_rollback(True)

        floor_runs.append(timed(floor))
        engine_runs.append(timed(lambda: settle_next_week(contract_id=contract_id, as_of=as_of)))
    return {"catch_up_52": catch_up, "engine": median_of(engine_runs), "floor": median_of(floor_runs)}


def bench_import(contract_id: int, rows: int = 100_000) -> dict[str, float]:
    """Import `rows` statuses of the newest (unsettled) weeks through the SPEC CSV, against COPY of the same file."""
    from django.db import connection, transaction

    from candidates.models import Candidate
    from candidates.services import weekly_status_csv_parse, weekly_status_import
    from common import weeks

    refs = list(Candidate.objects.filter(contract_id=contract_id).order_by("ref").values_list("ref", flat=True))
    per_week = min(len(refs), rows)
    week_count = max(1, rows // per_week)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["candidate", "week", "outcome", "hours"])
    for w in range(week_count):
        label = weeks.format_week(FIRST + timedelta(weeks=WEEKS - 1 - w))
        for ref in refs[:per_week]:
            writer.writerow([ref, label, "partial", "12.5"])
    content = out.getvalue().encode()
    now = datetime(2030, 1, 1, tzinfo=ZoneInfo("Europe/Copenhagen"))
    ids = dict(Candidate.objects.filter(contract_id=contract_id).values_list("ref", "id"))
    app_runs, floor_runs = [], []
    for _ in range(REPEAT):

        def app() -> None:
            with transaction.atomic():
                parsed = weekly_status_csv_parse(content)
                result = weekly_status_import(
                    contract=Candidate.objects.get(ref=refs[0], contract_id=contract_id).contract,
                    rows=parsed.rows,
                    now=now,
                )
                assert not result.errors, result.errors[:3]
                transaction.set_rollback(True)

        def floor() -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "CREATE TEMP TABLE bench_import (candidate text, week text, outcome text, hours numeric) ON COMMIT DROP"
                )
                with cursor.connection.cursor().copy(
                    "COPY bench_import FROM STDIN WITH (FORMAT csv, HEADER true)"
                ) as copy:
                    copy.write(content)
                transaction.set_rollback(True)

        floor_runs.append(timed(floor))
        app_runs.append(timed(app))
    del ids
    return {"rows": per_week * week_count, "app": median_of(app_runs), "floor": median_of(floor_runs)}


def main() -> None:
    recreate_database()
    setup_django()
    results = []
    for size in SIZES:
        started = time.perf_counter()
        contract_id = generate(size)
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
            f"[{size:,}] import of {imported['rows']:,} rows: app {imported['app']:.2f} s, COPY {imported['floor']:.2f} s, "
            f"ratio {imported['app'] / imported['floor']:.1f}x",
            flush=True,
        )
        results.append((size, generated, settle, imported))
    write_results(results)


def write_results(results: list) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.now().date().isoformat()}. PostgreSQL; median of {REPEAT} runs; the floor is hand-written SQL "
        "doing the same work in the same run.",
        "",
        "| candidates | statuses | settle one week (engine) | SQL floor | ratio | catch up 52 weeks | import rows | import (app) | COPY | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, _generated, settle, imported in results:
        lines.append(
            f"| {size:,} | {size * WEEKS:,} | {settle['engine']:.2f} s | {settle['floor']:.2f} s | "
            f"{settle['engine'] / settle['floor']:.1f}x | {settle['catch_up_52']:.1f} s | {imported['rows']:,} | "
            f"{imported['app']:.2f} s | {imported['floor']:.2f} s | {imported['app'] / imported['floor']:.1f}x |"
        )
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
