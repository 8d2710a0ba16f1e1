"""Validators for Danish identifiers (CVR, EAN/GLN) and ISO weeks stored as Mondays."""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CVR_RE = re.compile(r"^[1-9]\d{7}$")
EAN_RE = re.compile(r"^\d{13}$")


def validate_cvr(value: str) -> None:
    # CVR numbers carry a modulus-11 check, but test and historical numbers in real data do not always
    # pass it; we insist on the form (8 digits, no leading zero) and leave the register to the register.
    if not CVR_RE.match(value or ""):
        raise ValidationError(_("A CVR number is 8 digits and does not start with 0."), code="cvr")


def gs1_check_digit_ok(value: str) -> bool:
    digits = [int(d) for d in value]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def validate_ean(value: str) -> None:
    """The form of an EAN (GLN): 13 digits. The GS1 check digit is checked apart (see below)."""
    if not EAN_RE.match(value or ""):
        raise ValidationError(_("An EAN (GLN) number is 13 digits."), code="ean")


def validate_ean_check_digit(value: str) -> None:
    # Kept apart from validate_ean: forms where people type an EAN refuse a wrong check digit, while
    # bulk loads only warn, because test programmes routinely carry placeholder numbers.
    validate_ean(value)
    if not gs1_check_digit_ok(value):
        raise ValidationError(_("The EAN (GLN) number's check digit is wrong."), code="ean_check")


def validate_monday(value: date) -> None:
    if value is not None and value.weekday() != 0:
        raise ValidationError(
            _("A week is stored as its Monday; %(day)s is not a Monday."), params={"day": value}, code="week"
        )
