"""Benchmark of the consultant's weekly status grid (issue #8): a caseload of 40 in the generated contract.

Called by bench/run.py once per size (`bench(context)`). A consultant of the contract's operator gets 40
candidates; the grid page (first page, 25 candidates x 8 weeks, the last weeks of the contract, not yet
settled) is fetched through Django's test client: server time (median of `repeat`, at least 5 runs) and
queries, which must not depend on the size of the contract. Then one cell is saved through the htmx
endpoint, as a consultant does many times per sitting. Target (issue #8): grid under 150 ms, a constant
number of queries.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

TABLE = "Consultant's status grid (caseload of 40)"
CASELOAD = 40
_queries_by_size: dict[int, int] = {}


def _median(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def consultant_with_caseload(contract: Any, *, username: str, refs: list[str]) -> Any:
    """A consultant of the contract's operator whose caseload is the candidates `refs`."""
    from django.contrib.auth import get_user_model

    from candidates.models import Candidate
    from organisations.models import Membership

    user, _ = get_user_model().objects.get_or_create(username=username)
    Membership.objects.get_or_create(user=user, organisation=contract.operator, role="consultant")
    Candidate.objects.filter(contract=contract, ref__in=refs).update(consultant=user)
    return user


def bench(context: Any) -> list[Any]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from bench.dashboard import verified_client
    from bench.run import Row
    from candidates.models import Candidate, WeeklyStatus
    from common import weeks
    from organisations.models import Contract

    contract = Contract.objects.get(pk=context.contract_id)
    refs = list(Candidate.objects.filter(contract=contract).order_by("ref").values_list("ref", flat=True)[:CASELOAD])
    user = consultant_with_caseload(contract, username=f"bench-consultant-{contract.code.lower()}", refs=refs)
    client = verified_client(user)
    # The grid ends with the week after the last settled one: the week a consultant records now.
    week = contract.first_week if contract.settled_through is None else weeks.add_weeks(contract.settled_through, 1)
    week = min(week, contract.last_week)
    until = weeks.format_week(week)
    url = f"/status-grid/?contract={contract.code}&until={until}"
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert refs[0].encode() in response.content
    reset_queries()  # each request resets the log: count from empty
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    repeat = max(5, context.repeat)
    page = _median(lambda: client.get(url), repeat)

    candidate = Candidate.objects.get(contract=contract, ref=refs[0])
    cell = f"/status-grid/{candidate.pk}/{until}/"
    posted: list[str] = []

    def save() -> None:
        posted.append("full" if len(posted) % 2 else "partial")
        answer = client.post(cell, {"outcome": posted[-1], "note": ""}, HTTP_HX_REQUEST="true")
        assert answer.status_code == 200, answer.status_code

    save()
    reset_queries()
    with CaptureQueriesContext(connection) as cell_queries:
        save()
    saved = _median(save, repeat)
    stored = WeeklyStatus.objects.get(candidate=candidate, week=week).outcome
    assert stored == posted[-1], (stored, posted[-1])

    _queries_by_size[context.size] = len(queries)
    same = "yes" if len(set(_queries_by_size.values())) == 1 else "NO"
    print(
        f"[{context.size:,}] grid page {page * 1000:.0f} ms, {len(queries)} queries; cell save {saved * 1000:.0f} ms, "
        f"{len(cell_queries)} queries; same query count at every size: {same}",
        flush=True,
    )
    return [
        Row(
            TABLE,
            {
                "candidates in contract": f"{context.size:,}",
                "grid page (25 x 8 cells)": f"{page * 1000:.0f} ms",
                "queries": str(len(queries)),
                "same count at every size": same,
                "cell save (htmx POST)": f"{saved * 1000:.0f} ms",
                "cell save queries": str(len(cell_queries)),
            },
        )
    ]
