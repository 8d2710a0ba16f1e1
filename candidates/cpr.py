"""CPR numbers: validation (a real date; no modulus-11), Fernet encryption at rest, keyed hash, masking."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_CPR_RE = re.compile(r"^(\d{2})(\d{2})(\d{2})-?(\d)(\d{3})$")


def _century(seventh_digit: int, yy: int) -> int:
    """The century of birth from the 7th digit and the two-digit year (CPR-kontoret's table)."""
    if seventh_digit <= 3:
        return 1900
    if seventh_digit in (4, 9):
        return 2000 if yy <= 36 else 1900
    return 2000 if yy <= 57 else 1800  # 5-8


def parse_cpr(text: str) -> tuple[str, date]:
    """Normalise `DDMMYY-SSSS` or `DDMMYYSSSS` to 10 digits and return it with the birth date.

    Numbers without a valid modulus-11 check digit have been issued since 2007, so the checksum is
    deliberately not tested.
    """
    raw = (text or "").strip().replace(" ", "")
    match = _CPR_RE.match(raw)
    if not match:
        raise ValidationError(_("A CPR number is 10 digits, DDMMYY-SSSS."), code="cpr_format")
    dd, mm, yy, seventh, rest = match.groups()
    year = _century(int(seventh), int(yy)) + int(yy)
    try:
        born = date(year, int(mm), int(dd))
    except ValueError:
        raise ValidationError(
            _("The CPR number does not start with a real date of birth (DDMMYY)."), code="cpr_date"
        ) from None
    return f"{dd}{mm}{yy}{seventh}{rest}", born


def normalise_cpr(text: str) -> str:
    return parse_cpr(text)[0]


def mask_cpr(cpr: str) -> str:
    """`DDMMYY-XXXX`: the birth date stays readable, the serial number is hidden."""
    return f"{cpr[:6]}-XXXX"


def format_cpr(cpr: str) -> str:
    return f"{cpr[:6]}-{cpr[6:]}"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current_fernet() -> MultiFernet:
    return _fernet(tuple(settings.CPR_ENCRYPTION_KEYS))


def encrypt_cpr(cpr: str) -> str:
    return _current_fernet().encrypt(cpr.encode()).decode()


def decrypt_cpr(token: str) -> str:
    try:
        return _current_fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("The CPR number cannot be decrypted with the configured keys.") from None


def rotate_token(token: str) -> str:
    """Re-encrypt under the first (newest) key."""
    return _current_fernet().rotate(token.encode()).decode()


def hash_cpr(cpr: str) -> str:
    """Keyed hash (HMAC-SHA256) for finding a candidate by CPR without decrypting anything."""
    return hmac.new(settings.CPR_HASH_KEY.encode(), normalise_cpr(cpr).encode(), hashlib.sha256).hexdigest()
