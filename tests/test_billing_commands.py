"""The settle and export_invoices commands (SPEC section 4)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from billing.models import Settlement
from tests.billing_helpers import W, make_candidate, make_contract, set_status

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def contract():
    contract = make_contract(code="EXP1", first="2020-W01", last="2020-W10")
    a, b = make_candidate(contract, "A"), make_candidate(contract, "B")
    set_status(a, "2020-W02", "full")
    set_status(b, "2020-W02", "partial")
    return contract


def test_settle_prints_what_it_issued_and_reads_as_of_without_zone_as_copenhagen(contract):
    # W02 closes 2020-01-20 00:00 Copenhagen = 2020-01-19 23:00 UTC.
    output = run("settle", "--contract", "EXP1", "--as-of", "2020-01-19T23:59")
    assert "EXP1 2020-W01: settled, no document" in output
    assert Settlement.objects.filter(contract=contract, week=W("2020-W02")).count() == 0

    output = run("settle", "--contract", "EXP1", "--as-of", "2020-01-20T00:00")
    assert "EXP1 2020-W02: EXP1-00001 " in output and "1800.00 DKK (2 lines)" in output

    assert "nothing to settle" in run("settle", "--contract", "EXP1", "--as-of", "2020-01-20T00:00")
    # An explicit zone is honoured: 23:30 UTC on the 26th is 00:30 on the 27th in Copenhagen.
    assert "EXP1 2020-W03" in run("settle", "--as-of", "2020-01-26T23:30:00+00:00")


def test_settle_rejects_bad_input_with_a_clear_message(contract):
    with pytest.raises(CommandError, match="No contract with code 'NOPE'"):
        run("settle", "--contract", "NOPE")
    with pytest.raises(CommandError, match="not an ISO date-time"):
        run("settle", "--as-of", "yesterday")


def test_export_json_has_the_spec_shape_with_signed_string_amounts(contract):
    run("settle", "--contract", "EXP1", "--as-of", "2020-01-20T00:00")
    set_status(contract.candidates.get(ref="A"), "2020-W02", "none")
    run("settle", "--contract", "EXP1", "--as-of", "2020-01-27T00:00")

    documents = json.loads(run("export_invoices", "--contract", "EXP1", "--format", "json"))

    assert documents == [
        {
            "number": "EXP1-00001",
            "kind": "invoice",
            "contract": "EXP1",
            "week": "2020-W02",
            "issue_date": "2020-01-20",
            "due_date": "2020-02-19",
            "currency": "DKK",
            "subtotal": "1800.00",
            "vat": "0.00",
            "total": "1800.00",
            "lines": [
                {"candidate": "A", "week": "2020-W02", "outcome": "full", "amount": "1200.00", "adjustment": False},
                {"candidate": "B", "week": "2020-W02", "outcome": "partial", "amount": "600.00", "adjustment": False},
            ],
        },
        {
            "number": "EXP1-00002",
            "kind": "credit_note",
            "contract": "EXP1",
            "week": "2020-W03",
            "issue_date": "2020-01-27",
            "due_date": "2020-02-26",
            "currency": "DKK",
            "subtotal": "-1200.00",
            "vat": "0.00",
            "total": "-1200.00",
            "lines": [
                {"candidate": "A", "week": "2020-W02", "outcome": "none", "amount": "-1200.00", "adjustment": True},
            ],
        },
    ]
    assert json.loads(run("export_invoices", "--contract", "EXP1")) == documents  # json is the default


def test_export_csv_has_one_row_per_line(contract):
    run("settle", "--contract", "EXP1", "--as-of", "2020-01-20T00:00")
    rows = list(csv.DictReader(io.StringIO(run("export_invoices", "--contract", "EXP1", "--format", "csv"))))
    assert [
        (r["number"], r["week"], r["candidate"], r["line_week"], r["amount"], r["adjustment"], r["total"]) for r in rows
    ] == [
        ("EXP1-00001", "2020-W02", "A", "2020-W02", "1200.00", "false", "1800.00"),
        ("EXP1-00001", "2020-W02", "B", "2020-W02", "600.00", "false", "1800.00"),
    ]


def test_export_of_an_unknown_contract_fails():
    with pytest.raises(CommandError, match="No contract with code"):
        run("export_invoices", "--contract", "NOPE")


def test_export_of_a_contract_without_documents_is_an_empty_list(contract):
    assert json.loads(run("export_invoices", "--contract", "EXP1")) == []


def test_export_orders_lines_by_week_then_ref_in_code_point_order():
    contract = make_contract(code="ORD1", first="2020-W01", last="2020-W10")
    for ref in ("a1", "B1", "Ø1", "C10", "C9"):
        set_status(make_candidate(contract, ref), "2020-W02", "full")
    run("settle", "--contract", "ORD1", "--as-of", "2020-01-20T00:00")
    (document,) = json.loads(run("export_invoices", "--contract", "ORD1"))
    assert [line["candidate"] for line in document["lines"]] == ["B1", "C10", "C9", "a1", "Ø1"]
