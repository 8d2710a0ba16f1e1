"""CPR key rotation: re-encrypt under the new first key, then the old key can go; lookups by hash keep working."""

from __future__ import annotations

import io
from datetime import date

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from candidates import cpr as cpr_tools
from candidates import services as candidate_services
from candidates.models import Candidate
from tests.factories import CandidateFactory, ContractFactory

pytestmark = pytest.mark.django_db

K1, K2, K3 = (Fernet.generate_key().decode() for _ in range(3))
NUMBERS = [f"0101{80 + n}{1000 + n:04d}" for n in range(5)]


def rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_cpr_key", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def stored():  # type: ignore[no-untyped-def]
    with override_settings(CPR_ENCRYPTION_KEYS=[K1]):
        contract = ContractFactory()
        people = [CandidateFactory(contract=contract, ref=f"R{n}", cpr=number) for n, number in enumerate(NUMBERS)]
        # A change writes a history row that carries the ciphertext too.
        candidate_services.candidate_enrol(candidate=people[0], enrolled_on=date(2020, 2, 3))
        return people


def test_the_cipher_follows_the_configured_keys(stored):
    with override_settings(CPR_ENCRYPTION_KEYS=[K2]), pytest.raises(ValueError, match="cannot be decrypted"):
        Candidate.objects.get(pk=stored[0].pk).cpr  # noqa: B018
    with override_settings(CPR_ENCRYPTION_KEYS=[K2, K1]):
        assert Candidate.objects.get(pk=stored[0].pk).cpr == NUMBERS[0]


def test_rotation_then_the_old_key_can_go(stored):
    history_rows = Candidate.history.exclude(cpr_encrypted="").count()
    with override_settings(CPR_ENCRYPTION_KEYS=[K2, K1]):
        with CaptureQueriesContext(connection) as queries:
            out = rotate("--batch-size", "2")
        updates = [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "candidates_candidate"')]
        assert len(updates) == 3  # 5 rows in batches of 2: one UPDATE per batch, no per-row query
        assert "candidates: 5 re-encrypted, 0 already under the first key" in out
        assert f"candidate_history: {history_rows} re-encrypted" in out
        assert "candidates: 0 re-encrypted, 5 already under the first key" in rotate()  # idempotent
    with override_settings(CPR_ENCRYPTION_KEYS=[K2]):
        for candidate, number in zip(Candidate.objects.order_by("ref"), NUMBERS, strict=True):
            assert candidate.cpr == number
        for record in Candidate.history.exclude(cpr_encrypted=""):
            assert cpr_tools.decrypt_cpr(record.cpr_encrypted) in NUMBERS
        # The keyed hash does not depend on the encryption key: lookups keep working.
        assert Candidate.objects.get(cpr_hash=cpr_tools.hash_cpr(NUMBERS[3])).ref == "R3"
    events = AuditEvent.objects.filter(action=AuditEvent.Action.KEY_ROTATION).order_by("pk")
    assert [e.detail["rotated"]["candidates"] for e in events] == [5, 0]


def test_a_ciphertext_no_key_opens_is_reported_and_left_alone(stored):
    with override_settings(CPR_ENCRYPTION_KEYS=[K3]):
        stranger = Fernet(K3.encode())
        assert stranger  # the only key is one that never encrypted these
        with pytest.raises(CommandError, match="decrypt with none of the configured keys"):
            rotate()
    assert Candidate.objects.get(pk=stored[1].pk).cpr_encrypted == stored[1].cpr_encrypted
