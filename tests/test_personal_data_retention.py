"""Retention: candidates of contracts past retention are pseudonymised; billing records stay identical."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.models import AuditEvent
from billing.documents import documents_for_rendering
from billing.documents.pdf import document_pdf
from billing.models import CapitalDisbursement, Document, DocumentLine, JournalEntry, Payment, Posting, Settlement
from candidates import services as candidate_services
from candidates.models import Candidate, WeeklyStatus, WeeklyStatusUpload
from candidates.personal_data import candidates_pseudonymise_due, retention_cutoff
from candidates.tasks import pseudonymise_candidates_past_retention
from common import weeks
from placements.models import Placement
from tests.billing_helpers import make_contract
from tests.factories import CandidateFactory, UserFactory
from tests.portal_helpers import build_programme

pytestmark = pytest.mark.django_db

BILLING = [Settlement, Document, DocumentLine, JournalEntry, Posting, Payment, CapitalDisbursement]


def fingerprint(models: list[Any]) -> dict[str, tuple[int, str]]:
    """Row count and a hash of every column of every row, per table."""
    result = {}
    for model in models:
        rows = list(model.objects.order_by("pk").values())
        result[model.__name__] = (len(rows), hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest())
    return result


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("pseudonymise_candidates", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def programme():  # type: ignore[no-untyped-def]
    programme = build_programme()  # payment period 2020-W01 .. 2020-W52: financial year 2020
    anna = programme.anna
    user = UserFactory()
    candidate_services.candidate_withdraw(
        candidate=anna, withdrawn_on=date(2020, 6, 1), reason="Flyttet til Odense", user=user
    )
    WeeklyStatusUpload.objects.create(
        contract=programme.contract,
        uploaded_by=user,
        file_name="uge5.csv",
        file_format="csv",
        content=b"candidate,week,outcome\nC001,2020-W05,full\n",
        uploaded_at=datetime(2020, 2, 3, 12, 0).astimezone(),
    )
    return programme


def test_the_cutoff_follows_the_financial_year_of_the_last_weeks_sunday():
    # Kept through 31 December of (the year of the payment period's last Sunday + 5).
    assert retention_cutoff(today=date(2026, 1, 1), years=5) == date(2020, 12, 25)
    assert weeks.parse_week("2020-W52") <= retention_cutoff(today=date(2026, 1, 1), years=5)
    # 2020-W53 ends on Sunday 3 January 2021: financial year 2021, so a year later.
    assert weeks.parse_week("2020-W53") > retention_cutoff(today=date(2026, 12, 31), years=5)
    assert weeks.parse_week("2020-W53") <= retention_cutoff(today=date(2027, 1, 1), years=5)


def test_nothing_happens_before_the_retention_period_is_over(programme):
    assert "Nothing to pseudonymise." in run("--years", "5", "--today", "2025-12-31")
    assert not Candidate.objects.filter(pseudonymised_at__isnull=False).exists()


def test_dry_run_reports_and_changes_nothing(programme):
    before = list(Candidate.objects.values_list("name", "cpr_hash"))
    out = run("--years", "5", "--today", "2026-01-01", "--dry-run")
    assert "IMPACT-P: would pseudonymise 2 candidates" in out
    assert list(Candidate.objects.values_list("name", "cpr_hash")) == before
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PSEUDONYMISE).exists()


def test_pseudonymisation_erases_personal_data_and_keeps_the_books(programme):
    other = make_contract(code="LATER", last="2021-W10")
    kept = CandidateFactory(contract=other, ref="K001", name="Karl Beholdt")
    statuses_before = fingerprint([WeeklyStatus, Placement])
    billing_before = fingerprint(BILLING)
    out = run("--years", "5", "--today", "2026-01-01")
    assert "IMPACT-P: pseudonymised 2 candidates" in out and "LATER" not in out
    for candidate in Candidate.objects.filter(contract=programme.contract):
        assert (candidate.name, candidate.cpr_encrypted, candidate.cpr_hash, candidate.notes) == ("", "", "", "")
        assert candidate.withdrawal_reason == "" and candidate.pseudonymised_at is not None
        assert candidate.ref in ("C001", "C002") and candidate.cpr == "" and candidate.cpr_masked == ""
    history = Candidate.history.filter(id=programme.anna.pk)
    assert history.count() >= 2
    assert set(history.values_list("name", "cpr_encrypted", "cpr_hash", "withdrawal_reason")) == {("", "", "", "")}
    assert not history.exclude(history_change_reason__in=["", None]).exists()
    assert WeeklyStatusUpload.objects.get().content in (b"", memoryview(b""))
    kept.refresh_from_db()
    assert kept.name == "Karl Beholdt" and kept.cpr_hash and kept.pseudonymised_at is None
    assert fingerprint(BILLING) == billing_before
    assert fingerprint([WeeklyStatus, Placement]) == statuses_before
    # The issued documents still render, with refs and no names.
    document = documents_for_rendering(Document.objects.filter(pk=programme.invoice1.pk)).get()
    assert document_pdf(document, language="da").startswith(b"%PDF")
    event = AuditEvent.objects.get(action=AuditEvent.Action.PSEUDONYMISE)
    assert (event.user, event.object_id, event.contract_id, event.candidate_count) == (
        None,
        "IMPACT-P",
        programme.contract.pk,
        2,
    )
    assert event.detail["candidates"] == 2 and event.detail["uploads"] == 1 and event.detail["years"] == 5


def test_a_second_run_changes_nothing(programme):
    run("--years", "5", "--today", "2026-01-01")
    after_first = fingerprint([Candidate, Candidate.history.model, WeeklyStatusUpload, AuditEvent])
    assert "Nothing to pseudonymise." in run("--years", "5", "--today", "2026-02-01")
    assert fingerprint([Candidate, Candidate.history.model, WeeklyStatusUpload, AuditEvent]) == after_first


def test_the_monthly_task_uses_the_configured_years(programme, settings):
    settings.SIB_RETENTION_YEARS = 0
    assert pseudonymise_candidates_past_retention() == {"IMPACT-P": 2}
    assert pseudonymise_candidates_past_retention() == {}
    assert "pseudonymise-candidates-monthly" in settings.CELERY_BEAT_SCHEDULE


def test_bad_arguments_are_refused():
    with pytest.raises(CommandError, match="not a date"):
        run("--today", "2026-13-01")
    with pytest.raises(CommandError, match="negative"):
        run("--years", "-1")


def test_a_pseudonymised_candidate_cannot_get_a_cpr_again_and_shows_so(programme, client):
    candidates_pseudonymise_due(today=date(2026, 1, 1), years=5)
    anna = Candidate.objects.get(pk=programme.anna.pk)
    with pytest.raises(ValidationError):
        anna.set_cpr("010190-1234")
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    url = reverse("admin:candidates_candidate_change", args=[anna.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({"cpr_number": "010190-1234", "contract": anna.contract_id})
    response = client.post(url, data)
    assert response.status_code == 200 and "pseudonymised" in response.content.decode()
    assert Candidate.objects.get(pk=anna.pk).cpr_hash == ""
    assert candidates_pseudonymise_due.__module__ == "candidates.personal_data"
    assert b"Pseudonymis" in _detail_page(anna)


def _detail_page(candidate: Candidate) -> bytes:
    from django.test import Client

    from tests.factories import MembershipFactory

    coordinator = MembershipFactory(role="coordinator", organisation=candidate.contract.operator).user
    client = Client()
    client.force_login(coordinator)
    return client.get(reverse("candidates:detail", args=[candidate.pk]), HTTP_ACCEPT_LANGUAGE="en").content
