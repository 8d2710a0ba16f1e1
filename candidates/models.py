"""Candidates (referred people, with encrypted CPR) and their weekly employment status."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from candidates import cpr as cpr_tools
from common import weeks
from common.validators import validate_monday
from organisations.models import Contract


class Candidate(models.Model):
    class Status(models.TextChoices):
        REFERRED = "referred", _("Referred")
        ENROLLED = "enrolled", _("Enrolled")
        IN_WORK = "in_work", _("In work")
        IN_EDUCATION = "in_education", _("In education")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="candidates")
    ref = models.CharField(_("ref"), max_length=40, help_text=_("Pseudonymous reference, unique in the contract."))
    name = models.CharField(_("name"), max_length=200, blank=True)
    # Personal data: the CPR number is stored only encrypted (Fernet) and found by its keyed hash.
    cpr_encrypted = models.TextField(_("CPR (encrypted)"), blank=True, editable=False)
    cpr_hash = models.CharField(_("CPR (keyed hash)"), max_length=64, blank=True, db_index=True, editable=False)
    referred_on = models.DateField(_("referred on"))
    enrolled_on = models.DateField(_("enrolled on"), null=True, blank=True)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawal_reason = models.CharField(_("withdrawal reason"), max_length=500, blank=True)
    consent_on = models.DateField(_("consent given on"), null=True, blank=True)
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="caseload",
        verbose_name=_("consultant"),
    )
    notes = models.TextField(_("notes"), blank=True)
    pseudonymised_at = models.DateTimeField(_("pseudonymised"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")
        ordering = ["contract", "ref"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "ref"], name="candidate_unique_ref_per_contract"),
            models.UniqueConstraint(
                fields=["contract", "cpr_hash"], condition=~Q(cpr_hash=""), name="candidate_unique_cpr_per_contract"
            ),
            models.CheckConstraint(
                name="candidate_enrolled_after_referral",
                condition=Q(enrolled_on__isnull=True) | Q(enrolled_on__gte=models.F("referred_on")),
            ),
            models.CheckConstraint(
                name="candidate_withdrawn_after_referral",
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=models.F("referred_on")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code}/{self.ref}"

    # --- personal data ---------------------------------------------------------------------------
    def set_cpr(self, number: str) -> None:
        if self.pseudonymised_at:
            raise ValidationError("A pseudonymised candidate cannot get a CPR number again.", code="pseudonymised")
        normalised = cpr_tools.normalise_cpr(number)
        self.cpr_encrypted = cpr_tools.encrypt_cpr(normalised)
        self.cpr_hash = cpr_tools.hash_cpr(normalised)

    @property
    def cpr(self) -> str:
        """The decrypted CPR number (10 digits); '' when erased. Use only where a role needs it."""
        return cpr_tools.decrypt_cpr(self.cpr_encrypted) if self.cpr_encrypted else ""

    @property
    def cpr_masked(self) -> str:
        return cpr_tools.mask_cpr(self.cpr) if self.cpr_encrypted else ""

    # --- predicates ------------------------------------------------------------------------------
    @property
    def referral_week(self) -> date:
        return weeks.week_of(self.referred_on)

    def status_on(self, day: date, *, active_placement_kinds: set[str] | None = None) -> str:
        if self.withdrawn_on and self.withdrawn_on <= day:
            return self.Status.WITHDRAWN
        if not self.enrolled_on or self.enrolled_on > day:
            return self.Status.REFERRED
        kinds = active_placement_kinds or set()
        if "job" in kinds:
            return self.Status.IN_WORK
        if "education" in kinds:
            return self.Status.IN_EDUCATION
        return self.Status.ENROLLED


class Outcome(models.TextChoices):
    NONE = "none", _("None")
    PARTIAL = "partial", _("Partial")
    FULL = "full", _("Full")
    EDUCATION = "education", _("Education")


PAID_OUTCOMES = (Outcome.PARTIAL, Outcome.FULL, Outcome.EDUCATION)


class WeeklyStatus(models.Model):
    """The one recorded outcome of one candidate in one ISO week (stored as its Monday)."""

    # No index of its own: the unique (candidate, week) index serves every lookup by candidate, and each index
    # less is one write less per status an import stores (bench/NOTES.md).
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="weekly_statuses", db_index=False)
    week = models.DateField(_("week"), validators=[validate_monday])
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    hours = models.DecimalField(
        _("hours"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(168)],
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    # History is read by candidate and by status (their indexes stay), never by who recorded it.
    history = HistoricalRecords(no_db_index=["recorded_by"])

    class Meta:
        verbose_name = _("weekly status")
        verbose_name_plural = _("weekly statuses")
        ordering = ["candidate", "week"]
        constraints = [
            models.UniqueConstraint(fields=["candidate", "week"], name="weeklystatus_unique_candidate_week"),
            models.CheckConstraint(
                name="weeklystatus_outcome_valid", condition=Q(outcome__in=["none", "partial", "full", "education"])
            ),
            models.CheckConstraint(
                name="weeklystatus_hours_range", condition=Q(hours__isnull=True) | Q(hours__gte=0, hours__lte=168)
            ),
        ]
        # One week's statuses are read by week (settlement, the dashboard's unsettled weeks, the simulator):
        # with the candidate and outcome in the index (PostgreSQL) that is an index-only scan instead of a
        # visit to every heap page of the week (rows are written candidate by candidate, so scattered).
        indexes = [models.Index(fields=["week"], include=["candidate", "outcome"], name="weeklystatus_week_covering")]

    def __str__(self) -> str:
        return f"{self.candidate_id} {weeks.format_week(self.week)} {self.outcome}"

    @property
    def week_label(self) -> str:
        return weeks.format_week(self.week)


class WeeklyStatusUpload(models.Model):
    """An uploaded weekly status file and the progress of its import, so any worker can report to any page."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        READING = "reading", _("Reading the file")
        CHECKING = "checking", _("Checking the lines")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Nothing imported")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    FINISHED = (State.DONE, State.FAILED)

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="status_uploads")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    file_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    # The file itself, in the database so a worker on another machine can read it; cleared once processed.
    content = models.BinaryField(_("content"), blank=True, editable=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    rows_total = models.PositiveIntegerField(_("lines"), default=0)
    rows_done = models.PositiveIntegerField(_("lines processed"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("weekly status upload")
        verbose_name_plural = _("weekly status uploads")
        ordering = ["-uploaded_at"]
        constraints = [
            models.CheckConstraint(
                name="statusupload_state_valid",
                condition=Q(state__in=["queued", "reading", "checking", "importing", "done", "failed"]),
            ),
            models.CheckConstraint(name="statusupload_format_valid", condition=Q(file_format__in=["csv", "xlsx"])),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED

    @property
    def percent(self) -> int:
        """Progress for the bar: reading and checking take the first half, the import the second."""
        if self.is_finished:
            return 100
        share: dict[str, int] = {self.State.READING: 10, self.State.CHECKING: 40, self.State.IMPORTING: 60}
        return share.get(str(self.state), 0)
