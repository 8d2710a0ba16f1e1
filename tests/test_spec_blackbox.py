"""Black-box check of SPEC B1-B9 through the SPEC commands only, against tests/spec_reference.py.

Random contracts in the format of shared/spec/scenario.example.json are loaded with `load_scenario`, moved on by
`import_weekly_status` (including corrections of settled weeks) and `settle --as-of` at instants around weeks'
closing (Copenhagen time, DST, ISO week 53), and every document `export_invoices` prints must equal the reference's.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import re
import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from tests.spec_reference import (
    COPENHAGEN,
    OUTCOMES,
    Book,
    Candidate,
    Contract,
    RateCardVersion,
    add_weeks,
    closes_at,
    current_week,
    format_week,
    parse_week,
    week_of,
)

MONEY = re.compile(r"^-?\d+\.\d{2}$")
PRICES = ["1200.00", "600.00", "625.50", "333.33", "0.01", "999.99", "1250.05", "0.00", "87.65"]
CAPS = ["0.00", "0.01", "500.00", "1000.50", "1799.99", "2500.00", "4321.17", "10000.00"]
# B4 orders by ref: mixed lengths, lower case and a Danish letter, where code point and locale orders differ.
REFS = ["C001", "C002", "C1", "C10", "C2", "K7", "A1", "B12", "Z9", "a7", "c-2", "Æ3"]
ANCHOR_WEEKS = [
    "2018-W40",
    "2019-W11",  # DST starts in 2019-W13
    "2019-W40",  # DST ends in 2019-W43
    "2020-W49",
    "2020-W52",
    "2020-W53",
    "2021-W10",
    "2025-W50",
    "2026-W08",
    "2026-W40",
    "2026-W47",  # payment period runs into 2026-W53
]
# Around a week's closing instant: exactly at it, a microsecond, a second, half an hour (a DST hour) and days apart.
DELTAS = [
    timedelta(0),
    timedelta(microseconds=-1),
    timedelta(microseconds=1),
    timedelta(seconds=-1),
    timedelta(seconds=1),
    timedelta(minutes=-30),
    timedelta(minutes=30),
    timedelta(hours=-1),
    timedelta(hours=1),
    timedelta(days=-1),
    timedelta(days=2),
    timedelta(days=9),
    timedelta(days=40),
]
_serial = itertools.count(1)


# --- Running the commands --------------------------------------------------------------------------------------------


def log(text: str) -> None:
    """A hypothesis note in the properties, nothing in the plain tests."""
    with contextlib.suppress(InvalidArgument):
        note(text)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def write(directory: Path, name: str, content: str | bytes) -> str:
    path = directory / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return str(path)


def export(code: str, fmt: str) -> str:
    return run("export_invoices", "--contract", code, "--format", fmt)


# --- Scenario generation ---------------------------------------------------------------------------------------------


def ean13(first12: str) -> str:
    total = sum(int(digit) * (3 if i % 2 else 1) for i, digit in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def cpr(n: int) -> str:
    return f"{1 + n % 28:02d}{1 + (n // 28) % 12:02d}{50 + (n // 336) % 40:02d}{1000 + n % 9000:04d}"


def organisations(n: int) -> dict[str, Any]:
    cvr = [str(10_000_000 + (n * 7 + i) % 90_000_000) for i in range(1, 6)]
    return {
        "municipality": {"name": f"Kommune {n}", "cvr": cvr[0], "ean": ean13(f"579800{n % 1_000_000:06d}")},
        "operator": {"name": f"Operatør {n}", "cvr": cvr[1]},
        "payee": {"name": f"Kapitalfond {n}", "cvr": cvr[2]},
        "investors": [
            {"name": f"Kapitalfond {n}", "cvr": cvr[2], "kind": "investor", "committed": "4000000.00"},
            {"name": f"Familiefond {n}", "cvr": cvr[3], "kind": "funder", "committed": "100000.00"},
        ],
        "_employer_cvr": cvr[4],
    }


def status_weeks(candidate: Candidate, contract: Contract) -> list[date]:
    """Weeks a status may be recorded for (referral week .. current week), in or next to the payment period."""
    last = min(current_week(), add_weeks(contract.last_week, 1))
    week = max(week_of(candidate.referred_on), add_weeks(contract.first_week, -1))
    weeks = []
    while week <= last:
        weeks.append(week)
        week = add_weeks(week, 1)
    return weeks


def draw_scenario(data: st.DataObject) -> tuple[dict[str, Any], Book]:
    n = next(_serial)
    code = f"BB{n}"
    today = datetime.now(COPENHAGEN).date()
    first_week = data.draw(
        st.one_of(
            st.sampled_from(ANCHOR_WEEKS).map(parse_week),
            st.dates(min_value=date(2018, 1, 1), max_value=today).map(week_of),
        ),
        label="first_week",
    )
    span = data.draw(st.integers(0, 12), label="span")
    last_week = add_weeks(first_week, span)
    window = data.draw(st.one_of(st.none(), st.integers(2, 12)), label="candidate_window_weeks")
    max_paid = data.draw(st.one_of(st.none(), st.integers(1, 4)), label="max_paid_weeks_per_candidate")
    cap = data.draw(st.one_of(st.none(), st.sampled_from(CAPS)), label="cap_amount")
    grace = data.draw(st.one_of(st.none(), st.integers(0, 10)), label="grace_days")
    vat = data.draw(st.sampled_from([None, "0.00", "0.25"]), label="vat_rate")
    terms = data.draw(st.one_of(st.none(), st.integers(1, 30)), label="payment_terms_days")

    offsets = data.draw(
        st.lists(st.integers(-4, span + 1), min_size=1, max_size=3, unique=True).map(sorted), label="rate card"
    )
    if data.draw(st.integers(0, 3), label="rate card from the start") > 0:
        offsets = sorted({min(offsets[0], 0), *offsets[1:]})
    price = st.sampled_from(PRICES).map(Decimal)
    rate_card = [
        RateCardVersion(
            effective_from=add_weeks(first_week, offset),
            prices={"full": data.draw(price), "partial": data.draw(price), "education": data.draw(price)},
        )
        for offset in offsets
    ]

    refs = data.draw(st.lists(st.sampled_from(REFS), min_size=2, max_size=5, unique=True), label="refs")
    candidates: dict[str, Candidate] = {}
    for ref in refs:
        referred = data.draw(
            st.dates(
                min_value=first_week - timedelta(days=28),
                max_value=min(today, first_week + timedelta(days=7 * min(2, span // 2) + 6)),
            )
        )
        enrolled = None
        withdrawn = None
        if data.draw(st.integers(0, 9)) > 0:
            enrolled = min(today, referred + timedelta(days=data.draw(st.integers(0, 10))))
            if data.draw(st.integers(0, 2)) == 0:
                withdrawn = min(today, enrolled + timedelta(days=data.draw(st.integers(0, 70))))
        candidates[ref] = Candidate(ref=ref, referred_on=referred, enrolled_on=enrolled, withdrawn_on=withdrawn)

    contract = Contract(
        code=code,
        first_week=first_week,
        last_week=last_week,
        rate_card=rate_card,
        candidates=candidates,
        candidate_window_weeks=156 if window is None else window,
        max_paid_weeks_per_candidate=max_paid,
        cap_amount=None if cap is None else Decimal(cap),
        grace_days=7 if grace is None else grace,
        vat_rate=Decimal("0") if vat is None else Decimal(vat),
    )
    book = Book(contract)
    for ref, candidate in candidates.items():
        for week in status_weeks(candidate, contract):
            outcome = data.draw(st.sampled_from([None, "full", "partial", "education", "none", "full", None]))
            if outcome is not None:
                book.record(ref, week, outcome)

    written: dict[str, Any] = {
        "candidate_window_weeks": window,
        "max_paid_weeks_per_candidate": max_paid,
        "cap_amount": cap,
        "grace_days": grace,
        "vat_rate": vat,
        "payment_terms_days": terms,
    }
    if max_paid is None and data.draw(st.booleans()):
        written["max_paid_weeks_per_candidate"] = NULL  # written as null, as in the example
    return scenario_json(book, n, written), book


NULL = object()


def scenario_json(book: Book, n: int, written: dict[str, Any]) -> dict[str, Any]:
    """The scenario file of the book's contract and statuses; `written` holds the optional settings to write
    (None: left out, NULL: written as null)."""
    contract = book.contract
    parties = organisations(n)
    employer_cvr = parties.pop("_employer_cvr")
    scenario_contract: dict[str, Any] = {
        "code": contract.code,
        "name": f"Black-box contract {n}",
        **parties,
        "first_week": format_week(contract.first_week),
        "last_week": format_week(contract.last_week),
        "rate_card": [
            {"effective_from": format_week(v.effective_from), **{k: str(p) for k, p in v.prices.items()}}
            for v in contract.rate_card
        ],
        "success_target": "0.50",
        "baseline_rate": "0.25",
        "success_min_weeks": 1,
    }
    for key, value in written.items():
        if value is not None:
            scenario_contract[key] = None if value is NULL else value
    statuses = []
    for (ref, week), outcome in book.statuses.items():
        status = {"candidate": ref, "week": format_week(week), "outcome": outcome}
        if outcome in ("partial", "full") and week.toordinal() % 3 == 0:
            status["hours"] = "12.5"
        statuses.append(status)
    return {
        "contract": scenario_contract,
        "employers": [
            {
                "ref": "E1",
                "name": f"Kaffebaren {n}",
                "cvr": employer_cvr,
                "sector": "restaurant",
                "own_enterprise": True,
            }
        ],
        "jobs": [
            {
                "ref": "J1",
                "employer": "E1",
                "title": "Barista",
                "kind": "small_job",
                "hours_per_week": "12.0",
                "sector": "restaurant",
            }
        ],
        "candidates": [
            {
                "ref": c.ref,
                "cpr": cpr(next(_serial)),
                "name": f"Kandidat {c.ref}",
                "referred_on": c.referred_on.isoformat(),
                "enrolled_on": c.enrolled_on.isoformat() if c.enrolled_on else None,
                "withdrawn_on": c.withdrawn_on.isoformat() if c.withdrawn_on else None,
            }
            for c in contract.candidates.values()
        ],
        "placements": [],
        "weekly_status": statuses,
        "disbursements": [],
    }


def settled(book: Book, week: date) -> bool:
    """Whether a correction of this week needs a reason: a week of the payment period up to the last settled
    one (B6 settles nothing before first_week, so a week there is corrected without a note)."""
    return book.settled_through is not None and book.contract.first_week <= week <= book.settled_through


def draw_import(data: st.DataObject, book: Book) -> tuple[bytes, list[tuple[str, date, str]]]:
    contract = book.contract
    refs = sorted(contract.candidates)
    count = data.draw(st.integers(1, 6), label="rows")
    rows: dict[tuple[str, date], str] = {}
    for _ in range(count):
        ref = data.draw(st.sampled_from(refs))
        weeks = status_weeks(contract.candidates[ref], contract)
        corrections = [week for week in weeks if book.is_settled(week)]
        if corrections:
            weeks = data.draw(st.sampled_from([weeks, corrections]), label="correct a settled week")
        week = data.draw(st.sampled_from(weeks))
        # Corrections lean to 'none' and 'partial', so that documents come out negative too (credit notes).
        outcomes = ["none", "partial", "none", "education", "full"] if book.is_settled(week) else OUTCOMES
        rows[(ref, week)] = data.draw(st.sampled_from(outcomes))
    columns = ["candidate", "week", "outcome"]
    with_hours = data.draw(st.booleans(), label="hours column")
    with_note = data.draw(st.booleans(), label="note column") or any(settled(book, w) for _, w in rows)
    columns += ["hours"] * with_hours + ["note"] * with_note
    columns = data.draw(st.permutations(columns), label="column order")
    delimiter = data.draw(st.sampled_from([",", ";"]), label="delimiter")
    newline = data.draw(st.sampled_from(["\n", "\r\n"]))
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator=newline)
    writer.writerow(columns)
    for (ref, week), outcome in rows.items():
        values = {
            "candidate": ref,
            "week": format_week(week),
            "outcome": outcome,
            "hours": "15.0" if outcome in ("partial", "full") and data.draw(st.booleans()) else "",
            "note": f"correction of a settled week ({outcome})" if settled(book, week) else "",
        }
        writer.writerow([values[column] for column in columns])
    content = text.getvalue().encode("utf-8")
    if data.draw(st.booleans(), label="BOM"):
        content = b"\xef\xbb\xbf" + content
    return content, [(ref, week, outcome) for (ref, week), outcome in rows.items()]


def draw_instant(data: st.DataObject, book: Book, *, when: str) -> tuple[datetime, str]:
    """An instant near the closing of a week (early in the period, mostly later than the last run, or near the
    period's end), written for --as-of."""
    contract = book.contract
    span = (contract.last_week - contract.first_week).days // 7
    done = -1 if book.settled_through is None else (book.settled_through - contract.first_week).days // 7
    offsets = {
        "early": st.integers(-1, span // 2),
        "any": st.one_of(st.integers(-1, span + 2), st.integers(min(done, span), span + 2)),
        "last": st.integers(span - 1, span + 2),
    }[when]
    week = add_weeks(contract.first_week, data.draw(offsets, label="settle around week"))
    instant = closes_at(week, contract.grace_days) + data.draw(st.sampled_from(DELTAS), label="delta")
    style = data.draw(st.sampled_from(["naive", "utc", "z", "offset", "date"]), label="as-of style")
    if style == "date":
        day = instant.astimezone(COPENHAGEN).date()
        return datetime(day.year, day.month, day.day, tzinfo=COPENHAGEN).astimezone(UTC), day.isoformat()
    return instant, as_of_text(instant, style)


# --- Comparing the exports with the reference ------------------------------------------------------------------------


def expected_documents(book: Book) -> list[dict[str, Any]]:
    return [
        {
            "number": d.number,
            "kind": d.kind,
            "week": format_week(d.week),
            "subtotal": d.subtotal,
            "vat": d.vat,
            "total": d.total,
            "lines": sorted(
                (line.candidate, format_week(line.week), line.outcome, line.amount, line.adjustment) for line in d.lines
            ),
        }
        for d in book.documents
    ]


def exported_documents(exported: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "number": d["number"],
            "kind": d["kind"],
            "week": d["week"],
            "subtotal": Decimal(d["subtotal"]),
            "vat": Decimal(d["vat"]),
            "total": Decimal(d["total"]),
            "lines": sorted(
                (line["candidate"], line["week"], line["outcome"], Decimal(line["amount"]), line["adjustment"])
                for line in d["lines"]
            ),
        }
        for d in exported
    ]


def assert_amount_text(text: str) -> None:
    assert MONEY.match(text), f"amount {text!r} is not a signed amount with two decimals"
    assert text != "-0.00", "a zero amount is written '-0.00'"


def assert_exports_match(book: Book, issue_dates: dict[str, date], payment_terms_days: int) -> str:
    """Compare both exports with the reference's documents; returns the JSON export."""
    code = book.contract.code
    text = export(code, "json")
    exported = json.loads(text)
    assert exported_documents(exported) == expected_documents(book)
    for document in exported:
        assert document["contract"] == code
        assert document["currency"] == "DKK"
        for key in ("subtotal", "vat", "total"):
            assert_amount_text(document[key])
        for line in document["lines"]:
            assert_amount_text(line["amount"])
            assert isinstance(line["adjustment"], bool)
        assert document["issue_date"] == issue_dates[document["number"]].isoformat()
        issued = date.fromisoformat(document["issue_date"])
        assert date.fromisoformat(document["due_date"]) == issued + timedelta(days=payment_terms_days)

    # The CSV export: one row per line, the document's fields repeated, the same values as the JSON.
    rows = list(csv.DictReader(io.StringIO(export(code, "csv"))))
    flattened = [
        {
            **{key: str(document[key]) for key in document if key != "lines"},
            "candidate": line["candidate"],
            "line_week": line["week"],
            "outcome": line["outcome"],
            "amount": line["amount"],
            "adjustment": "true" if line["adjustment"] else "false",
        }
        for document in exported
        for line in document["lines"]
    ]
    assert rows == flattened
    return text


# --- Driving the commands and the reference side by side -----------------------------------------------------------


class Run:
    """One contract driven through the commands and through the reference `Book` alike."""

    def __init__(self, scenario: dict[str, Any], book: Book, directory: Path) -> None:
        self.book = book
        self.code = book.contract.code
        self.directory = directory
        self.terms = scenario["contract"].get("payment_terms_days", 30)
        self.issue_dates: dict[str, date] = {}
        self.files = itertools.count(1)
        log(json.dumps(scenario["contract"], indent=1))
        run("load_scenario", write(directory, "scenario.json", json.dumps(scenario, indent=2)))

    def import_statuses(self, content: bytes, rows: list[tuple[str, date, str]]) -> None:
        log(f"import\n{content.decode('utf-8-sig')}")
        path = write(self.directory, f"status{next(self.files)}.csv", content)
        if self.book.locked:
            with pytest.raises(CommandError, match=r"(?i)lock"):
                run("import_weekly_status", "--contract", self.code, path)
            return
        run("import_weekly_status", "--contract", self.code, path)
        for ref, week, outcome in rows:
            self.book.record(ref, week, outcome)

    def settle(self, instant: datetime, text: str) -> None:
        log(f"settle --as-of {text}")
        run("settle", "--contract", self.code, "--as-of", text)
        for document in self.book.settle(instant):
            if document is not None:
                self.issue_dates[document.number] = instant.astimezone(COPENHAGEN).date()
        exported = assert_exports_match(self.book, self.issue_dates, self.terms)
        # B11: the same run again settles nothing and changes no document.
        assert "nothing to settle" in run("settle", "--contract", self.code, "--as-of", text)
        assert export(self.code, "json") == exported


def as_of_text(instant: datetime, style: str) -> str:
    local = instant.astimezone(COPENHAGEN)
    if style == "naive":
        # Only where the wall clock names one instant (not in the hour the clocks repeat or skip).
        wall = local.replace(tzinfo=None)
        if all(wall.replace(tzinfo=COPENHAGEN, fold=fold).astimezone(UTC) == instant for fold in (0, 1)):
            return wall.isoformat()
        style = "offset"
    if style == "utc":
        return instant.astimezone(UTC).isoformat()
    if style == "z":
        return instant.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    return local.isoformat()


SETTINGS = settings(
    max_examples=int(os.environ.get("BLACKBOX_EXAMPLES", "30")),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- The properties --------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@SETTINGS
@given(data=st.data())
def test_commands_bill_as_the_spec_says(data: st.DataObject) -> None:
    """B1-B9 on random contracts: statuses imported and corrected, settlement at random instants."""
    scenario, book = draw_scenario(data)
    with tempfile.TemporaryDirectory() as scratch:
        session = Run(scenario, book, Path(scratch))
        steps = data.draw(st.integers(1, 8), label="steps")
        for step in range(steps + 1):
            if step < steps and book.settled_through is not None and data.draw(st.integers(0, 2)) > 0:
                session.import_statuses(*draw_import(data, book))
            else:
                when = "last" if step == steps else "early" if book.settled_through is None else "any"
                session.settle(*draw_instant(data, book, when=when))
    lines = [line for document in book.documents for line in document.lines]
    event(f"documents: {min(len(book.documents), 10)}{'+' if len(book.documents) >= 10 else ''}")
    event(f"adjustment lines: {'yes' if any(line.adjustment for line in lines) else 'no'}")
    event(f"credit note: {'yes' if any(d.kind == 'credit_note' for d in book.documents) else 'no'}")
    event(f"locked: {'yes' if book.locked else 'no'}")


def dst_sundays() -> list[date]:
    """The last Sundays of March and October, 2018-2026: the days Copenhagen's clocks change."""
    sundays = []
    for year in range(2018, 2027):
        for month in (3, 10):
            day = date(year, month, 31)
            sundays.append(day - timedelta(days=(day.weekday() + 1) % 7))
    return sundays


def one_candidate_book(
    code: str, first_week: date, last_week: date, *, grace_days: int, vat_rate: str, prices: dict[str, Decimal]
) -> Book:
    candidate = Candidate(
        ref="C001", referred_on=first_week - timedelta(days=14), enrolled_on=first_week - timedelta(days=10)
    )
    contract = Contract(
        code=code,
        first_week=first_week,
        last_week=last_week,
        rate_card=[RateCardVersion(effective_from=first_week, prices=prices)],
        candidates={"C001": candidate},
        grace_days=grace_days,
        vat_rate=Decimal(vat_rate),
    )
    return Book(contract)


@pytest.mark.django_db(transaction=True)
@SETTINGS
@given(
    sunday=st.sampled_from(dst_sundays()),
    weeks_before=st.integers(0, 2),
    grace_days=st.integers(0, 10),
    delta=st.sampled_from(
        [timedelta(microseconds=d) for d in (-1, 1)] + [timedelta(minutes=m) for m in (-61, -59, -30, 30, 59, 61)]
    ),
    style=st.sampled_from(["naive", "utc", "z", "offset"]),
)
def test_weeks_close_at_copenhagen_midnight_across_dst(
    sunday: date, weeks_before: int, grace_days: int, delta: timedelta, style: str
) -> None:
    """B6 around the clock changes: a week closes at 00:00 Copenhagen time on the day grace_days after the Monday."""
    n = next(_serial)
    week = add_weeks(week_of(sunday), -weeks_before)
    book = one_candidate_book(
        f"BBDST{n}",
        add_weeks(week, -1),
        add_weeks(week, 2),
        grace_days=grace_days,
        vat_rate="0.00",
        prices={"full": Decimal("1000.00"), "partial": Decimal("500.00"), "education": Decimal("750.00")},
    )
    for offset in range(-1, 3):
        book.record("C001", add_weeks(week, offset), "full")
    instant = closes_at(week, grace_days) + delta
    with tempfile.TemporaryDirectory() as scratch:
        session = Run(scenario_json(book, n, {"grace_days": grace_days}), book, Path(scratch))
        session.settle(instant, as_of_text(instant, style))
    assert book.settled_through == (week if delta > timedelta(0) else add_weeks(week, -1))


@pytest.mark.django_db(transaction=True)
@SETTINGS
@given(
    prices=st.fixed_dictionaries(
        {
            outcome: st.decimals(min_value=Decimal("0.01"), max_value=Decimal("3000"), places=2)
            for outcome in ("full", "partial", "education")
        }
    ),
    first=st.sampled_from(["2020-W51", "2026-W30", "2019-W10"]).map(parse_week),
    outcomes=st.lists(st.sampled_from(["full", "partial", "education"]), min_size=3, max_size=3),
    corrections=st.lists(st.sampled_from(["none", "partial", "education", "full"]), min_size=2, max_size=2),
)
def test_vat_rounds_half_up_on_invoices_and_credit_notes(
    prices: dict[str, Decimal], first: date, outcomes: list[str], corrections: list[str]
) -> None:
    """B8 with 25 % VAT on odd øre, and B7 credit notes: bill two weeks, correct both, settle the third."""
    n = next(_serial)
    book = one_candidate_book(f"BBVAT{n}", first, add_weeks(first, 2), grace_days=7, vat_rate="0.25", prices=prices)
    for offset, outcome in enumerate(outcomes):
        book.record("C001", add_weeks(first, offset), outcome)
    with tempfile.TemporaryDirectory() as scratch:
        session = Run(scenario_json(book, n, {"grace_days": 7, "vat_rate": "0.25"}), book, Path(scratch))
        instant = closes_at(add_weeks(first, 1), 7)
        session.settle(instant, as_of_text(instant, "naive"))
        rows = [("C001", add_weeks(first, offset), outcome) for offset, outcome in enumerate(corrections)]
        content = "candidate,week,outcome,note\n" + "".join(
            f"{ref},{format_week(week)},{outcome},corrected after a call with the jobcentre\n"
            for ref, week, outcome in rows
        )
        session.import_statuses(content.encode(), rows)
        instant = closes_at(add_weeks(first, 2), 7)
        session.settle(instant, as_of_text(instant, "utc"))


def test_reference_closing_follows_the_copenhagen_wall_clock() -> None:
    """The reference's reading of B6 around DST: 2021-W11 closes at Monday 2021-03-29 00:00 CEST with grace 7."""
    assert closes_at(parse_week("2021-W11"), 7) == datetime(2021, 3, 28, 22, 0, tzinfo=UTC)
    assert closes_at(parse_week("2021-W11"), 6) == datetime(2021, 3, 27, 23, 0, tzinfo=UTC)
    assert closes_at(parse_week("2020-W53"), 0) == datetime(2021, 1, 3, 23, 0, tzinfo=UTC)


# --- Bad input through the commands (SPEC section 4): non-zero exit, every bad line and its reason, nothing stored ---

BAD_ROW_LAYOUTS = [
    pytest.param(",", False, ("candidate", "week", "outcome", "note"), id="comma"),
    pytest.param(";", True, ("note", "outcome", "candidate", "week"), id="semicolon-bom-reordered"),
    pytest.param(";", False, ("week", "hours", "note", "candidate", "outcome"), id="semicolon-hours"),
]


def status_csv(columns: tuple[str, ...], rows: list[dict[str, str]], *, delimiter: str, bom: bool) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return (b"\xef\xbb\xbf" if bom else b"") + text.getvalue().encode("utf-8")


def settled_w53_contract(directory: Path) -> Run:
    """2020-W50..2021-W05, C001 referred and enrolled in 2020-W50 and full every week, settled through 2020-W52."""
    n = next(_serial)
    first = parse_week("2020-W50")
    book = one_candidate_book(
        f"BBBAD{n}",
        first,
        parse_week("2021-W05"),
        grace_days=7,
        vat_rate="0.25",
        prices={"full": Decimal("1000.00"), "partial": Decimal("500.00"), "education": Decimal("750.00")},
    )
    book.contract.candidates["C001"] = Candidate("C001", referred_on=date(2020, 12, 7), enrolled_on=date(2020, 12, 7))
    for offset in range(4):  # 2020-W50 .. 2020-W53
        book.record("C001", add_weeks(first, offset), "full")
    session = Run(scenario_json(book, n, {"vat_rate": "0.25"}), book, directory)
    instant = closes_at(parse_week("2020-W52"), 7)
    session.settle(instant, as_of_text(instant, "naive"))
    assert len(book.documents) == 3
    return session


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("delimiter", "bom", "columns"), BAD_ROW_LAYOUTS)
def test_import_reports_every_bad_line_with_its_reason_and_stores_nothing(
    delimiter: str, bom: bool, columns: tuple[str, ...]
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        session = settled_w53_contract(Path(scratch))
        rows = [
            # line 2: a valid correction of a billed week: must not be stored because other lines are bad
            {"candidate": "C001", "week": "2020-W51", "outcome": "none", "note": "left the job", "hours": ""},
            {"candidate": "C404", "week": "2020-W51", "outcome": "full"},  # 3
            {"candidate": "C001", "week": "2021-W53", "outcome": "full"},  # 4: 2021 has 52 weeks
            {"candidate": "C001", "week": "2021-53", "outcome": "full"},  # 5
            {"candidate": "C001", "week": format_week(add_weeks(current_week(), 1)), "outcome": "full"},  # 6
            {"candidate": "C001", "week": "2020-W49", "outcome": "full"},  # 7: C001 was referred in 2020-W50
            {"candidate": "C001", "week": "2021-W01", "outcome": "fuld"},  # 8
            {"candidate": "C001", "week": "2020-W51", "outcome": "partial", "note": "again"},  # 9: same as line 2
        ]
        reasons = {
            3: "unknown candidate",
            4: "bad week",
            5: "bad week",
            6: "week in the future",
            7: "week before referral",
            8: "unknown outcome",
            9: "duplicate row",
        }
        path = write(session.directory, "bad.csv", status_csv(columns, rows, delimiter=delimiter, bom=bom))
        with pytest.raises(CommandError) as refused:
            run("import_weekly_status", "--contract", session.code, path)
        message = str(refused.value)
        for line, reason in reasons.items():
            assert re.search(rf"(?im)^line {line}: .*{reason}", message), (line, reason, message)
        assert not re.search(r"(?m)^line 2:", message), message

        # Nothing was stored: settling 2020-W53 bills that week only, no adjustment of 2020-W51.
        instant = closes_at(parse_week("2020-W53"), 7)
        session.settle(instant, as_of_text(instant, "z"))
        assert [line.adjustment for line in session.book.documents[-1].lines] == [False]

        # The same correction alone (in the same layout) is accepted and reaches the municipality as a credit note.
        path = write(session.directory, "good.csv", status_csv(columns, rows[:1], delimiter=delimiter, bom=bom))
        session.import_statuses(Path(path).read_bytes(), [("C001", parse_week("2020-W51"), "none")])
        instant = closes_at(parse_week("2021-W01"), 7)
        session.settle(instant, as_of_text(instant, "offset"))
        assert session.book.documents[-1].kind == "credit_note"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("header", "missing"),
    [("candidate;outcome", "week"), ("week,outcome,note", "candidate"), ("\ufeffcandidate,week,hours", "outcome")],
)
def test_import_without_a_required_column_fails_on_line_1(header: str, missing: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        session = settled_w53_contract(Path(scratch))
        delimiter = ";" if ";" in header else ","
        row = {"candidate": "C001", "week": "2020-W51", "outcome": "none", "note": "x", "hours": "1"}
        columns = header.lstrip("\ufeff").split(delimiter)
        body = delimiter.join(row[column] for column in columns)
        path = write(session.directory, "bad.csv", f"{header}\n{body}\n")
        with pytest.raises(CommandError, match=rf"(?m)^line 1: .*{missing}"):
            run("import_weekly_status", "--contract", session.code, path)
        instant = closes_at(parse_week("2020-W53"), 7)
        session.settle(instant, as_of_text(instant, "utc"))
        assert not any(line.adjustment for line in session.book.documents[-1].lines)


@pytest.mark.django_db(transaction=True)
def test_import_into_a_locked_contract_fails_on_every_line_and_stores_nothing() -> None:
    from candidates.models import WeeklyStatus

    with tempfile.TemporaryDirectory() as scratch:
        session = settled_w53_contract(Path(scratch))
        instant = closes_at(session.book.contract.last_week, 7)
        session.settle(instant, as_of_text(instant, "naive"))
        assert session.book.locked
        statuses = WeeklyStatus.objects.filter(candidate__contract__code=session.code)
        before = sorted(statuses.values_list("candidate__ref", "week", "outcome", "note"))
        path = write(
            session.directory,
            "late.csv",
            "candidate,week,outcome,note\nC001,2020-W51,none,left the job\nC001,2021-W02,full,\n",
        )
        with pytest.raises(CommandError) as refused:
            run("import_weekly_status", "--contract", session.code, path)
        for line in (2, 3):
            assert re.search(rf"(?im)^line {line}: .*locked contract", str(refused.value)), str(refused.value)
        assert sorted(statuses.values_list("candidate__ref", "week", "outcome", "note")) == before
