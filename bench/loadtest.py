"""Load test (issue #8): 50 consultants working the weekly status grid for 60 s against gunicorn + PostgreSQL.

    make loadtest                       # on its own: a fresh database <BENCH_DATABASE_URL>_load
    BENCH_LOADTEST=0 make bench         # the benchmarks without it (by default it runs once, at the largest size)

A contract running around today (two years behind it, one ahead) gets 50 consultants with 40 candidates
each and every past week's statuses; its closed weeks are settled. gunicorn (production settings, 4 sync
workers) serves it on a free port of 127.0.0.1, and locust runs headless in a second process
(bench/locustfile.py: open the grid, save cells through the htmx endpoint, open a candidate page, with a
think time of 1-3 s) for a bounded time, on the loopback only. The consultants log in through the login
form first, one after another (timed on their own: a login is a deliberately slow password hash). Target: no failed request, p95 under 300 ms.
The figures per endpoint go to RESULTS.md (a table of bench/run.py's, or its own section when run alone).
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
USERS = int(os.environ.get("BENCH_LOAD_USERS", "50"))
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "60"))
CASELOAD = 40
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", "4"))
PASSWORD = "load-" + secrets.token_urlsafe(12)
TABLE = f"Load test: {USERS} consultants working the grid for {SECONDS} s (gunicorn, {WORKERS} workers)"
_done = False

STATUSES_SQL = """
    INSERT INTO candidates_weeklystatus (candidate_id, week, outcome, note, recorded_at)
    SELECT c.id, %(first)s + 7 * w,
           (ARRAY['none', 'partial', 'full', 'education', 'full', 'none'])[(c.id + w) %% 6 + 1], '', now()
    FROM candidates_candidate c CROSS JOIN generate_series(0, %(weeks)s - 1) AS w
    WHERE c.contract_id = %(contract)s
