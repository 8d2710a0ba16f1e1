"""Parties, users and their roles, and the outcome contract with its rate card and investors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common import weeks
from common.validators import validate_cvr, validate_ean, validate_monday

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
RATE: dict[str, Any] = {
    "max_digits": 5,
    "decimal_places": 4,
    "validators": [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
}


class User(AbstractUser):
    """A person who logs in; what they may see follows from their memberships (SPEC section 5)."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class Organisation(models.Model):
    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Municipality")
        OPERATOR = "operator", _("Operator")
        INVESTOR = "investor", _("Investor")
        FUNDER = "funder", _("Funder")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    cvr = models.CharField(_("CVR number"), max_length=8, unique=True, validators=[validate_cvr])
    ean = models.CharField(
        _("EAN (GLN) number"),
        max_length=13,
        blank=True,
        validators=[validate_ean],
        help_text=_("Where the organisation receives electronic invoices."),
    )
    street_name = models.CharField(_("street"), max_length=200, blank=True)
    building_number = models.CharField(_("building number"), max_length=20, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    bank_account = models.CharField(
        _("bank account"), max_length=40, blank=True, help_text=_("Registration and account number for payments.")
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="organisation_kind_valid",
                condition=Q(kind__in=["municipality", "operator", "investor", "funder"]),
            ),
            models.CheckConstraint(name="organisation_cvr_8_digits", condition=Q(cvr__regex=r"^[1-9][0-9]{7}$")),
            models.CheckConstraint(
                name="organisation_ean_13_digits", condition=Q(ean="") | Q(ean__regex=r"^[0-9]{13}$")
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CONSULTANT = "consultant", _("Job consultant")
    COORDINATOR = "coordinator", _("Coordinator")
    MUNICIPALITY = "municipality", _("Municipality")
    INVESTOR = "investor", _("Investor")


# Which kinds of organisation a role can belong to.
ROLE_ORGANISATION_KINDS: dict[str, set[str]] = {
    Role.CONSULTANT: {Organisation.Kind.OPERATOR},
    Role.COORDINATOR: {Organisation.Kind.OPERATOR},
    Role.MUNICIPALITY: {Organisation.Kind.MUNICIPALITY},
    Role.INVESTOR: {Organisation.Kind.INVESTOR, Organisation.Kind.FUNDER},
}


class Membership(models.Model):
    """A user works for an organisation in one role. Superusers are admins and need none."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user"))
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organisation")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique_user_organisation"),
            models.CheckConstraint(
                name="membership_role_valid",
                condition=Q(role__in=["consultant", "coordinator", "municipality", "investor"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.get_role_display()} - {self.organisation}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.organisation_id and self.role:
            allowed = ROLE_ORGANISATION_KINDS.get(self.role, set())
            if self.organisation.kind not in allowed:
                raise ValidationError(
                    {
                        "role": _("The role %(role)s does not fit a %(kind)s organisation.")
                        % {"role": self.get_role_display(), "kind": self.organisation.get_kind_display()}
                    },
                    code="role_kind",
                )


code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$",
    _("A contract code is letters, digits, '-' or '_' (at most 40), e.g. IMPACT60."),
)


class Contract(models.Model):
    """One outcome contract (programme) and every setting of SPEC section 3."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    municipality = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="contracts_as_municipality",
        verbose_name=_("municipality"),
    )
    operator = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="contracts_as_operator", verbose_name=_("operator")
    )
    payee = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="contracts_as_payee",
        verbose_name=_("payee"),
        help_text=_("The party that issues the invoices and receives the outcome payments."),
    )
    first_week = models.DateField(_("first week"), validators=[validate_monday])
    last_week = models.DateField(_("last week"), validators=[validate_monday])
    candidate_window_weeks = models.PositiveIntegerField(_("candidate window (weeks)"), default=156)
    max_paid_weeks_per_candidate = models.PositiveIntegerField(_("max paid weeks per candidate"), null=True, blank=True)
    cap_amount = models.DecimalField(_("cap amount (excl. VAT)"), null=True, blank=True, **MONEY)
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=7)
    vat_rate = models.DecimalField(_("VAT rate"), default=Decimal("0"), **RATE)
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    success_target = models.DecimalField(_("success target"), default=Decimal("0.50"), **RATE)
    baseline_rate = models.DecimalField(_("baseline rate"), default=Decimal("0.25"), **RATE)
    success_min_weeks = models.PositiveIntegerField(_("weeks for success"), default=1)
    currency = models.CharField(_("currency"), max_length=3, default="DKK")
    municipality_reference = models.CharField(
        _("municipal approver (personreference)"),
        max_length=100,
        blank=True,
        help_text=_("The person at the municipality who approves the invoices (OIOUBL)."),
    )
    order_reference = models.CharField(_("order/requisition number"), max_length=100, blank=True)
    # Business case (dashboard): a partial week saves this share of the weekly benefit rate; every enrolled
    # candidate is assumed to avoid this much of the municipality's own course costs (0: not estimated).
    partial_saving_share = models.DecimalField(
        _("benefit saved in a partial week (share)"),
        default=Decimal("0.50"),
        help_text=_("Share of the weekly kontanthjælp rate that a partially self-supporting week saves."),
        **RATE,
    )
    avoided_course_cost_per_candidate = models.DecimalField(
        _("avoided course costs per enrolled candidate"),
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "The municipality's usual course costs that an enrolled candidate no longer needs (typically 35,000-40,000 DKK)."
        ),
        **MONEY,
    )
    # Watermark kept by the settlement engine in the same transaction as each Settlement: the newest
    # settled week. Lets status edits know whether they correct a settled week without a join.
    settled_through = models.DateField(_("settled through week"), null=True, blank=True, editable=False)
    # The earliest settled week whose due may have changed since the last settlement (a status, an
    # enrolment or withdrawal date, a rate card version or a cap changed). Kept by database triggers
    # (migration 0003), so no write path can forget it; the engine recomputes from here and clears it.
    recompute_from = models.DateField(_("recompute from week"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(name="contract_weeks_ordered", condition=Q(last_week__gte=models.F("first_week"))),
            models.CheckConstraint(name="contract_window_positive", condition=Q(candidate_window_weeks__gte=1)),
            models.CheckConstraint(
                name="contract_max_paid_weeks_positive",
                condition=Q(max_paid_weeks_per_candidate__isnull=True) | Q(max_paid_weeks_per_candidate__gte=1),
            ),
            models.CheckConstraint(
                name="contract_cap_non_negative", condition=Q(cap_amount__isnull=True) | Q(cap_amount__gte=0)
            ),
            models.CheckConstraint(name="contract_vat_rate_range", condition=Q(vat_rate__gte=0, vat_rate__lte=1)),
            models.CheckConstraint(
                name="contract_success_target_range", condition=Q(success_target__gte=0, success_target__lte=1)
            ),
            models.CheckConstraint(
                name="contract_baseline_rate_range", condition=Q(baseline_rate__gte=0, baseline_rate__lte=1)
            ),
            models.CheckConstraint(name="contract_success_min_weeks_positive", condition=Q(success_min_weeks__gte=1)),
        ]

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.first_week and self.last_week and self.last_week < self.first_week:
            raise ValidationError({"last_week": _("The last week comes before the first week.")}, code="weeks")

    @property
    def first_week_label(self) -> str:
        return weeks.format_week(self.first_week)

    @property
    def last_week_label(self) -> str:
        return weeks.format_week(self.last_week)

    @property
    def is_locked(self) -> bool:
        """B10: once the last week is settled, the contract's statuses are locked."""
        return self.settled_through is not None and self.settled_through >= self.last_week

    def is_week_settled(self, monday: date) -> bool:
        """B6 settles only the payment period: a week before `first_week` is never settled."""
        return self.settled_through is not None and self.first_week <= monday <= self.settled_through


class RateCardVersion(models.Model):
    """Prices per outcome week, from `effective_from` until the next version (B1, B2)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="rate_cards")
    effective_from = models.DateField(_("effective from week"), validators=[validate_monday])
    price_full = models.DecimalField(_("price, full"), **MONEY)
    price_partial = models.DecimalField(_("price, partial"), **MONEY)
    price_education = models.DecimalField(_("price, education"), **MONEY)

    class Meta:
        verbose_name = _("rate card version")
        verbose_name_plural = _("rate card versions")
        ordering = ["contract", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "effective_from"], name="ratecard_unique_contract_week"),
            models.CheckConstraint(
                name="ratecard_prices_non_negative",
                condition=Q(price_full__gte=0, price_partial__gte=0, price_education__gte=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} {weeks.format_week(self.effective_from)}"

    def price_for(self, outcome: str) -> Decimal:
        return {
            "full": self.price_full,
            "partial": self.price_partial,
            "education": self.price_education,
        }.get(outcome, Decimal("0.00"))


class ContractInvestor(models.Model):
    class Kind(models.TextChoices):
        INVESTOR = "investor", _("Investor")
        FUNDER = "funder", _("Funder")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="investors")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="investments")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INVESTOR)
    committed = models.DecimalField(_("committed amount"), **MONEY)

    class Meta:
        verbose_name = _("contract investor")
        verbose_name_plural = _("contract investors")
        constraints = [
            models.UniqueConstraint(fields=["contract", "organisation"], name="contractinvestor_unique"),
            models.CheckConstraint(name="contractinvestor_committed_non_negative", condition=Q(committed__gte=0)),
            models.CheckConstraint(name="contractinvestor_kind_valid", condition=Q(kind__in=["investor", "funder"])),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.get_kind_display()}) in {self.contract.code}"


class BenefitRate(models.Model):
    """Kontanthjælp for people aged 30+, DKK per month, by calendar year: the business case's savings rate.

    Versioned by year and editable in the admin; years without a published figure are interpolated and
    marked as estimates.
    """

    year = models.PositiveSmallIntegerField(
        _("year"), unique=True, validators=[MinValueValidator(1990), MaxValueValidator(2100)]
    )
    without_children = models.DecimalField(
        _("monthly rate without children"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY
    )
    with_children = models.DecimalField(
        _("monthly rate with children"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY
    )
    is_estimate = models.BooleanField(
        _("estimate"), default=False, help_text=_("Interpolated between published years, not a published figure.")
    )
    source = models.CharField(_("source"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("benefit rate (kontanthjælp)")
        verbose_name_plural = _("benefit rates (kontanthjælp)")
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year}: {self.without_children} / {self.with_children}" + (" (est.)" if self.is_estimate else "")
