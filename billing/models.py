"""Settlements, issued documents (invoices, credit notes) and their lines, payments, disbursements, ledger.

Everything here is append-only: once written, a row is never updated or deleted (B10). The ORM guard
below refuses it, the admin offers no change or delete, and on PostgreSQL a trigger refuses it in SQL.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Round
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from candidates.models import Candidate, Outcome
from common import weeks
from common.validators import validate_monday
from organisations.models import Contract, ContractInvestor, RateCardVersion

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class ImmutableRecordError(Exception):
    """An attempt to change or delete an issued, append-only record."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise ImmutableRecordError(f"{self.model.__name__} rows are append-only and cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableRecordError(f"{self.model.__name__} rows are append-only and cannot be deleted.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRecordError(f"{type(self).__name__} {self.pk} is issued and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRecordError(f"{type(self).__name__} {self.pk} is issued and cannot be deleted.")


class Settlement(AppendOnlyModel):
    """The record that a contract's week has been settled, with zero or one document (B7, B11)."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="settlements")
    week = models.DateField(_("week"), validators=[validate_monday])
    settled_at = models.DateTimeField(_("settled at"))
    as_of = models.DateTimeField(_("run as of"))

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["contract", "week"]
        constraints = [models.UniqueConstraint(fields=["contract", "week"], name="settlement_unique_contract_week")]

    def __str__(self) -> str:
        return f"{self.contract.code} {weeks.format_week(self.week)}"

    @property
    def week_label(self) -> str:
        return weeks.format_week(self.week)


class Document(AppendOnlyModel):
    """An issued invoice or credit note; numbered per contract without gaps (B8, B9)."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="documents")
    settlement = models.OneToOneField(Settlement, on_delete=models.PROTECT, related_name="document")
    seq = models.PositiveIntegerField(_("sequence number"))
    number = models.CharField(_("number"), max_length=60, unique=True)
    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    week = models.DateField(_("week"), validators=[validate_monday])
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    currency = models.CharField(_("currency"), max_length=3, default="DKK")
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4)
    subtotal = models.DecimalField(_("subtotal"), **MONEY)
    vat = models.DecimalField(_("VAT"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    # A credit note names the invoice it corrects (OIOUBL BillingReference): the newest earlier invoice.
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("corrects invoice"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["contract", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "seq"], name="document_unique_contract_seq"),
            models.CheckConstraint(name="document_kind_valid", condition=Q(kind__in=["invoice", "credit_note"])),
            models.CheckConstraint(name="document_seq_positive", condition=Q(seq__gte=1)),
            # Compared in øre: SQLite stores decimals as floating point, where 0.1 + 0.2 != 0.3.
            models.CheckConstraint(
                name="document_total_is_subtotal_plus_vat",
                condition=Exact(Round(models.F("total") * 100), Round((models.F("subtotal") + models.F("vat")) * 100)),
            ),
            models.CheckConstraint(
                name="document_kind_matches_sign",
                condition=(Q(kind="invoice") & Q(subtotal__gte=0)) | (Q(kind="credit_note") & Q(subtotal__lt=0)),
            ),
            models.CheckConstraint(name="document_due_after_issue", condition=Q(due_date__gte=models.F("issue_date"))),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def week_label(self) -> str:
        return weeks.format_week(self.week)

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE


class DocumentLine(AppendOnlyModel):
    """One (candidate, week) amount on a document: regular for the document's week, else an adjustment."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="lines")
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="document_lines")
    week = models.DateField(_("week"), validators=[validate_monday])
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    rate_card_version = models.ForeignKey(
        RateCardVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    price = models.DecimalField(_("price"), **MONEY)
    amount = models.DecimalField(_("amount"), **MONEY)
    adjustment = models.BooleanField(_("adjustment"), default=False)

    class Meta:
        verbose_name = _("document line")
        verbose_name_plural = _("document lines")
        ordering = ["document", "week", "candidate__ref"]
        indexes = [
            models.Index(fields=["candidate", "week"], name="documentline_candidate_week"),
            # Settlement reads only the lines from the week it recomputes from (usually none).
            models.Index(fields=["week"], name="documentline_week"),
        ]
        constraints = [models.CheckConstraint(name="documentline_amount_non_zero", condition=~Q(amount=0))]

    def __str__(self) -> str:
        return f"{self.document.number} {self.candidate_id} {weeks.format_week(self.week)} {self.amount}"

    @property
    def week_label(self) -> str:
        return weeks.format_week(self.week)


class CapitalDisbursement(AppendOnlyModel):
    """Capital an investor pays out to the operator (posts debit programme_funding, credit cash)."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="disbursements")
    investor = models.ForeignKey(ContractInvestor, on_delete=models.PROTECT, related_name="disbursements")
    disbursed_on = models.DateField(_("disbursed on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("capital disbursement")
        verbose_name_plural = _("capital disbursements")
        ordering = ["contract", "disbursed_on", "pk"]
        constraints = [models.CheckConstraint(name="disbursement_amount_positive", condition=Q(amount__gt=0))]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.disbursed_on} {self.amount}"


class Payment(AppendOnlyModel):
    """A municipal payment against an invoice (partial payments allowed, overpayment refused)."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="payments")
    paid_on = models.DateField(_("paid on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["document", "paid_on", "pk"]
        constraints = [models.CheckConstraint(name="payment_amount_positive", condition=Q(amount__gt=0))]

    def __str__(self) -> str:
        return f"{self.document.number} {self.paid_on} {self.amount}"


class Account(models.TextChoices):
    """The investor ledger's chart of accounts (B12)."""

    MUNICIPALITY_RECEIVABLE = "municipality_receivable", _("Municipality receivable")
    OUTCOME_REVENUE = "outcome_revenue", _("Outcome revenue")
    CASH = "cash", _("Cash")
    PROGRAMME_FUNDING = "programme_funding", _("Programme funding")


class JournalEntry(AppendOnlyModel):
    """One balanced entry of the contract's ledger, posted by the transaction that made its cause."""

    class Kind(models.TextChoices):
        DOCUMENT = "document", _("Document issued")
        PAYMENT = "payment", _("Municipal payment")
        DISBURSEMENT = "disbursement", _("Capital disbursement")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="journal_entries")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    posted_on = models.DateField(_("posted on"))
    memo = models.CharField(_("memo"), max_length=300)
    document = models.OneToOneField(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="journal_entry"
    )
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="journal_entry"
    )
    disbursement = models.OneToOneField(
        CapitalDisbursement, on_delete=models.PROTECT, null=True, blank=True, related_name="journal_entry"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["contract", "posted_on", "pk"]
        constraints = [
            models.CheckConstraint(
                name="journalentry_one_cause",
                condition=(
                    Q(kind="document", document__isnull=False, payment__isnull=True, disbursement__isnull=True)
                    | Q(kind="payment", document__isnull=True, payment__isnull=False, disbursement__isnull=True)
                    | Q(kind="disbursement", document__isnull=True, payment__isnull=True, disbursement__isnull=False)
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.posted_on} {self.memo}"


class Posting(AppendOnlyModel):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.CharField(_("account"), max_length=30, choices=Account.choices)
    debit = models.DecimalField(_("debit"), default=Decimal("0.00"), **MONEY)
    credit = models.DecimalField(_("credit"), default=Decimal("0.00"), **MONEY)

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering = ["entry", "pk"]
        constraints = [
            models.CheckConstraint(
                # One side only; both zero only in the entry of a document whose lines net to zero.
                name="posting_one_side",
                condition=(Q(debit__gte=0) & Q(credit=0)) | (Q(debit=0) & Q(credit__gte=0)),
            ),
            models.CheckConstraint(
                name="posting_account_valid",
                condition=Q(account__in=["municipality_receivable", "outcome_revenue", "cash", "programme_funding"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} D{self.debit} C{self.credit}"


# --- the municipality portal: disputes, referral lotteries, issue e-mails ----------------------------


class Dispute(models.Model):
    """The municipality's objection to one line of an issued document, and the coordinator's resolution.

    A dispute never changes the line (B10): accepting it corrects the weekly status under the import
    rules, and the adjustment follows on the next document. Every step is kept in the history table.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="disputes", verbose_name=_("document")
    )
    line = models.ForeignKey(DocumentLine, on_delete=models.PROTECT, related_name="disputes", verbose_name=_("line"))
    reason = models.CharField(_("reason"), max_length=500)
    claimed_outcome = models.CharField(
        _("outcome claimed by the municipality"),
        max_length=10,
        choices=Outcome.choices,
        help_text=_("The outcome the municipality holds to be right for the line's candidate and week."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution_note = models.CharField(_("resolution note"), max_length=500, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("raised by"),
    )
    raised_at = models.DateTimeField(_("raised at"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["line"], condition=Q(status="open"), name="dispute_one_open_per_line"),
            models.CheckConstraint(
                name="dispute_status_valid", condition=Q(status__in=["open", "accepted", "rejected"])
            ),
            models.CheckConstraint(
                name="dispute_outcome_valid", condition=Q(claimed_outcome__in=["none", "partial", "full", "education"])
            ),
            models.CheckConstraint(
                name="dispute_resolved_when_closed",
                condition=(Q(status="open") & Q(resolved_at__isnull=True))
                | (~Q(status="open") & Q(resolved_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="dispute_rejection_has_reason", condition=~Q(status="rejected") | ~Q(resolution_note="")
            ),
        ]
        indexes = [models.Index(fields=["document", "status"], name="dispute_document_status")]

    def __str__(self) -> str:
        return f"{self.document.number} {self.line_id} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class ReferralLottery(AppendOnlyModel):
    """A recorded, reproducible random draw of who among the eligible people is referred (the rest compare).

    `eligible` holds the people as keyed CPR hashes (pseudonymous), in the order given. The draw ranks
    each by SHA-256 of "seed:hash" and refers the first `referred_count`; anyone holding this record can
    recompute it (see billing.services.referrals.lottery_rank), so a draw cannot quietly be redone.
    """

    METHOD = "sha256-rank-v1"

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="referral_lotteries")
    seed = models.CharField(_("seed"), max_length=100)
    method = models.CharField(_("method"), max_length=40, default=METHOD)
    eligible = models.JSONField(_("eligible (keyed CPR hashes)"))
    referred_count = models.PositiveIntegerField(_("number referred"))
    referred = models.JSONField(_("drawn for referral (hashes)"))
    comparison = models.JSONField(_("comparison group (hashes)"))
    referred_refs = models.JSONField(_("refs of the referred candidates"))
    referral_date = models.DateField(_("referral date"))
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("drawn by"),
    )
    drawn_at = models.DateTimeField(_("drawn at"))

    class Meta:
        verbose_name = _("referral lottery")
        verbose_name_plural = _("referral lotteries")
        ordering = ["-drawn_at", "-pk"]
        constraints = [
            models.CheckConstraint(name="referrallottery_count_positive", condition=Q(referred_count__gte=1))
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.drawn_at:%Y-%m-%d %H:%M} seed {self.seed}"


class DocumentEmail(AppendOnlyModel):
    """That the issue e-mail of a document went out (once: a redelivered task finds this and stops)."""

    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="email")
    recipient = models.EmailField(_("recipient"))
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("issue e-mail")
        verbose_name_plural = _("issue e-mails")

    def __str__(self) -> str:
        return f"{self.document.number} -> {self.recipient}"


# --- Dashboard aggregates: precomputed per contract and week (billing/analytics/aggregates.py) -----------


class DashboardAggregateState(models.Model):
    """How far a contract's dashboard aggregates reach, and whether a change since has made them stale.

    The aggregates cover the settled weeks up to `through`. Database triggers set `stale` when a settled
    week's input changes (they follow Contract.recompute_from, which the engine's own triggers keep), and
    `sectors_stale_from` when a placement, job or employer changes: the dashboard then computes those
    figures live until the next settlement (or the rebuild task) refreshes them.
    """

    contract = models.OneToOneField(
        Contract, on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("contract")
    )
    through = models.DateField(_("aggregated through week"), validators=[validate_monday])
    success_min_weeks = models.PositiveIntegerField(_("weeks for success when aggregated"))
    stale = models.BooleanField(_("stale"), default=False)
    sectors_stale_from = models.DateField(_("sector mix stale from"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"))
    # The unsettled weeks after `through` up to `provisional_through` (the week it was computed in), as
    # computed at `provisional_at` from the statuses of those weeks: provisional by nature, shown with that
    # time and recomputed by the same task (billing/analytics/aggregates.py).
    provisional_through = models.DateField(_("provisional through week"), null=True, blank=True)
    provisional_figures = models.JSONField(_("provisional figures"), null=True, blank=True)
    provisional_at = models.DateTimeField(_("provisional figures computed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dashboard aggregate state")
        verbose_name_plural = _("dashboard aggregate states")

    def __str__(self) -> str:
        return f"{self.contract_id} through {weeks.format_week(self.through)}"


class ContractWeekAggregate(models.Model):
    """One settled week of a contract as the dashboard counts it: recorded and billable (B1) outcomes,
    candidates who succeed (B13) that week and candidates whose first billable week it is."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="+", verbose_name=_("contract"))
    week = models.DateField(_("week"), validators=[validate_monday])
    full = models.PositiveIntegerField(default=0)
    partial = models.PositiveIntegerField(default=0)
    education = models.PositiveIntegerField(default=0)
    billable_full = models.PositiveIntegerField(default=0)
    billable_partial = models.PositiveIntegerField(default=0)
    billable_education = models.PositiveIntegerField(default=0)
    successes = models.PositiveIntegerField(default=0)
    first_paid = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("dashboard week aggregate")
        verbose_name_plural = _("dashboard week aggregates")
        constraints = [models.UniqueConstraint(fields=["contract", "week"], name="contractweekaggregate_unique")]

    def __str__(self) -> str:
        return f"{self.contract_id} {weeks.format_week(self.week)}"


class ContractRetentionAggregate(models.Model):
    """Candidate-weeks self-supporting `weeks_after` weeks after the candidate's first billable week."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="+", verbose_name=_("contract"))
    weeks_after = models.PositiveIntegerField(_("weeks after the first paid week"))
    candidates = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("dashboard retention aggregate")
        verbose_name_plural = _("dashboard retention aggregates")
        constraints = [
            models.UniqueConstraint(fields=["contract", "weeks_after"], name="contractretentionaggregate_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} +{self.weeks_after}"


class ContractSectorAggregate(models.Model):
    """Candidate-weeks in work per week, outcome and sector of the job placement active that week."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="+", verbose_name=_("contract"))
    week = models.DateField(_("week"), validators=[validate_monday])
    sector = models.CharField(_("sector"), max_length=100, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    weeks = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("dashboard sector aggregate")
        verbose_name_plural = _("dashboard sector aggregates")
        indexes = [models.Index(fields=["contract", "week"], name="contractsectoraggregate_week")]

    def __str__(self) -> str:
        return f"{self.contract_id} {weeks.format_week(self.week)} {self.sector} {self.outcome}"


class CandidatePaidAggregate(models.Model):
    """A candidate's first billable week and billable weeks counted so far (up to the weeks needed for
    success): what the dashboard needs to extend its aggregates week by week without rereading history."""

    candidate = models.OneToOneField(
        Candidate, on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("candidate")
    )
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="+", verbose_name=_("contract"))
    first_paid = models.DateField(_("first paid week"))
    paid_weeks = models.PositiveIntegerField(_("paid weeks, up to the weeks for success"))

    class Meta:
        verbose_name = _("dashboard candidate aggregate")
        verbose_name_plural = _("dashboard candidate aggregates")

    def __str__(self) -> str:
        return f"{self.candidate_id} from {weeks.format_week(self.first_paid)}"
