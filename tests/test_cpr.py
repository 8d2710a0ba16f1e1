"""CPR numbers (candidates/cpr.py): validation without modulus 11, century table, encryption, keyed hash, masking."""

from __future__ import annotations

from datetime import date

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.test import override_settings

from candidates import cpr
from candidates.models import Candidate


def modulus_11_ok(number: str) -> bool:
    return sum(int(d) * w for d, w in zip(number, (4, 3, 2, 7, 6, 5, 4, 3, 2, 1), strict=True)) % 11 == 0


@pytest.mark.parametrize(
    ("text", "normalised", "born"),
    [
        ("070761-4285", "0707614285", date(1961, 7, 7)),  # passes modulus 11
        ("0707614285", "0707614285", date(1961, 7, 7)),  # dash optional
        (" 070761-4285 ", "0707614285", date(1961, 7, 7)),
        ("010180-1234", "0101801234", date(1980, 1, 1)),
        ("311299-0000", "3112990000", date(1999, 12, 31)),
    ],
)
def test_valid_numbers(text: str, normalised: str, born: date) -> None:
    assert cpr.parse_cpr(text) == (normalised, born)
    assert cpr.normalise_cpr(text) == normalised


def test_a_failed_modulus_11_check_is_accepted() -> None:
    # Numbers without a valid check digit are issued since 1 October 2007: never reject on it.
    assert modulus_11_ok("0707614285")
    assert not modulus_11_ok("0707614286")
    assert cpr.normalise_cpr("070761-4286") == "0707614286"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("310299-1234", "cpr_date"),  # 31 February
        ("320180-1234", "cpr_date"),
        ("001080-1234", "cpr_date"),
        ("011380-1234", "cpr_date"),
        ("310480-1234", "cpr_date"),  # April has 30 days
        ("01018-1234", "cpr_format"),
        ("010180-12345", "cpr_format"),
        ("010180/1234", "cpr_format"),
        ("01018O-1234", "cpr_format"),
        ("", "cpr_format"),
        ("0101801234x", "cpr_format"),
    ],
)
def test_invalid_numbers_are_refused_with_a_code(text: str, code: str) -> None:
    with pytest.raises(ValidationError) as raised:
        cpr.parse_cpr(text)
    assert raised.value.code == code


# Century from the 7th digit and YY (CPR-kontoret): 0-3 -> 1900s; 4 and 9 -> 2000s if YY <= 36 else 1900s;
# 5-8 -> 2000s if YY <= 57 else 1800s.
@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("010100-0000", 1900),
        ("010199-3999", 1999),
        ("010136-4000", 2036),
        ("010137-4000", 1937),
        ("010136-9000", 2036),
        ("010137-9999", 1937),
        ("010157-5000", 2057),
        ("010158-5000", 1858),
        ("010199-8999", 1899),
        ("010100-6000", 2000),
    ],
)
def test_century_digit_table(text: str, year: int) -> None:
    assert cpr.parse_cpr(text)[1].year == year


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("290200-1234", False),  # 1900: divisible by 100, not by 400
        ("290200-4234", True),  # 2000: divisible by 400
        ("290200-9234", True),  # 2000
        ("290200-5234", True),  # 2000
        ("290296-1234", True),  # 1996
        ("290297-1234", False),
        ("290260-5234", True),  # 1860
        ("290258-5234", False),  # 1858
        ("290204-4234", True),  # 2004
        ("290240-4234", True),  # 1940 (7th digit 4 and YY > 36)
        ("290238-4234", False),  # 1938
    ],
)
def test_29_february_follows_the_century(text: str, valid: bool) -> None:
    if valid:
        assert cpr.parse_cpr(text)[1].day == 29
    else:
        with pytest.raises(ValidationError):
            cpr.parse_cpr(text)


def test_masking_and_formatting() -> None:
    assert cpr.mask_cpr("0707614285") == "070761-XXXX"
    assert cpr.format_cpr("0707614285") == "070761-4285"


def test_encryption_round_trip_with_a_fresh_token_each_time() -> None:
    first, second = cpr.encrypt_cpr("0707614285"), cpr.encrypt_cpr("0707614285")
    assert first != second
    assert "0707614285" not in first
    assert cpr.decrypt_cpr(first) == cpr.decrypt_cpr(second) == "0707614285"


def test_hash_is_stable_and_ignores_the_dash() -> None:
    assert cpr.hash_cpr("070761-4285") == cpr.hash_cpr("0707614285") == cpr.hash_cpr("0707614285")
    assert cpr.hash_cpr("070761-4285") != cpr.hash_cpr("070761-4286")
    assert len(cpr.hash_cpr("0707614285")) == 64


def test_hash_changes_with_the_key() -> None:
    before = cpr.hash_cpr("0707614285")
    with override_settings(CPR_HASH_KEY="another-secret-key"):
        assert cpr.hash_cpr("0707614285") != before
    assert cpr.hash_cpr("0707614285") == before


def test_decrypting_with_a_wrong_key_is_a_clear_error() -> None:
    token = cpr.encrypt_cpr("0707614285")
    other_key = Fernet.generate_key().decode()
    with override_settings(CPR_ENCRYPTION_KEYS=[other_key]), pytest.raises(ValueError, match="cannot be decrypted"):
        cpr.decrypt_cpr(token)


def test_key_rotation() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(CPR_ENCRYPTION_KEYS=[old]):
        token = cpr.encrypt_cpr("0707614285")
    with override_settings(CPR_ENCRYPTION_KEYS=[new, old]):
        assert cpr.decrypt_cpr(token) == "0707614285"  # old tokens still read
        rotated = cpr.rotate_token(token)
        fresh = cpr.encrypt_cpr("0707614285")  # new tokens use the first key
    assert rotated != token
    with override_settings(CPR_ENCRYPTION_KEYS=[new]):
        assert cpr.decrypt_cpr(rotated) == "0707614285"
        assert cpr.decrypt_cpr(fresh) == "0707614285"
        with pytest.raises(ValueError):
            cpr.decrypt_cpr(token)  # the old key is gone: only rotated tokens read
    with override_settings(CPR_ENCRYPTION_KEYS=[old]), pytest.raises(ValueError):
        cpr.decrypt_cpr(rotated)


def test_candidate_set_cpr_stores_only_ciphertext_and_hash() -> None:
    candidate = Candidate(ref="C1", referred_on=date(2020, 1, 1))
    candidate.set_cpr("070761-4285")
    assert "0707614285" not in candidate.cpr_encrypted
    assert candidate.cpr == "0707614285"
    assert candidate.cpr_hash == cpr.hash_cpr("0707614285")
    assert candidate.cpr_masked == "070761-XXXX"
    with pytest.raises(ValidationError):
        candidate.set_cpr("310299-1234")
    assert candidate.cpr == "0707614285"  # a refused number changes nothing
    assert Candidate(ref="C2", referred_on=date(2020, 1, 1)).cpr_masked == ""
