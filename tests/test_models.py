"""Database constraints of every app, and the append-only guard on billing records (ORM and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from billing.models import (
    CapitalDisbursement,
    ContractRetentionAggregate,
    ContractWeekAggregate,
    Dispute,
    Document,
    DocumentLine,
    ImmutableRecordError,
    JournalEntry,
    Payment,
    Posting,
    ReferralLottery,
    Settlement,
)
from billing.services.ledger import disbursement_record, document_post, payment_record
from candidates.models import Candidate, WeeklyStatus, WeeklyStatusUpload
from common import weeks
from organisations.models import BenefitRate, Contract, Membership, Organisation
from placements.models import Employer, Job, Placement
from tests.factories import (
    CandidateFactory,
    ContractFactory,
    ContractInvestorFactory,
    DocumentFactory,
    DocumentLineFactory,
    EmployerFactory,
    JobFactory,
    MembershipFactory,
    OperatorFactory,
    RateCardVersionFactory,
    SettlementFactory,
    WeeklyStatusFactory,
)

W1 = weeks.parse_week("2020-W01")
W2 = weeks.parse_week("2020-W02")


@pytest.fixture
def base(db: None, settings: Any) -> dict[str, Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    contract = ContractFactory(code="IMPACT60")
    candidate = CandidateFactory(contract=contract, ref="C001", cpr="010180-1234")
    employer = EmployerFactory(operator=contract.operator, cvr="40000001")
    document = DocumentFactory(settlement=SettlementFactory(contract=contract, week=W2), seq=1)
    DocumentLineFactory(document=document, candidate=candidate)
    return {
        "contract": contract,
        "candidate": candidate,
        "status": WeeklyStatusFactory(candidate=candidate, week=W2),
        "employer": employer,
        "job": JobFactory(employer=employer),
        "user": MembershipFactory(organisation=contract.operator).user,
        "investment": ContractInvestorFactory(contract=contract),
        "rate_card": RateCardVersionFactory(contract=contract),
        "document": document,
        "entry": document_post(document=document),
    }


def _contract(b: dict[str, Any], **fields: Any) -> Contract:
    values = {
        "code": "NEW",
        "name": "New",
        "municipality": b["contract"].municipality,
        "operator": b["contract"].operator,
        "payee": b["contract"].payee,
        "first_week": W1,
        "last_week": W2,
    }
    return Contract.objects.create(**{**values, **fields})


def _candidate(b: dict[str, Any], **fields: Any) -> Candidate:
    values = {"contract": b["contract"], "ref": "NEW", "referred_on": date(2020, 1, 1)}
    return Candidate.objects.create(**{**values, **fields})


def _status(b: dict[str, Any], **fields: Any) -> WeeklyStatus:
    values = {"candidate": b["candidate"], "week": W1, "outcome": "full", "recorded_at": weeks.now_copenhagen()}
    return WeeklyStatus.objects.create(**{**values, **fields})


def _document(b: dict[str, Any], **fields: Any) -> Document:
    settlement = Settlement.objects.create(
        contract=b["contract"],
        week=weeks.parse_week("2020-W10"),
        settled_at=weeks.now_copenhagen(),
        as_of=weeks.now_copenhagen(),
    )
    values = {
        "contract": b["contract"],
        "settlement": settlement,
        "seq": 2,
        "number": "IMPACT60-00002",
        "kind": "invoice",
        "week": settlement.week,
        "issue_date": date(2020, 3, 16),
        "due_date": date(2020, 4, 15),
        "vat_rate": Decimal("0"),
        "subtotal": Decimal("100.00"),
        "vat": Decimal("0.00"),
        "total": Decimal("100.00"),
    }
    return Document.objects.create(**{**values, **fields})


def _placement(b: dict[str, Any], **fields: Any) -> Placement:
    values = {"candidate": b["candidate"], "job": b["job"], "education": "", "start": date(2020, 2, 3)}
    return Placement.objects.create(**{**values, **fields})


def _disbursement(b: dict[str, Any], **fields: Any) -> CapitalDisbursement:
    values = {
        "contract": b["contract"],
        "investor": b["investment"],
        "disbursed_on": date(2020, 1, 2),
        "amount": Decimal("10.00"),
    }
    return CapitalDisbursement.objects.create(**{**values, **fields})


def _entry(b: dict[str, Any], **fields: Any) -> JournalEntry:
    values = {"contract": b["contract"], "kind": "disbursement", "posted_on": date(2020, 1, 2), "memo": "x"}
    return JournalEntry.objects.create(**{**values, **fields})


def _upload(b: dict[str, Any], **fields: Any) -> WeeklyStatusUpload:
    values = {
        "contract": b["contract"],
        "uploaded_by": b["user"],
        "file_name": "uge.csv",
        "file_format": "csv",
        "uploaded_at": weeks.now_copenhagen(),
    }
    return WeeklyStatusUpload.objects.create(**{**values, **fields})


def _dispute(b: dict[str, Any], **fields: Any) -> Dispute:
    document = b["document"]
    values = {
        "document": document,
        "line": document.lines.get(),
        "reason": "r",
        "claimed_outcome": "none",
        "raised_at": weeks.now_copenhagen(),
    }
    return Dispute.objects.create(**{**values, **fields})


def _lottery(b: dict[str, Any], **fields: Any) -> ReferralLottery:
    values = {
        "contract": b["contract"],
        "seed": "s",
        "eligible": ["a"],
        "referred_count": 1,
        "referred": ["a"],
        "comparison": [],
        "referred_refs": ["C001"],
        "referral_date": date(2020, 1, 1),
        "drawn_at": weeks.now_copenhagen(),
    }
    return ReferralLottery.objects.create(**{**values, **fields})


# (kind, constraint name, action that violates exactly it). For unique constraints Django names itself
# (a field's unique=True, a one-to-one) the name is None.
CASES: list[tuple[str, str | None, Callable[[dict[str, Any]], Any]]] = [
    # organisations
    ("check", "organisation_kind_valid", lambda b: Organisation.objects.create(name="X", kind="bank", cvr="12345678")),
    ("check", "organisation_cvr_8_digits", lambda b: Organisation.objects.create(name="X", kind="operator", cvr="01234567")),
    ("check", "organisation_cvr_8_digits", lambda b: Organisation.objects.create(name="X", kind="operator", cvr="1234567")),
    ("check", "organisation_ean_13_digits", lambda b: Organisation.objects.create(name="X", kind="municipality", cvr="12345678", ean="579800000000")),
    ("unique", None, lambda b: Organisation.objects.create(name="X", kind="operator", cvr=b["contract"].operator.cvr)),
    ("unique", "membership_unique_user_organisation", lambda b: Membership.objects.create(user=b["user"], organisation=b["contract"].operator, role="coordinator")),
    ("check", "membership_role_valid", lambda b: Membership.objects.create(user=b["user"], organisation=b["contract"].municipality, role="mayor")),
    ("unique", None, lambda b: _contract(b, code="IMPACT60")),
    ("unique", None, lambda b: [BenefitRate.objects.create(year=2099, without_children=Decimal("1"), with_children=Decimal("1")) for _ in "ab"]),
    ("check", "contract_weeks_ordered", lambda b: _contract(b, first_week=W2, last_week=W1)),
    ("check", "contract_window_positive", lambda b: _contract(b, candidate_window_weeks=0)),
    ("check", "contract_max_paid_weeks_positive", lambda b: _contract(b, max_paid_weeks_per_candidate=0)),
    ("check", "contract_cap_non_negative", lambda b: _contract(b, cap_amount=Decimal("-0.01"))),
    ("check", "contract_vat_rate_range", lambda b: _contract(b, vat_rate=Decimal("1.25"))),
    ("check", "contract_vat_rate_range", lambda b: _contract(b, vat_rate=Decimal("-0.25"))),
    ("check", "contract_success_target_range", lambda b: _contract(b, success_target=Decimal("1.5"))),
    ("check", "contract_baseline_rate_range", lambda b: _contract(b, baseline_rate=Decimal("-0.1"))),
    ("check", "contract_success_min_weeks_positive", lambda b: _contract(b, success_min_weeks=0)),
    ("unique", "ratecard_unique_contract_week", lambda b: RateCardVersionFactory(contract=b["contract"])),
    ("check", "ratecard_prices_non_negative", lambda b: RateCardVersionFactory(contract=b["contract"], effective_from=W2, price_partial=Decimal("-1"))),
    ("unique", "contractinvestor_unique", lambda b: ContractInvestorFactory(contract=b["contract"])),
    ("check", "contractinvestor_committed_non_negative", lambda b: ContractInvestorFactory(contract=b["contract"], organisation=OperatorFactory(), committed=Decimal("-1"))),
    ("check", "contractinvestor_kind_valid", lambda b: ContractInvestorFactory(contract=b["contract"], organisation=OperatorFactory(), kind="lender")),
    # candidates
    ("unique", "candidate_unique_ref_per_contract", lambda b: _candidate(b, ref="C001")),
    ("unique", "candidate_unique_cpr_per_contract", lambda b: _candidate(b, cpr_hash=b["candidate"].cpr_hash)),
    ("check", "candidate_enrolled_after_referral", lambda b: _candidate(b, enrolled_on=date(2019, 12, 31))),
    ("check", "candidate_withdrawn_after_referral", lambda b: _candidate(b, withdrawn_on=date(2019, 12, 31))),
    ("unique", "weeklystatus_unique_candidate_week", lambda b: _status(b, week=W2)),
    ("check", "weeklystatus_outcome_valid", lambda b: _status(b, outcome="half")),
    ("check", "weeklystatus_hours_range", lambda b: _status(b, hours=Decimal("168.01"))),
    ("check", "weeklystatus_hours_range", lambda b: _status(b, hours=Decimal("-1"))),
    ("check", "statusupload_state_valid", lambda b: _upload(b, state="lost")),
    ("check", "statusupload_format_valid", lambda b: _upload(b, file_format="ods")),
    # placements
    ("unique", "employer_unique_cvr_per_operator", lambda b: Employer.objects.create(operator=b["contract"].operator, name="Y", cvr="40000001")),
    ("check", "employer_cvr_8_digits", lambda b: Employer.objects.create(operator=b["contract"].operator, name="Y", cvr="0400001")),
    ("check", "job_kind_valid", lambda b: Job.objects.create(employer=b["employer"], title="T", kind="gig")),
    ("check", "job_hours_range", lambda b: Job.objects.create(employer=b["employer"], title="T", hours_per_week=Decimal("169"))),
    ("check", "job_wage_non_negative", lambda b: Job.objects.create(employer=b["employer"], title="T", hourly_wage=Decimal("-1"))),
    ("check", "placement_job_xor_education", lambda b: _placement(b, education="SOSU")),
    ("check", "placement_job_xor_education", lambda b: _placement(b, job=None)),
    ("check", "placement_end_not_before_start", lambda b: _placement(b, end=date(2020, 2, 2))),
    ("check", "placement_hours_range", lambda b: _placement(b, hours_per_week=Decimal("200"))),
    # billing
    ("unique", "settlement_unique_contract_week", lambda b: SettlementFactory(contract=b["contract"], week=W2)),
    ("unique", "document_unique_contract_seq", lambda b: _document(b, seq=1)),
    ("unique", None, lambda b: _document(b, number=b["document"].number)),  # number
    ("unique", None, lambda b: _document(b, settlement=b["document"].settlement)),  # one document per settlement
    ("check", "document_kind_valid", lambda b: _document(b, kind="receipt")),
    ("check", "document_seq_positive", lambda b: _document(b, seq=0)),
    ("check", "document_total_is_subtotal_plus_vat", lambda b: _document(b, total=Decimal("100.01"))),
    ("check", "document_kind_matches_sign", lambda b: _document(b, subtotal=Decimal("-100.00"), total=Decimal("-100.00"))),
    ("check", "document_kind_matches_sign", lambda b: _document(b, kind="credit_note")),
    ("check", "document_kind_matches_sign", lambda b: _document(b, kind="credit_note", subtotal=Decimal("0"), total=Decimal("0"))),
    ("check", "document_due_after_issue", lambda b: _document(b, due_date=date(2020, 3, 15))),
    ("check", "documentline_amount_non_zero", lambda b: DocumentLineFactory(document=b["document"], candidate=b["candidate"], amount=Decimal("0"))),
    ("check", "disbursement_amount_positive", lambda b: _disbursement(b, amount=Decimal("0"))),
    ("check", "payment_amount_positive", lambda b: Payment.objects.create(document=b["document"], paid_on=date(2020, 2, 1), amount=Decimal("-5"))),
    ("check", "journalentry_one_cause", lambda b: _entry(b)),  # a disbursement entry without its disbursement
    ("check", "journalentry_one_cause", lambda b: _entry(b, kind="payment", disbursement=_disbursement(b))),
    ("check", "journalentry_one_cause", lambda b: _entry(b, kind="bonus", disbursement=_disbursement(b))),
    ("unique", None, lambda b: _entry(b, kind="document", document=b["document"])),  # one entry per document
    ("check", "posting_one_side", lambda b: Posting.objects.create(entry=b["entry"], account="cash", credit=Decimal("-1"))),
    ("check", "posting_one_side", lambda b: Posting.objects.create(entry=b["entry"], account="cash", debit=Decimal("1"), credit=Decimal("1"))),
    ("check", "posting_one_side", lambda b: Posting.objects.create(entry=b["entry"], account="cash", debit=Decimal("-1"))),
    ("unique", "dispute_one_open_per_line", lambda b: [_dispute(b), _dispute(b)]),
    ("check", "dispute_status_valid", lambda b: _dispute(b, status="pending", resolved_at=weeks.now_copenhagen())),
    ("check", "dispute_outcome_valid", lambda b: _dispute(b, claimed_outcome="half")),
    ("check", "dispute_resolved_when_closed", lambda b: _dispute(b, status="accepted")),
    ("check", "dispute_resolved_when_closed", lambda b: _dispute(b, resolved_at=weeks.now_copenhagen())),
    ("check", "dispute_rejection_has_reason", lambda b: _dispute(b, status="rejected", resolved_at=weeks.now_copenhagen())),
    ("check", "referrallottery_count_positive", lambda b: _lottery(b, referred_count=0)),
    ("check", "posting_account_valid", lambda b: Posting.objects.create(entry=b["entry"], account="bank", debit=Decimal("1"))),
    ("unique", "contractweekaggregate_unique", lambda b: [ContractWeekAggregate.objects.create(contract=b["contract"], week=W2) for _ in "ab"]),
    ("unique", "contractretentionaggregate_unique", lambda b: [ContractRetentionAggregate.objects.create(contract=b["contract"], weeks_after=3) for _ in "ab"]),
]  # fmt: skip


# A value some constraint refuses may also break another that implies it; the database reports either.
IMPLIED_BY = {"document_kind_valid": ("document_kind_matches_sign",)}


@pytest.mark.parametrize(
    ("kind", "name", "violate"), CASES, ids=[f"{n or k}-{i}" for i, (k, n, _v) in enumerate(CASES)]
)
def test_constraint_refuses_violation(base: dict[str, Any], kind: str, name: str | None, violate: Callable) -> None:
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        violate(base)
    message = str(raised.value)
    if kind == "unique":
        assert ("UNIQUE constraint failed" in message) or ("duplicate key" in message)
    if name is not None and (kind == "check" or connection.vendor == "postgresql"):
        names = {name, *IMPLIED_BY.get(name, ())}
        assert any(n in message for n in names), f"expected {name} in {message!r}"


def test_every_named_constraint_has_a_case() -> None:
    from django.apps import apps

    named = {
        constraint.name
        for model in apps.get_models()
        if model._meta.app_label in {"organisations", "candidates", "placements", "billing"}
        for constraint in model._meta.constraints
    }
    assert named == {name for _kind, name, _violate in CASES if name}


def test_partial_unique_constraints_allow_blank_values(base: dict[str, Any]) -> None:
    """Several candidates without a CPR (erased) and employers without a CVR fit in one contract/operator."""
    _candidate(base, ref="E1", cpr_hash="")
    _candidate(base, ref="E2", cpr_hash="")
    Employer.objects.create(operator=base["contract"].operator, name="A", cvr="")
    Employer.objects.create(operator=base["contract"].operator, name="B", cvr="")
    assert Candidate.objects.filter(cpr_hash="").count() == 2


def test_valid_rows_pass_every_constraint(base: dict[str, Any]) -> None:
    """The builders above are right apart from the one value each case breaks."""
    with transaction.atomic():
        _contract(base)
        _candidate(base)
        _status(base)
        _placement(base)
        _placement(base, job=None, education="SOSU")
        _document(base)
        _entry(base, disbursement=_disbursement(base))
        _dispute(base)
        _lottery(base)
        Posting.objects.create(entry=base["entry"], account="cash", debit=Decimal("1"))
        # Roll back: on PostgreSQL the deferred triggers would (rightly) refuse this unbalanced, line-less
        # state at the end of the test; here only the row constraints are under test.
        transaction.set_rollback(True)


# --- append-only (B10) ----------------------------------------------------------------------------------


@pytest.fixture
def billing_rows(base: dict[str, Any]) -> dict[type, Any]:
    document = base["document"]
    payment = payment_record(document=document, amount=Decimal("100.00"), paid_on=date(2020, 2, 1))
    disbursement = disbursement_record(
        contract=base["contract"], investor=base["investment"], amount=Decimal("500.00"), disbursed_on=date(2020, 1, 2)
    )
    return {
        Settlement: document.settlement,
        Document: document,
        DocumentLine: document.lines.get(),
        Payment: payment,
        CapitalDisbursement: disbursement,
        JournalEntry: base["entry"],
        Posting: base["entry"].postings.first(),
    }


APPEND_ONLY = [Settlement, Document, DocumentLine, Payment, CapitalDisbursement, JournalEntry, Posting]


@pytest.mark.parametrize("model", APPEND_ONLY, ids=lambda m: m.__name__)
def test_append_only_guard(billing_rows: dict[type, Any], model: type) -> None:
    row = billing_rows[model]
    before = model.objects.filter(pk=row.pk).values().get()
    with pytest.raises(ImmutableRecordError):
        row.save()
    with pytest.raises(ImmutableRecordError):
        row.save(update_fields=[f.name for f in model._meta.concrete_fields if not f.primary_key][:1])
    with pytest.raises(ImmutableRecordError):
        row.delete()
    with pytest.raises(ImmutableRecordError):
        model.objects.filter(pk=row.pk).update(pk=row.pk)
    with pytest.raises(ImmutableRecordError):
        model.objects.filter(pk=row.pk).delete()
    with pytest.raises(ImmutableRecordError):
        model.objects.all().delete()
    assert model.objects.filter(pk=row.pk).values().get() == before


def test_issued_document_keeps_its_amounts(billing_rows: dict[type, Any]) -> None:
    document = Document.objects.get(pk=billing_rows[Document].pk)
    document.total = Decimal("0.00")
    with pytest.raises(ImmutableRecordError, match="cannot be changed"):
        document.save()
    assert Document.objects.get(pk=document.pk).total == Decimal("1200.00")


def test_contract_with_documents_cannot_be_deleted(billing_rows: dict[type, Any]) -> None:
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError) as raised:
        billing_rows[Document].contract.delete()
    assert billing_rows[Document] in raised.value.protected_objects


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE billing_document SET total = 0, subtotal = 0 WHERE id = %s",
        "DELETE FROM billing_document WHERE id = %s",
    ],
)
def test_postgres_trigger_refuses_raw_update_and_delete(billing_rows: dict[type, Any], statement: str) -> None:
    document = billing_rows[Document]
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [document.pk])
    assert Document.objects.filter(pk=document.pk, total=Decimal("1200.00")).exists()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "table",
    [
        "billing_settlement",
        "billing_documentline",
        "billing_payment",
        "billing_capitaldisbursement",
        "billing_journalentry",
        "billing_posting",
    ],
)
def test_postgres_trigger_guards_every_billing_table(billing_rows: dict[type, Any], table: str) -> None:
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")


@pytest.fixture
def committed_contract(transactional_db: None) -> dict[str, Any]:
    contract = ContractFactory(code="TX")
    return {
        "contract": contract,
        "investment": ContractInvestorFactory(contract=contract),
        "candidate": CandidateFactory(contract=contract, ref="C1"),
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_an_unbalanced_entry_at_commit(committed_contract: dict[str, Any]) -> None:
    contract, investment = committed_contract["contract"], committed_contract["investment"]
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        disbursement = CapitalDisbursement.objects.create(
            contract=contract, investor=investment, disbursed_on=date(2020, 1, 2), amount=Decimal("100.00")
        )
        entry = JournalEntry.objects.create(
            contract=contract, kind="disbursement", posted_on=date(2020, 1, 2), memo="half", disbursement=disbursement
        )
        Posting.objects.create(entry=entry, account="programme_funding", debit=Decimal("100.00"))
        Posting.objects.create(entry=entry, account="cash", credit=Decimal("99.99"))
    # nothing half-stored
    assert not CapitalDisbursement.objects.exists()
    assert not JournalEntry.objects.exists()
    assert not Posting.objects.exists()
    # the balanced entry of the service commits
    disbursement_record(contract=contract, investor=investment, amount=Decimal("100.00"), disbursed_on=date(2020, 1, 2))
    assert Posting.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_an_entry_with_one_posting_at_commit(committed_contract: dict[str, Any]) -> None:
    contract, investment = committed_contract["contract"], committed_contract["investment"]
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        disbursement = CapitalDisbursement.objects.create(
            contract=contract, investor=investment, disbursed_on=date(2020, 1, 2), amount=Decimal("100.00")
        )
        JournalEntry.objects.create(
            contract=contract, kind="disbursement", posted_on=date(2020, 1, 2), memo="alone", disbursement=disbursement
        )
    assert not JournalEntry.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_a_document_whose_lines_do_not_sum_to_its_subtotal(
    committed_contract: dict[str, Any],
) -> None:
    contract, candidate = committed_contract["contract"], committed_contract["candidate"]
    with pytest.raises(IntegrityError, match="differs from the sum of its lines"), transaction.atomic():
        document = DocumentFactory(settlement=SettlementFactory(contract=contract), seq=1, subtotal=Decimal("1200.00"))
        DocumentLineFactory(document=document, candidate=candidate, amount=Decimal("600.00"))
        document_post(document=document)
    assert not Document.objects.exists() and not Settlement.objects.exists()
    with transaction.atomic():
        document = DocumentFactory(settlement=SettlementFactory(contract=contract), seq=1, subtotal=Decimal("1200.00"))
        DocumentLineFactory(document=document, candidate=candidate, amount=Decimal("600.00"))
        DocumentLineFactory(document=document, candidate=candidate, amount=Decimal("600.00"), week=W1)
        document_post(document=document)
    assert Document.objects.count() == 1
