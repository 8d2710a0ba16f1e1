"""A real Celery worker, consuming from real Redis, settles contracts end to end (PostgreSQL only:
the worker process must reach the committed test data)."""

from __future__ import annotations

import time
from datetime import date

import pytest

from billing.models import Document, Settlement
from tests.billing_helpers import make_candidate, make_contract, set_status

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_settles_a_contract_from_the_queue(worker):
    client, queue = worker
    contract = make_contract(code="QUEUED", first="2020-W01", last="2020-W04")
    person = make_candidate(contract, "A", enrolled=date(2020, 1, 1))
    for week in ("2020-W01", "2020-W02", "2020-W03"):
        set_status(person, week, "full")

    result = client.send_task(
        "billing.tasks.settle_contract_task", args=[contract.pk, "2020-03-01T03:00:00+01:00"], queue=queue
    )
    assert result.get(timeout=120) == ["2020-W01", "2020-W02", "2020-W03", "2020-W04"]

    assert Settlement.objects.filter(contract=contract).count() == 4
    assert list(Document.objects.filter(contract=contract).values_list("number", flat=True)) == [
        "QUEUED-00001",
        "QUEUED-00002",
        "QUEUED-00003",
    ]


def test_the_nightly_task_fans_out_one_task_per_contract(worker):
    client, queue = worker
    contracts = [make_contract(code=f"FAN{n}", first="2020-W01", last="2020-W02") for n in range(2)]
    for contract in contracts:
        set_status(make_candidate(contract, "A", enrolled=date(2020, 1, 1)), "2020-W01", "partial")

    enqueued = client.send_task("billing.tasks.settle_all_contracts", args=["2020-02-01T03:00:00+01:00"], queue=queue)
    assert enqueued.get(timeout=120) == 2
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and Settlement.objects.filter(contract__in=contracts).count() < 4:
        time.sleep(0.5)
    assert Settlement.objects.filter(contract__in=contracts).count() == 4
    assert Document.objects.filter(contract__in=contracts).count() == 2
