"""Dispute and referral services: the rules, the audit trail, and the reproducible lottery."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from billing.models import Dispute, DocumentLine, ReferralLottery
from billing.portal_selectors import DocumentStatus, portal_documents_for_user
from billing.services.disputes import dispute_accept, dispute_open, dispute_reject
from billing.services.ledger import payment_record
from billing.services.referrals import (
    EligiblePerson,
    eligible_parse,
    lottery_rank,
    lottery_reproduces,
    next_candidate_refs,
    referral_create,
    referral_lottery_draw,
)
from candidates.cpr import hash_cpr
from candidates.models import Candidate, WeeklyStatus
from tests.billing_helpers import W, settle
from tests.portal_helpers import build_programme, member

pytestmark = pytest.mark.django_db


def line_of(document, ref: str, week: str) -> DocumentLine:
    return document.lines.get(candidate__ref=ref, week=W(week))


# --- disputes -----------------------------------------------------------------------------------------


def test_accepting_a_dispute_corrects_the_status_and_the_next_document_adjusts():
    programme = build_programme()
    clerk = member("municipality", programme.municipality)
    coordinator = member("coordinator", programme.contract.operator)
    line = line_of(programme.invoice1, "C002", "2020-W01")
    dispute = dispute_open(line=line, reason="Bo was ill all week", claimed_outcome="none", user=clerk)
    assert (dispute.status, dispute.raised_by, dispute.document) == ("open", clerk, programme.invoice1)

    dispute = dispute_accept(dispute=dispute, note="Confirmed with the employer", user=coordinator)
    assert (dispute.status, dispute.resolved_by, dispute.resolution_note) == (
        "accepted",
        coordinator,
        "Confirmed with the employer",
    )
    status = WeeklyStatus.objects.get(candidate=programme.bo, week=W("2020-W01"))
    assert (status.outcome, status.note, status.recorded_by) == ("none", "Bo was ill all week", coordinator)
    assert status.history.first().history_change_reason == "Bo was ill all week"
    # The issued line is untouched; the correction arrives as an adjustment on the next document.
    line.refresh_from_db()
    assert (line.outcome, line.amount) == ("partial", Decimal("600.00"))
    (document,) = settle(programme.contract, "2020-02-03T00:00")
    adjustment = document.lines.get(candidate=programme.bo, week=W("2020-W01"))
    assert (adjustment.amount, adjustment.adjustment) == (Decimal("-600.00"), True)
    # Every step is in the dispute's history: raised, then accepted, each with who and when.
    steps = list(dispute.history.order_by("history_date").values_list("status", "history_user_id"))
    assert steps == [("open", clerk.pk), ("accepted", coordinator.pk)]


def test_rejecting_needs_a_reason_and_changes_no_status():
    programme = build_programme()
    line = line_of(programme.invoice1, "C002", "2020-W01")
    dispute = dispute_open(line=line, reason="Not working", claimed_outcome="none")
    with pytest.raises(ValidationError) as error:
        dispute_reject(dispute=dispute, note="  ")
    assert error.value.error_dict["note"][0].code == "note_required"
    dispute = dispute_reject(dispute=dispute, note="Payslips show 10 hours that week")
    assert dispute.status == "rejected" and dispute.resolved_at is not None
    assert WeeklyStatus.objects.get(candidate=programme.bo, week=W("2020-W01")).outcome == "partial"
    with pytest.raises(ValidationError) as error:
        dispute_accept(dispute=dispute)
    assert error.value.code == "not_open"


@pytest.mark.parametrize(
    ("reason", "outcome", "field", "code"),
    [
        ("", "none", "reason", "reason_required"),
        ("x" * 501, "none", "reason", "reason_too_long"),
        ("wrong", "partial", "claimed_outcome", "same_outcome"),
        ("wrong", "sometimes", "claimed_outcome", "unknown_outcome"),
    ],
)
def test_a_dispute_needs_a_reason_and_a_different_outcome(reason, outcome, field, code):
    programme = build_programme()
    line = line_of(programme.invoice1, "C002", "2020-W01")
    with pytest.raises(ValidationError) as error:
        dispute_open(line=line, reason=reason, claimed_outcome=outcome)
    assert error.value.error_dict[field][0].code == code
    assert not Dispute.objects.exists()


def test_one_open_dispute_per_line():
    programme = build_programme()
    line = line_of(programme.invoice1, "C002", "2020-W01")
    first = dispute_open(line=line, reason="ill", claimed_outcome="none")
    with pytest.raises(ValidationError) as error:
        dispute_open(line=line, reason="again", claimed_outcome="full")
    assert error.value.code == "already_open"
    dispute_reject(dispute=first, note="no")
    assert dispute_open(line=line, reason="new evidence", claimed_outcome="none").is_open


def test_accepting_is_refused_with_the_import_rule_when_the_contract_is_locked():
    programme = build_programme()
    line = line_of(programme.invoice1, "C002", "2020-W01")
    dispute = dispute_open(line=line, reason="ill", claimed_outcome="none")
    contract = programme.contract
    contract.last_week = W("2020-W03")
    contract.save(update_fields=["last_week"])  # settled through W03 already: now locked
    with pytest.raises(ValidationError) as error:
        dispute_accept(dispute=dispute)
    assert error.value.code == "correction_refused" and "locked" in error.value.messages[0]
    dispute.refresh_from_db()
    assert dispute.is_open
    with pytest.raises(ValidationError) as error:
        dispute_open(line=line_of(programme.invoice1, "C001", "2020-W01"), reason="x", claimed_outcome="partial")
    assert error.value.code == "locked"


def test_document_status_is_derived_from_payments_disputes_and_credit_notes():
    programme = build_programme()
    coordinator = member("coordinator", programme.contract.operator)

    def statuses():
        return dict(portal_documents_for_user(coordinator).values_list("number", "status"))

    assert statuses() == {
        "IMPACT-P-00001": DocumentStatus.ISSUED,
        "IMPACT-P-00002": DocumentStatus.CREDITED,  # the credit note names it
        "IMPACT-P-00003": DocumentStatus.ISSUED,
    }
    payment_record(document=programme.invoice1, amount=Decimal("1000.10"), paid_on=date(2020, 2, 1))
    assert statuses()["IMPACT-P-00001"] == DocumentStatus.PARTLY_PAID
    payment_record(document=programme.invoice1, amount=Decimal("1249.90"), paid_on=date(2020, 2, 2))
    assert statuses()["IMPACT-P-00001"] == DocumentStatus.PAID
    dispute = dispute_open(line=line_of(programme.invoice1, "C002", "2020-W01"), reason="ill", claimed_outcome="none")
    assert statuses()["IMPACT-P-00001"] == DocumentStatus.DISPUTED
    dispute_reject(dispute=dispute, note="no")
    assert statuses()["IMPACT-P-00001"] == DocumentStatus.PAID
    payment_record(document=programme.invoice2, amount=Decimal("1.00"), paid_on=date(2020, 2, 2))
    assert statuses()["IMPACT-P-00002"] == DocumentStatus.PARTLY_PAID


# --- referrals ----------------------------------------------------------------------------------------


def test_referral_takes_the_next_free_ref():
    programme = build_programme()
    assert next_candidate_refs(contract=programme.contract, count=2) == ["C003", "C004"]
    candidate = referral_create(
        contract=programme.contract, cpr="010190-1234", name="Carla Holm", referred_on=date(2020, 3, 2)
    )
    assert (candidate.ref, candidate.name, candidate.cpr) == ("C003", "Carla Holm", "0101901234")
    with pytest.raises(ValidationError) as error:
        referral_create(contract=programme.contract, cpr="0101901234", name="Again", referred_on=date(2020, 3, 2))
    assert error.value.error_dict["cpr"][0].code == "cpr_duplicate"
    with pytest.raises(ValidationError) as error:
        referral_create(contract=programme.contract, cpr="311390-1234", name="X", referred_on=date(2020, 3, 2))
    assert "cpr" in error.value.error_dict


PEOPLE = "\n".join(f"01019{n}-12{n}4; Person {n}" for n in range(10))


def test_the_lottery_is_recorded_and_anyone_can_reproduce_it():
    programme = build_programme()
    clerk = member("municipality", programme.municipality)
    people, problems = eligible_parse(PEOPLE + "\n\n")
    assert problems == [] and len(people) == 10
    outcome = referral_lottery_draw(
        contract=programme.contract,
        people=people,
        referred_count=4,
        referral_date=date(2020, 3, 2),
        seed="lotto-2020-09",
        user=clerk,
    )
    lottery = ReferralLottery.objects.get()
    assert (lottery.seed, lottery.referred_count, lottery.drawn_by) == ("lotto-2020-09", 4, clerk)
    hashes = [hash_cpr(p.cpr) for p in people]
    assert lottery.eligible == hashes  # pseudonymous: keyed hashes, in the order given
    assert all(p.name not in str(lottery.eligible) + str(lottery.referred) for p in people)
    # Reproduce by hand from the record: rank by SHA-256("seed:hash"), the first four are referred.
    by_hand = sorted(lottery.eligible, key=lambda h: hashlib.sha256(f"lotto-2020-09:{h}".encode()).hexdigest())
    assert lottery.referred == by_hand[:4] and lottery.comparison == by_hand[4:]
    assert lottery_reproduces(lottery)
    referred = Candidate.objects.filter(contract=programme.contract, cpr_hash__in=lottery.referred)
    assert (
        sorted(referred.values_list("ref", flat=True))
        == ["C003", "C004", "C005", "C006"]
        == sorted(lottery.referred_refs)
    )
    assert not Candidate.objects.filter(cpr_hash__in=lottery.comparison).exists()
    assert [p.name for p in outcome.comparison] == [people[hashes.index(h)].name for h in lottery.comparison]
    assert referred.first().history.first().history_user == clerk


def test_the_same_seed_and_list_give_the_same_draw_and_another_seed_another():
    hashes = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(20)]
    assert lottery_rank(seed="a", hashes=hashes) == lottery_rank(seed="a", hashes=list(reversed(hashes)))
    assert lottery_rank(seed="a", hashes=hashes) != lottery_rank(seed="b", hashes=hashes)


def test_a_tampered_record_does_not_reproduce():
    programme = build_programme()
    people, _ = eligible_parse(PEOPLE)
    referral_lottery_draw(
        contract=programme.contract, people=people, referred_count=3, referral_date=date(2020, 3, 2), seed="s"
    )
    lottery = ReferralLottery.objects.get()
    lottery.referred = [lottery.comparison[0], *lottery.referred[1:]]
    assert not lottery_reproduces(lottery)


@pytest.mark.parametrize("language", ["en", "da"])
def test_a_bad_list_refers_nobody_and_names_every_problem(language):
    with translation.override(language):
        line = {"en": "line", "da": "linje"}[language]
        programme = build_programme()
        referral_create(contract=programme.contract, cpr="010195-1234", name="Already", referred_on=date(2020, 3, 1))
        people = [
            EligiblePerson(1, "010190-1234", "A"),
            EligiblePerson(2, "010190-1234", "A twin"),
            EligiblePerson(3, "999999-9999", "Nobody"),
            EligiblePerson(4, "010195-1234", "Already"),
            EligiblePerson(5, "010191-1234", "B"),
        ]
        before = Candidate.objects.count()
        with pytest.raises(ValidationError) as error:
            referral_lottery_draw(
                contract=programme.contract, people=people, referred_count=2, referral_date=date(2020, 3, 2)
            )
        messages = error.value.messages
        assert any(m.startswith(f"{line} 2:") and f"{line} 1" in m for m in messages)
        assert any(m.startswith(f"{line} 3:") for m in messages)
        assert any(m.startswith(f"{line} 4:") and "C003" in m for m in messages)
        assert Candidate.objects.count() == before and not ReferralLottery.objects.exists()
        with pytest.raises(ValidationError):
            referral_lottery_draw(
                contract=programme.contract, people=people[4:], referred_count=1, referral_date=date(2020, 3, 2)
            )
        with pytest.raises(ValidationError):
            referral_lottery_draw(
                contract=programme.contract,
                people=[people[0], people[4]],
                referred_count=2,
                referral_date=date(2020, 3, 2),
            )
        expected = {
            "en": "line 1: give CPR number and name separated by ';' (e.g. 010190-1234; Anna Hansen)",
            "da": "linje 1: angiv CPR-nummer og navn adskilt af ';' (fx 010190-1234; Anna Hansen)",
        }
        assert eligible_parse("010190-1234")[1] == [expected[language]]


def test_a_lottery_without_a_seed_gets_a_random_one_recorded():
    programme = build_programme()
    people, _ = eligible_parse(PEOPLE)
    outcome = referral_lottery_draw(
        contract=programme.contract, people=people, referred_count=5, referral_date=date(2020, 3, 2)
    )
    assert len(outcome.lottery.seed) == 16 and lottery_reproduces(outcome.lottery)
