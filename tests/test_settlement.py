"""The billing rules B1-B13, each with hand-computed examples."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import Document, DocumentLine, ImmutableRecordError, JournalEntry, Posting, Settlement
from billing.outcomes import success_summary
from billing.selectors import ledger_balances_for_contract
from billing.services import ledger
from billing.services.settlement import preview_next_document, settle_contract, week_closes_at, weeks_due
from candidates.models import Candidate
from organisations.models import Contract
from tests.billing_helpers import W, at, lines_of, make_candidate, make_contract, set_status, settle
from tests.factories import ContractInvestorFactory

pytestmark = pytest.mark.django_db


# --- B1 billable week ------------------------------------------------------------------------------------


def test_b1_only_enrolled_candidates_in_the_period_window_and_paid_outcomes_are_billed():
    contract = make_contract(first="2020-W02", last="2020-W06", candidate_window_weeks=3)
    enrolled = make_candidate(contract, "A", enrolled=date(2020, 1, 8))  # Wednesday of 2020-W02
    never = make_candidate(contract, "B", enrolled=None)
    for week in ["2020-W01", "2020-W02", "2020-W03", "2020-W04", "2020-W05"]:
        set_status(enrolled, week, "full")
        set_status(never, week, "full")
    set_status(enrolled, "2020-W06", "none")

    documents = settle(contract, "2020-03-01T00:00")

    billed = [line for d in documents for line in lines_of(d)]
    # W01 is before the payment period; the window is W02, W03, W04 (3 weeks from the enrolment week);
    # W05 lies past the window; W06 is 'none'; B was never enrolled.
    assert billed == [
        ("A", "2020-W02", "full", "1200.00", False),
        ("A", "2020-W03", "full", "1200.00", False),
        ("A", "2020-W04", "full", "1200.00", False),
    ]
    assert Settlement.objects.filter(contract=contract).count() == 5  # W02..W06, last three empty


def test_b1_withdrawal_week_is_billable_the_next_is_not():
    contract = make_contract(first="2020-W01", last="2020-W10")
    candidate = make_candidate(contract, "A", enrolled=date(2020, 1, 1), withdrawn_on=date(2020, 1, 16))  # W03 Thu
    for week in ["2020-W02", "2020-W03", "2020-W04"]:
        set_status(candidate, week, "partial")

    documents = settle(contract, "2020-03-01T00:00")

    assert [line[1] for d in documents for line in lines_of(d)] == ["2020-W02", "2020-W03"]


def test_b1_weeks_before_the_first_rate_card_are_not_billable():
    contract = make_contract(first="2020-W01", last="2020-W10", rates=[("2020-W03", "1000.00", "500.00", "900.00")])
    candidate = make_candidate(contract, "A")
    set_status(candidate, "2020-W02", "full")
    set_status(candidate, "2020-W03", "education")

    documents = settle(contract, "2020-02-10T00:00")

    assert [line for d in documents for line in lines_of(d)] == [("A", "2020-W03", "education", "900.00", False)]


# --- B2 price, rate card versions -----------------------------------------------------------------------------


def test_b2_rate_card_change_mid_period_prices_each_week_by_its_version():
    contract = make_contract(
        first="2019-W52",
        last="2020-W10",
        rates=[("2019-W52", "1200.00", "600.00", "1200.00"), ("2020-W02", "1250.00", "625.00", "1250.00")],
    )
    candidate = make_candidate(contract, "A", enrolled=date(2019, 12, 23), referred_on=date(2019, 12, 20))
    set_status(candidate, "2019-W52", "full")
    set_status(candidate, "2020-W01", "partial")
    set_status(candidate, "2020-W02", "partial")
    set_status(candidate, "2020-W03", "education")

    documents = settle(contract, "2020-02-10T00:00")

    assert [(line[1], line[3]) for d in documents for line in lines_of(d)] == [
        ("2019-W52", "1200.00"),
        ("2020-W01", "600.00"),
        ("2020-W02", "625.00"),
        ("2020-W03", "1250.00"),
    ]
    line = DocumentLine.objects.get(week=W("2020-W02"))
    assert line.rate_card_version.effective_from == W("2020-W02")
    assert line.price == Decimal("625.00")


# --- B3 candidate cap ---------------------------------------------------------------------------------------


def test_b3_only_the_first_n_billable_weeks_are_paid_and_a_correction_shifts_them():
    contract = make_contract(max_paid_weeks_per_candidate=2)
    candidate = make_candidate(contract, "A")
    for week in ["2020-W02", "2020-W03", "2020-W04"]:
        set_status(candidate, week, "full")

    first = settle(contract, "2020-02-03T00:00")  # settles W01..W04
    assert [line[1] for d in first for line in lines_of(d)] == ["2020-W02", "2020-W03"]

    # A correction: W02 was not worked after all. W04 becomes one of the first two billable weeks.
    set_status(candidate, "2020-W02", "none")
    (document,) = settle(contract, "2020-02-10T00:00")  # settles W05
    assert lines_of(document) == [
        ("A", "2020-W02", "none", "-1200.00", True),
        ("A", "2020-W04", "full", "1200.00", True),
    ]
    assert document.kind == "invoice" and document.subtotal == Decimal("0.00")


# --- B4 contract cap ------------------------------------------------------------------------------------------


def test_b4_contract_cap_crossing_inside_a_week_pays_the_remainder_by_ref_order():
    contract = make_contract(cap_amount=Decimal("3000.00"))
    a, b, c = (make_candidate(contract, ref) for ref in ("A", "B", "C"))
    for candidate in (a, b, c):
        set_status(candidate, "2020-W02", "full")  # 3 x 1200 = 3600 > 3000
        set_status(candidate, "2020-W03", "full")

    documents = settle(contract, "2020-02-03T00:00")

    assert [line for d in documents for line in lines_of(d)] == [
        ("A", "2020-W02", "full", "1200.00", False),
        ("B", "2020-W02", "full", "1200.00", False),
        ("C", "2020-W02", "full", "600.00", False),  # the remainder: 3000 - 2400
    ]
    assert sum(d.total for d in documents) == Decimal("3000.00")


def test_b4_a_correction_that_frees_cap_room_pays_later_weeks():
    contract = make_contract(cap_amount=Decimal("2400.00"))
    a, b = make_candidate(contract, "A"), make_candidate(contract, "B")
    set_status(a, "2020-W02", "full")
    set_status(b, "2020-W02", "full")
    set_status(a, "2020-W03", "full")  # over the cap: due 0
    settle(contract, "2020-02-03T00:00")

    set_status(b, "2020-W02", "partial")  # frees 600 of cap room
    (document,) = settle(contract, "2020-02-10T00:00")

    assert lines_of(document) == [
        ("B", "2020-W02", "partial", "-600.00", True),
        ("A", "2020-W03", "full", "600.00", True),
    ]


def test_cap_ordering_uses_code_point_order_of_refs():
    contract = make_contract(cap_amount=Decimal("1000.00"))
    lower, upper = make_candidate(contract, "a1"), make_candidate(contract, "B1")  # 'B1' < 'a1' by code point
    set_status(lower, "2020-W02", "full")
    set_status(upper, "2020-W02", "full")

    documents = settle(contract, "2020-01-20T00:00")

    assert [(line[0], line[3]) for d in documents for line in lines_of(d)] == [("B1", "1000.00")]


# --- B5/B7 true-up, corrections ---------------------------------------------------------------------------------


def test_b7_a_correction_that_lowers_a_paid_week_gives_a_credit_note_when_nothing_else_is_due():
    contract = make_contract()
    candidate = make_candidate(contract, "A")
    set_status(candidate, "2020-W02", "full")
    (invoice,) = settle(contract, "2020-01-20T00:00")

    set_status(candidate, "2020-W02", "partial")
    (credit,) = settle(contract, "2020-01-27T00:00")

    assert credit.kind == "credit_note"
    assert credit.number == f"{contract.code}-00002"
    assert credit.week == W("2020-W03")
    assert lines_of(credit) == [("A", "2020-W02", "partial", "-600.00", True)]
    assert (credit.subtotal, credit.vat, credit.total) == (Decimal("-600.00"), Decimal("0.00"), Decimal("-600.00"))
    assert credit.corrects == invoice


def test_b7_regular_and_adjustment_lines_on_one_document_and_billed_equals_due_after():
    contract = make_contract()
    a, b = make_candidate(contract, "A"), make_candidate(contract, "B")
    set_status(a, "2020-W02", "full")
    settle(contract, "2020-01-20T00:00")
    set_status(a, "2020-W02", "none")
    set_status(b, "2020-W02", "education")  # late recording
    set_status(b, "2020-W03", "full")

    (document,) = settle(contract, "2020-01-27T00:00")

    assert lines_of(document) == [
        ("A", "2020-W02", "none", "-1200.00", True),
        ("B", "2020-W02", "education", "1200.00", True),
        ("B", "2020-W03", "full", "1200.00", False),
    ]
    assert document.subtotal == Decimal("1200.00")
    # After settling, nothing differs: the next week has no lines.
    assert settle(contract, "2020-02-03T00:00") == []


def test_a_week_with_no_lines_is_settled_with_no_document():
    contract = make_contract()
    make_candidate(contract, "A")

    settlements = settle_contract(contract=contract, as_of=at("2020-01-20T00:00"))

    assert [s.week for s in settlements] == [W("2020-W01"), W("2020-W02")]
    assert Document.objects.count() == 0
    contract.refresh_from_db()
    assert contract.settled_through == W("2020-W02")


# --- B6 closing -----------------------------------------------------------------------------------------------------


def test_b6_a_week_closes_on_monday_after_plus_grace_days_copenhagen_time():
    contract = make_contract(grace_days=3)
    candidate = make_candidate(contract, "A")
    set_status(candidate, "2020-W13", "full")  # Mon 23 March 2020; W14 starts 30 March (summer time since 29 March)
    closes = week_closes_at(contract=contract, week=W("2020-W13"))
    assert closes == at("2020-04-02T00:00")
    assert closes.utcoffset() == timedelta(hours=2)

    settle(contract, "2020-04-01T23:59:59")
    contract.refresh_from_db()
    assert contract.settled_through == W("2020-W12")
    settle(contract, "2020-04-02T00:00")
    contract.refresh_from_db()
    assert contract.settled_through == W("2020-W13")


def test_b6_missed_nights_are_caught_up_oldest_first_and_never_past_the_last_week():
    contract = make_contract(first="2020-W01", last="2020-W04")
    candidate = make_candidate(contract, "A")
    for week in ["2020-W01", "2020-W02", "2020-W03", "2020-W04"]:
        set_status(candidate, week, "full")

    assert weeks_due(contract=contract, as_of=at("2021-01-01T00:00")) == [W(f"2020-W0{n}") for n in range(1, 5)]
    documents = settle(contract, "2021-01-01T00:00")

    assert [d.week for d in documents] == [W(f"2020-W0{n}") for n in range(1, 5)]
    assert [d.number for d in documents] == [f"{contract.code}-0000{n}" for n in range(1, 5)]
    contract.refresh_from_db()
    assert contract.is_locked
    assert settle(contract, "2022-01-01T00:00") == []


def test_week_53_is_settled_like_any_other():
    contract = make_contract(first="2020-W52", last="2021-W02", rates=[("2020-W52", "1000.00", "500.00", "1000.00")])
    candidate = make_candidate(contract, "A", enrolled=date(2020, 12, 21), referred_on=date(2020, 12, 1))
    set_status(candidate, "2020-W53", "full")  # 28 Dec 2020 - 3 Jan 2021
    documents = settle(contract, "2021-01-18T00:00")
    assert [(d.week, d.total) for d in documents] == [(date(2020, 12, 28), Decimal("1000.00"))]
    assert documents[0].week_label == "2020-W53"


# --- B8 document kind and VAT -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "vat_rate", "vat"),
    [("0.02", "0.25", "0.01"), ("0.10", "0.25", "0.03"), ("1199.99", "0.25", "300.00"), ("100.00", "0.00", "0.00")],
)
def test_b8_vat_is_rounded_half_up_and_total_is_subtotal_plus_vat(price, vat_rate, vat):
    contract = make_contract(vat_rate=Decimal(vat_rate), rates=[("2020-W01", price, price, price)])
    set_status(make_candidate(contract, "A"), "2020-W02", "full")
    (document,) = settle(contract, "2020-01-20T00:00")
    assert document.vat == Decimal(vat)
    assert document.total == Decimal(price) + Decimal(vat)
    assert document.due_date == document.issue_date + timedelta(days=30)


def test_b8_credit_note_vat_mirrors_the_invoice():
    contract = make_contract(vat_rate=Decimal("0.25"), rates=[("2020-W01", "0.02", "0.02", "0.02")])
    candidate = make_candidate(contract, "A")
    set_status(candidate, "2020-W02", "full")
    settle(contract, "2020-01-20T00:00")
    set_status(candidate, "2020-W02", "none")
    (credit,) = settle(contract, "2020-01-27T00:00")
    assert (credit.kind, credit.subtotal, credit.vat, credit.total) == (
        "credit_note",
        Decimal("-0.02"),
        Decimal("-0.01"),
        Decimal("-0.03"),
    )


def test_issue_date_is_the_run_date_in_copenhagen_and_due_date_follows_payment_terms():
    contract = make_contract(payment_terms_days=14)
    set_status(make_candidate(contract, "A"), "2020-W02", "full")
    (document,) = settle(contract, "2020-01-20T00:30")  # 23:30 UTC on the 19th
    assert document.issue_date == date(2020, 1, 20)
    assert document.due_date == date(2020, 2, 3)


# --- B9 numbering -------------------------------------------------------------------------------------------------------


def test_b9_numbers_are_per_contract_gapless_and_shared_by_invoices_and_credit_notes():
    one, two = make_contract(code="ONE"), make_contract(code="TWO")
    a, b = make_candidate(one, "A"), make_candidate(two, "A")
    set_status(a, "2020-W02", "full")
    set_status(b, "2020-W03", "full")
    settle(one, "2020-01-20T00:00")
    set_status(a, "2020-W02", "none")
    settle(one, "2020-01-27T00:00")
    settle(two, "2020-01-27T00:00")
    assert list(Document.objects.filter(contract=one).values_list("number", "kind")) == [
        ("ONE-00001", "invoice"),
        ("ONE-00002", "credit_note"),
    ]
    assert list(Document.objects.filter(contract=two).values_list("number", flat=True)) == ["TWO-00001"]


# --- B10 immutability ---------------------------------------------------------------------------------------------------


def test_b10_issued_documents_and_lines_cannot_be_changed_or_deleted_through_the_orm():
    contract = make_contract()
    set_status(make_candidate(contract, "A"), "2020-W02", "full")
    (document,) = settle(contract, "2020-01-20T00:00")
    line = document.lines.get()

    document.total = Decimal("1.00")
    with pytest.raises(ImmutableRecordError):
        document.save()
    with pytest.raises(ImmutableRecordError):
        line.delete()
    with pytest.raises(ImmutableRecordError):
        Document.objects.filter(pk=document.pk).update(total=Decimal("1.00"))
    with pytest.raises(ImmutableRecordError):
        DocumentLine.objects.all().delete()
    document.refresh_from_db()
    assert document.total == Decimal("1200.00")


def test_b10_statuses_are_locked_after_the_last_week_is_settled():
    contract = make_contract(first="2020-W01", last="2020-W02")
    assert not contract.is_locked
    settle(contract, "2020-01-20T00:00")
    contract.refresh_from_db()
    assert contract.is_locked


# --- B11 idempotence ------------------------------------------------------------------------------------------------------


def test_b11_running_settlement_again_changes_nothing():
    contract = make_contract()
    set_status(make_candidate(contract, "A"), "2020-W02", "full")
    settle(contract, "2020-03-01T00:00")
    before = list(Document.objects.values_list("number", "total"))
    entries = JournalEntry.objects.count()

    assert settle_contract(contract=contract, as_of=at("2020-03-01T00:00")) == []
    assert list(Document.objects.values_list("number", "total")) == before
    assert JournalEntry.objects.count() == entries


def test_a_crash_in_the_middle_of_a_week_leaves_nothing_and_the_next_run_succeeds(monkeypatch):
    from billing.services import settlement as engine

    contract = make_contract()
    set_status(make_candidate(contract, "A"), "2020-W02", "full")
    set_status(make_candidate(contract, "B"), "2020-W02", "full")

    def explode(**kwargs):
        assert DocumentLine.objects.count() == 2  # the lines were written when the crash comes
        raise RuntimeError("power cut")

    monkeypatch.setattr(engine, "document_post", explode)
    with pytest.raises(RuntimeError):
        settle(contract, "2020-01-20T00:00")

    # W01 had no lines and was committed in its own transaction; W02 left nothing behind.
    assert list(Settlement.objects.values_list("week", flat=True)) == [W("2020-W01")]
    assert (Document.objects.count(), DocumentLine.objects.count(), JournalEntry.objects.count()) == (0, 0, 0)
    contract.refresh_from_db()
    assert contract.settled_through == W("2020-W01")

    monkeypatch.undo()
    (document,) = settle(contract, "2020-01-20T00:00")
    assert document.number == f"{contract.code}-00001" and document.total == Decimal("2400.00")


# --- B12 ledger ---------------------------------------------------------------------------------------------------------------


def test_b12_documents_payments_and_disbursements_post_balanced_entries():
    contract = make_contract()
    investor = ContractInvestorFactory(contract=contract)
    candidate = make_candidate(contract, "A")
    set_status(candidate, "2020-W02", "full")
    (invoice,) = settle(contract, "2020-01-20T00:00")
    set_status(candidate, "2020-W02", "partial")
    (credit,) = settle(contract, "2020-01-27T00:00")

    ledger.payment_record(document=invoice, amount=Decimal("400.00"), paid_on=date(2020, 2, 1))
    ledger.payment_record(document=invoice, amount=Decimal("200.00"), paid_on=date(2020, 2, 5))
    with pytest.raises(ValidationError, match="exceeds what is outstanding"):
        ledger.payment_record(document=invoice, amount=Decimal("600.01"), paid_on=date(2020, 2, 6))
    with pytest.raises(ValidationError):
        ledger.payment_record(document=credit, amount=Decimal("1.00"), paid_on=date(2020, 2, 6))
    ledger.disbursement_record(
        contract=contract, investor=investor, amount=Decimal("5000.00"), disbursed_on=date(2020, 1, 2)
    )

    for entry in JournalEntry.objects.prefetch_related("postings"):
        postings = list(entry.postings.all())
        assert sum(p.debit for p in postings) == sum(p.credit for p in postings) > 0
    assert ledger_balances_for_contract(contract=contract) == {
        "municipality_receivable": Decimal("1200.00") - Decimal("600.00") - Decimal("600.00"),
        "outcome_revenue": Decimal("-600.00"),
        "cash": Decimal("600.00") - Decimal("5000.00"),
        "programme_funding": Decimal("5000.00"),
    }
    credit_entry = JournalEntry.objects.get(document=credit)
    assert list(credit_entry.postings.values_list("account", "debit", "credit")) == [
        ("outcome_revenue", Decimal("600.00"), Decimal("0.00")),
        ("municipality_receivable", Decimal("0.00"), Decimal("600.00")),
    ]
    assert Posting.objects.filter(entry__contract=contract).count() == 2 * JournalEntry.objects.count()


def test_b12_an_unbalanced_entry_is_refused():
    contract = make_contract()
    with pytest.raises(ValidationError, match="does not balance"):
        ledger.journal_entry_post(
            contract=contract,
            kind="disbursement",
            posted_on=date(2020, 1, 1),
            memo="x",
            lines=[("cash", Decimal("1.00"), Decimal("0")), ("programme_funding", Decimal("0"), Decimal("0.99"))],
        )
    assert JournalEntry.objects.count() == 0


# --- B13 success ------------------------------------------------------------------------------------------------------------


def test_b13_success_counts_candidates_with_enough_billable_weeks_of_enrolled():
    contract = make_contract(success_min_weeks=2, max_paid_weeks_per_candidate=1)
    two_weeks = make_candidate(contract, "A")
    one_week = make_candidate(contract, "B")
    outside = make_candidate(contract, "C", enrolled=date(2020, 1, 1), withdrawn_on=date(2020, 1, 8))
    make_candidate(contract, "D", enrolled=None)  # referred only: not in the denominator
    for week in ["2020-W02", "2020-W03"]:
        set_status(two_weeks, week, "partial")  # paid only once (B3) but both weeks are billable under B1
        set_status(outside, week, "full")  # W03 lies after the withdrawal week
    set_status(one_week, "2020-W02", "education")

    summary = success_summary(contract=contract)

    assert (summary.succeeded, summary.enrolled) == (1, 3)
    assert summary.rate == Decimal(1) / Decimal(3)


# --- preview -------------------------------------------------------------------------------------------------------------------


def test_preview_shows_the_next_document_without_storing_anything():
    contract = make_contract()
    candidate = make_candidate(contract, "A")
    set_status(candidate, "2020-W01", "full")
    settle(contract, "2020-01-13T00:00")
    set_status(candidate, "2020-W01", "partial")
    set_status(candidate, "2020-W02", "full")

    draft = preview_next_document(contract=Contract.objects.get(pk=contract.pk))

    assert draft is not None and draft.week == W("2020-W02")
    assert [(line.ref, line.week, line.amount) for line in draft.lines] == [
        ("A", W("2020-W01"), Decimal("-600.00")),
        ("A", W("2020-W02"), Decimal("1200.00")),
    ]
    assert (draft.kind, draft.subtotal) == ("invoice", Decimal("600.00"))
    assert Document.objects.count() == 1 and Settlement.objects.count() == 1


def test_settlement_query_count_does_not_grow_with_candidates(django_assert_max_num_queries):
    contract = make_contract()
    for n in range(3):
        set_status(make_candidate(contract, f"S{n}"), "2020-W02", "full")
    with django_assert_max_num_queries(30) as small:
        settle(contract, "2020-01-20T00:00")
    big = make_contract(code="BIG")
    for n in range(60):
        set_status(make_candidate(big, f"S{n}"), "2020-W02", "full")
    with django_assert_max_num_queries(len(small.captured_queries)):
        settle(big, "2020-01-20T00:00")
    assert Candidate.objects.filter(contract=big).count() == 60
