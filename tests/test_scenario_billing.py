"""End to end through the SPEC commands: load the example scenario, settle, correct, export."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parent / "data" / "scenario.example.json"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_example_scenario_settles_to_hand_computed_invoices(tmp_path):
    run("load_scenario", str(EXAMPLE))
    run("settle", "--contract", "DEMO1", "--as-of", "2019-01-21T00:00")
    # C001 (enrolled 2018-W41): 2018-W45 partial 600, 2018-W46 full 1200; C002: 2019-W02 education 1200.
    documents = json.loads(run("export_invoices", "--contract", "DEMO1"))
    assert [
        (d["number"], d["week"], d["total"], [(line["candidate"], line["week"], line["amount"]) for line in d["lines"]])
        for d in documents
    ] == [
        ("DEMO1-00001", "2018-W45", "600.00", [("C001", "2018-W45", "600.00")]),
        ("DEMO1-00002", "2018-W46", "1200.00", [("C001", "2018-W46", "1200.00")]),
        ("DEMO1-00003", "2019-W02", "1200.00", [("C002", "2019-W02", "1200.00")]),
    ]

    # A correction of a settled week, with its reason, reaches the municipality as an adjustment line.
    corrections = tmp_path / "corrections.csv"
    corrections.write_text(
        "candidate;week;outcome;note\nC001;2018-W46;partial;Timesedler viste 12 timer\n", encoding="utf-8-sig"
    )
    run("import_weekly_status", "--contract", "DEMO1", str(corrections))
    run("settle", "--contract", "DEMO1", "--as-of", "2019-01-28T00:00")
    credit = json.loads(run("export_invoices", "--contract", "DEMO1"))[-1]
    assert credit == {
        "number": "DEMO1-00004",
        "kind": "credit_note",
        "contract": "DEMO1",
        "week": "2019-W03",
        "issue_date": "2019-01-28",
        "due_date": "2019-02-27",
        "currency": "DKK",
        "subtotal": "-600.00",
        "vat": "0.00",
        "total": "-600.00",
        "lines": [
            {"candidate": "C001", "week": "2018-W46", "outcome": "partial", "amount": "-600.00", "adjustment": True}
        ],
    }
