"""Employers, jobs and placements (a candidate in a job or in education)."""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from candidates.models import Candidate
from common.validators import validate_cvr
from organisations.models import Organisation

HOURS: dict[str, Any] = {
    "max_digits": 5,
    "decimal_places": 2,
    "validators": [MinValueValidator(0), MaxValueValidator(168)],
}


class Employer(models.Model):
    """A company registered by an operator; `own_enterprise` marks the operator's social-economy firms."""

    operator = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="employers", verbose_name=_("operator")
    )
    name = models.CharField(_("name"), max_length=200)
    cvr = models.CharField(_("CVR number"), max_length=8, blank=True, validators=[validate_cvr])
    sector = models.CharField(_("sector"), max_length=100, blank=True)
    own_enterprise = models.BooleanField(_("operator's own enterprise"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("employer")
        verbose_name_plural = _("employers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "cvr"], condition=~Q(cvr=""), name="employer_unique_cvr_per_operator"
            ),
            models.CheckConstraint(
                name="employer_cvr_8_digits", condition=Q(cvr="") | Q(cvr__regex=r"^[1-9][0-9]{7}$")
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Job(models.Model):
    class Kind(models.TextChoices):
        ORDINARY = "ordinary", _("Ordinary job")
        SMALL_JOB = "small_job", _("Small job")
        FLEX_JOB = "flex_job", _("Flex job")
        SHELTERED_JOB = "sheltered_job", _("Sheltered job")

    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("employer"))
    title = models.CharField(_("title"), max_length=200)
    sector = models.CharField(_("sector"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SMALL_JOB)
    hours_per_week = models.DecimalField(_("hours per week"), null=True, blank=True, **HOURS)
    hourly_wage = models.DecimalField(_("hourly wage"), max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["employer__name", "title"]
        constraints = [
            models.CheckConstraint(
                name="job_kind_valid", condition=Q(kind__in=["ordinary", "small_job", "flex_job", "sheltered_job"])
            ),
            models.CheckConstraint(
                name="job_hours_range",
                condition=Q(hours_per_week__isnull=True) | Q(hours_per_week__gte=0, hours_per_week__lte=168),
            ),
            models.CheckConstraint(
                name="job_wage_non_negative", condition=Q(hourly_wage__isnull=True) | Q(hourly_wage__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}, {self.employer.name}"


class Placement(models.Model):
    """A candidate in a job or in education from `start` to an optional `end`; overlaps are allowed."""

    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="placements")
    job = models.ForeignKey(Job, on_delete=models.PROTECT, null=True, blank=True, related_name="placements")
    education = models.CharField(_("education"), max_length=200, blank=True)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)
    hours_per_week = models.DecimalField(_("hours per week"), null=True, blank=True, **HOURS)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        ordering = ["candidate", "start"]
        constraints = [
            models.CheckConstraint(
                name="placement_job_xor_education",
                condition=(Q(job__isnull=False) & Q(education="")) | (Q(job__isnull=True) & ~Q(education="")),
            ),
            models.CheckConstraint(
                name="placement_end_not_before_start", condition=Q(end__isnull=True) | Q(end__gte=models.F("start"))
            ),
            models.CheckConstraint(
                name="placement_hours_range",
                condition=Q(hours_per_week__isnull=True) | Q(hours_per_week__gte=0, hours_per_week__lte=168),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.candidate} {self.kind} {self.start}"

    @property
    def kind(self) -> str:
        return "job" if self.job_id else "education"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors: dict[str, Any] = {}
        if bool(self.job_id) == bool(self.education):
            errors["job"] = _("A placement is either a job or an education, not both or neither.")
        if self.end and self.start and self.end < self.start:
            errors["end"] = _("The placement ends before it starts.")
        if errors:
            raise ValidationError(errors)