"""


def prepare() -> list[dict[str, Any]]:
    """The running contract, its consultants and their caseloads (in the database Django is set up on)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from billing.services.settlement import settle_contract
    from candidates.models import Candidate
    from common import weeks
    from organisations.models import Contract, Membership, Organisation, RateCardVersion

    current = weeks.current_week()
    first = weeks.add_weeks(current, -104)
    municipality, _ = Organisation.objects.get_or_create(
        cvr="29189951", defaults={"name": "Load Kommune", "kind": "municipality", "ean": "5798000000002"}
    )
    operator, _ = Organisation.objects.get_or_create(
        cvr="29189978", defaults={"name": "Load Operatør", "kind": "operator"}
    )
    investor, _ = Organisation.objects.get_or_create(cvr="29189986", defaults={"name": "Load Fond", "kind": "investor"})
    code = f"LOAD{int(time.time())}"
    contract = Contract.objects.create(
        code=code,
        name="Load test",
        municipality=municipality,
        operator=operator,
        payee=investor,
        first_week=first,
        last_week=weeks.add_weeks(current, 52),
    )
    RateCardVersion.objects.create(
        contract=contract, effective_from=first, price_full=1200, price_partial=600, price_education=1200
    )
    password = make_password(PASSWORD)  # hashed once: the same hash for every consultant
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"{code.lower()}-{n:02d}", password=password, first_name=f"K{n:02d}") for n in range(USERS)]
    )
    Membership.objects.bulk_create([Membership(user=u, organisation=operator, role="consultant") for u in users])
    Candidate.objects.bulk_create(
        [
            Candidate(
                contract=contract,
                ref=f"L{n:05d}",
                referred_on=first - timedelta(days=7),
                enrolled_on=first,
                consultant=users[n // CASELOAD],
            )
            for n in range(USERS * CASELOAD)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(STATUSES_SQL, {"first": first, "weeks": 103, "contract": contract.pk})
    settle_contract(contract=contract)
    with connection.cursor() as cursor:
        # Statistics of every table, as autovacuum keeps them in a database in use: with none for the
        # bulk-created candidates the planner expects one row and probes the whole contract's candidates.
        cursor.execute("ANALYZE")
    contract.refresh_from_db()
    open_weeks = [
        weeks.format_week(w) for w in weeks.iter_weeks(weeks.add_weeks(contract.settled_through or first, 1), current)
    ]
    caseloads: dict[int, list[int]] = {}
    for pk, consultant_id in Candidate.objects.filter(contract=contract).values_list("pk", "consultant_id"):
        caseloads.setdefault(consultant_id, []).append(pk)
    return [
        {"username": u.username, "password": PASSWORD, "candidates": caseloads[u.pk], "weeks": open_weeks}
        for u in users
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CPR_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "CPR_HASH_KEY": secrets.token_urlsafe(32),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
    }


LOGIN_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def log_in(host: str, users: list[dict[str, Any]]) -> list[float]:
    """Log every consultant in through the login form (as behind the TLS proxy); keep their cookies."""
    import requests

    origin = host.replace("http://", "https://")
    times = []
    for user in users:
        session = requests.Session()
        session.headers.update({"X-Forwarded-Proto": "https", "Origin": origin, "Referer": f"{origin}/login/"})
        started = time.perf_counter()
        page = session.get(f"{host}/login/", timeout=30)
        token = LOGIN_TOKEN.search(page.text)
        cookies = {c.name: c.value for c in session.cookies}
        answer = session.post(
            f"{host}/login/",
            data={
                "username": user["username"],
                "password": user["password"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            cookies=cookies,
            allow_redirects=False,
            timeout=30,
        )
        times.append(time.perf_counter() - started)
        if answer.status_code != 302:
            raise RuntimeError(f"login of {user['username']} answered {answer.status_code}")
        cookies.update({c.name: c.value for c in answer.cookies})
        user["cookies"] = cookies
    return times


def run_load(database_url: str, users: list[dict[str, Any]]) -> tuple[dict[str, dict[str, str]], list[float]]:
    """gunicorn on a free loopback port, the consultants logged in, locust headless against it for SECONDS;
    the stats per endpoint and the login times."""
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="sib-load-"))
    users_file = workdir / "users.json"
    bin_dir = Path(sys.executable).parent
    env = server_env(database_url)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    server = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--timeout",
            "60",
            "--no-control-socket",
            # Server time of each request (from the worker taking it to the response written), in microseconds:
            # set beside locust's figures, it tells time in Django and PostgreSQL from time queued or in the client.
            "--access-logfile",
            str(workdir / "access.log"),
            "--access-logformat",
            "%(m)s %(U)s %(s)s %(D)s",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "gunicorn.log", "wb"),  # noqa: SIM115
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{host}/login/", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"gunicorn did not start: see {workdir / 'gunicorn.log'}") from None
                time.sleep(0.5)
        logins = log_in(host, users)
        users_file.write_text(json.dumps(users), encoding="utf-8")
        prefix = workdir / "locust"
        subprocess.run(
            [
                str(bin_dir / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "-u",
                str(len(users)),
                "-r",
                "10",
                "-t",
                f"{SECONDS}s",
                "--host",
                host,
                "--csv",
                str(prefix),
                "--only-summary",
                "--stop-timeout",
                "5",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={**os.environ, "LOADTEST_USERS": str(users_file)},
            check=False,
            timeout=SECONDS + 120,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    for name, times in server_times(workdir / "access.log").items():
        if name in stats:
            stats[name]["server p50"] = f"{percentile(times, 50):.0f} ms"
            stats[name]["server p95"] = f"{percentile(times, 95):.0f} ms"
    return stats, logins


def endpoint_of(method: str, path: str) -> str | None:
    """The locust name of a request in the access log (the logins before the minute are not counted)."""
    if path == "/status-grid/" and method == "GET":
        return "grid page"
    if path.startswith("/status-grid/") and method == "POST":
        return "cell save"
    if path.startswith("/candidates/") and method == "GET":
        return "candidate page"
    return None


def server_times(log: Path) -> dict[str, list[float]]:
    """Milliseconds per endpoint (and 'Aggregated') from gunicorn's access log."""
    times: dict[str, list[float]] = {}
    for line in log.read_text(encoding="utf-8").splitlines() if log.exists() else []:
        parts = line.split()
        if len(parts) != 4 or not parts[3].isdigit():
            continue
        name = endpoint_of(parts[0], parts[1])
        if name is not None:
            times.setdefault(name, []).append(int(parts[3]) / 1000)
            times.setdefault("Aggregated", []).append(int(parts[3]) / 1000)
    return times


def percentile(values: list[float], p: int) -> float:
    """The value below which p % of `values` lie (the same rank for server times and logins)."""
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * p / 100) - 1)]


def rows_of(stats: dict[str, dict[str, str]], logins: list[float]) -> list[dict[str, str]]:
    rows = []
    for name in ["grid page", "cell save", "candidate page", "Aggregated"]:
        if name not in stats:
            continue
        s = stats[name]
        rows.append(
            {
                "endpoint": "all requests" if name == "Aggregated" else name,
                "requests": s["Request Count"],
                "failures": s["Failure Count"],
                "req/s": f"{float(s['Requests/s']):.1f}",
                "p50": f"{s['50%']} ms",
                "p95": f"{s['95%']} ms",
                "p99": f"{s['99%']} ms",
                "max": f"{float(s['Max Response Time']):.0f} ms",
                "server p50": s.get("server p50", ""),
                "server p95": s.get("server p95", ""),
            }
        )
    ordered = sorted(logins)
    rows.append(
        {
            "endpoint": "login form, one after another before the minute (not in the figures above)",
            "requests": str(len(logins)),
            "failures": "0",
            "req/s": "",
            "p50": f"{statistics.median(ordered) * 1000:.0f} ms",
            "p95": f"{percentile(ordered, 95) * 1000:.0f} ms" if ordered else "",
            "p99": "",
            "max": f"{ordered[-1] * 1000:.0f} ms" if ordered else "",
            "server p50": "",
            "server p95": "",
        }
    )
    return rows


def bench(context: Any) -> list[Any]:
    """Hook of bench/run.py: once per run, at its largest size, in the same database as that size."""
    global _done
    from bench.run import SIZES, Row

    if _done or os.environ.get("BENCH_LOADTEST", "1") == "0" or context.size != max(SIZES):
        return []
    _done = True
    stats, logins = run_load(context.database_url, prepare())
    rows = rows_of(stats, logins)
    for row in rows:
        print(f"[load] {row}", flush=True)
    return [Row(TABLE, row) for row in rows]


def main() -> None:
    from bench import run

    url = run.database_url("_load")
    run.URL = url
    os.environ["DATABASE_URL"] = url  # before anything reads the settings
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    run.recreate_database(url)
    run.setup_django()
    started = time.perf_counter()
    users = prepare()
    print(f"[load] {len(users)} consultants x {CASELOAD} candidates ready in {time.perf_counter() - started:.0f} s")
    rows = rows_of(*run_load(url, users))
    lines = [
        f"## {TABLE}",
        "",
        "| " + " | ".join(rows[0]) + " |",
        "|" + "|".join("---:" for _ in rows[0]) + "|",
        *["| " + " | ".join(row.values()) + " |" for row in rows],
    ]
    print("\n".join(lines))
    results = ROOT / "bench" / "RESULTS.md"
    text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    start = text.find("## Load test")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + text[end + 1 :] if end >= 0 else text[:start]
    results.write_text(text.rstrip() + "\n\n" + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
