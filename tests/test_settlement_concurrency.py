"""B11 under real concurrency: runs started at the same moment produce exactly the documents of one run."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections

from billing.models import Document, JournalEntry, Settlement
from billing.services.settlement import settle_contract
from tests.billing_helpers import at, make_candidate, make_contract, set_status

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _build(code: str):
    contract = make_contract(code=code, first="2020-W01", last="2020-W12")
    people = [make_candidate(contract, f"K{n}", enrolled=date(2020, 1, 1)) for n in range(6)]
    for n, person in enumerate(people):
        for week in range(1, 13):
            set_status(person, f"2020-W{week:02d}", ["full", "partial", "education", "none"][(n + week) % 4])
    return contract


def _documents(contract):
    return [
        (
            d.number.split("-")[1],
            d.week,
            d.kind,
            d.total,
            sorted(d.lines.values_list("candidate__ref", "week", "amount")),
        )
        for d in Document.objects.filter(contract=contract).order_by("seq")
    ]


def test_two_settlement_runs_at_the_same_moment_equal_one_run():
    alone, raced = _build("ALONE"), _build("RACED")
    moment = at("2020-06-01T03:00")
    settle_contract(contract=alone, as_of=moment)

    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            settle_contract(contract=raced, as_of=moment)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert connection.vendor == "postgresql"
    assert Settlement.objects.filter(contract=raced).count() == 12
    assert _documents(raced) == _documents(alone)
    assert JournalEntry.objects.filter(contract=raced).count() == Document.objects.filter(contract=raced).count()
