"""The candidate page: masked CPR with a logged reveal, programme actions, notes, history, scoping, queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from candidates.models import Candidate
from candidates.services import weekly_status_upsert
from tests.factories import PlacementFactory, WeeklyStatusFactory
from tests.workspace_helpers import htmx, make_team, root_id, this_week, week_ago, workspace_settings  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return make_team()


@pytest.fixture
def candidate(team):
    return team.candidate("C001", name="Mette Jensen", cpr="120385-1234", referred_on=week_ago(10), enrolled_on=None)


def url(name: str, candidate: Candidate) -> str:
    return reverse(f"candidates:{name}", args=[candidate.pk])


def test_the_page_shows_the_cpr_masked_only(client, team, candidate):
    client.force_login(team.consultant)
    body = client.get(url("detail", candidate)).content.decode()
    assert "120385-XXXX" in body
    assert "1234" not in body.replace("120385-XXXX", "")
    assert "Mette Jensen" in body


def test_revealing_the_cpr_shows_it_and_logs_who_when_and_from_where(client, team, candidate):
    client.force_login(team.consultant)
    response = htmx(client, "post", url("cpr", candidate), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert root_id(response.content) == "cpr"
    assert "120385-1234" in response.content.decode()
    access = AuditEvent.objects.get(action=AuditEvent.Action.REVEAL_CPR)
    assert (access.user, access.candidate_id, access.contract_id, access.ip) == (
        team.consultant,
        candidate.pk,
        candidate.contract_id,
        "10.1.2.3",
    )
    hidden = htmx(client, "get", url("cpr", candidate))
    assert "120385-XXXX" in hidden.content.decode() and "1234" not in hidden.content.decode()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REVEAL_CPR).count() == 1  # hiding again is not an access


def test_reveal_needs_a_post(client, team, candidate):
    client.force_login(team.consultant)
    client.get(url("cpr", candidate))
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.REVEAL_CPR).exists()


@pytest.mark.parametrize("who", ["municipality_user", "investor_user", "stranger"])
def test_outsiders_get_404_on_every_candidate_url(client, team, candidate, who):
    client.force_login(getattr(team, who))
    for name in ("detail", "history", "cpr"):
        assert client.get(url(name, candidate)).status_code == 404
    assert client.post(url("cpr", candidate)).status_code == 404
    assert client.post(url("enrol", candidate), {"enrolled_on": "2026-01-05"}).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.REVEAL_CPR).exists()


def test_another_consultants_candidate_is_read_only(client, team, candidate):
    client.force_login(team.other_consultant)
    body = client.get(url("detail", candidate)).content.decode()
    assert "read only: not on your caseload" in body
    assert url("enrol", candidate) not in body
    for name, data in [
        ("enrol", {"enrolled_on": str(timezone.localdate())}),
        ("notes", {"notes": "x"}),
        ("withdraw", {"withdrawn_on": str(timezone.localdate()), "reason": "x"}),
        ("consent", {"consent_on": str(timezone.localdate())}),
    ]:
        assert client.post(url(name, candidate), data).status_code == 404
    candidate.refresh_from_db()
    assert candidate.enrolled_on is None and candidate.notes == ""


def test_enrol_through_htmx_returns_the_programme_section(client, team, candidate):
    client.force_login(team.consultant)
    day = candidate.referred_on + timedelta(days=3)
    response = htmx(client, "post", url("enrol", candidate), {"enrolled_on": day.isoformat()})
    assert root_id(response.content) == "programme"
    assert "HX-Request" in response["Vary"]
    candidate.refresh_from_db()
    assert candidate.enrolled_on == day
    record = candidate.history.latest()
    assert record.history_user == team.consultant


def test_enrolment_before_referral_is_shown_in_place(client, team, candidate):
    client.force_login(team.consultant)
    early = candidate.referred_on - timedelta(days=1)
    response = htmx(client, "post", url("enrol", candidate), {"enrolled_on": early.isoformat()})
    assert root_id(response.content) == "programme"
    assert "The enrolment date is before the referral date." in response.content.decode()
    candidate.refresh_from_db()
    assert candidate.enrolled_on is None


def test_withdrawal_needs_a_reason_and_keeps_it_in_the_audit_trail(client, team, candidate):
    client.force_login(team.consultant)
    today = timezone.localdate().isoformat()
    missing = htmx(client, "post", url("withdraw", candidate), {"withdrawn_on": today, "reason": ""})
    assert "This field is required." in missing.content.decode()
    candidate.refresh_from_db()
    assert candidate.withdrawn_on is None
    htmx(client, "post", url("withdraw", candidate), {"withdrawn_on": today, "reason": "Moved to Aarhus"})
    candidate.refresh_from_db()
    assert candidate.withdrawal_reason == "Moved to Aarhus"
    history = client.get(url("history", candidate)).content.decode()
    assert "Reason: Moved to Aarhus" in history


def test_consent_in_the_future_is_refused(client, team, candidate):
    client.force_login(team.consultant)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = htmx(client, "post", url("consent", candidate), {"consent_on": tomorrow})
    assert "The consent date is in the future." in response.content.decode()
    today = timezone.localdate()
    htmx(client, "post", url("consent", candidate), {"consent_on": today.isoformat()})
    candidate.refresh_from_db()
    assert candidate.consent_on == today


def test_only_a_coordinator_assigns_consultants(client, team, candidate):
    client.force_login(team.consultant)
    assert url("assign", candidate) not in client.get(url("detail", candidate)).content.decode()
    assert client.post(url("assign", candidate), {"consultant": team.other_consultant.pk}).status_code == 404
    client.force_login(team.coordinator)
    response = htmx(client, "post", url("assign", candidate), {"consultant": team.other_consultant.pk})
    assert root_id(response.content) == "programme"
    candidate.refresh_from_db()
    assert candidate.consultant == team.other_consultant
    outsider = make_team("OTHER").consultant
    bad = htmx(client, "post", url("assign", candidate), {"consultant": outsider.pk})
    assert "Select a valid choice" in bad.content.decode()
    candidate.refresh_from_db()
    assert candidate.consultant == team.other_consultant


def test_notes_are_saved_and_audited(client, team, candidate):
    client.force_login(team.consultant)
    response = htmx(client, "post", url("notes", candidate), {"notes": "Ringer mandag."})
    assert root_id(response.content) == "notes"
    candidate.refresh_from_db()
    assert candidate.notes == "Ringer mandag."
    assert "Ringer mandag." in client.get(url("history", candidate)).content.decode()


def test_without_htmx_a_change_redirects_back_to_the_page(client, team, candidate):
    client.force_login(team.consultant)
    response = client.post(url("notes", candidate), {"notes": "Plain form"})
    assert response.status_code == 302 and response["Location"] == url("detail", candidate)


def test_the_page_shows_statuses_with_who_recorded_them_and_the_corrections(client, team):
    candidate = team.candidate("C002")
    weekly_status_upsert(candidate=candidate, week=week_ago(2), outcome="none", user=team.consultant)
    candidate.contract.settled_through = week_ago(1)
    candidate.contract.save(update_fields=["settled_through"])
    candidate.refresh_from_db()
    weekly_status_upsert(
        candidate=candidate, week=week_ago(2), outcome="partial", note="Small job started", user=team.coordinator
    )
    client.force_login(team.consultant)
    body = client.get(url("detail", candidate)).content.decode()
    assert "Kamilla Koordinator" in body and "Small job started" in body
    history = client.get(url("history", candidate)).content.decode()
    assert "<del>None</del> → <ins>Partial</ins>" in history
    assert "Reason: Small job started" in history


@pytest.mark.parametrize("count", [5, 50])
def test_queries_do_not_grow_with_weeks_and_placements(client, team, count, django_assert_max_num_queries):
    candidate = team.candidate("C003", referred_on=week_ago(60), consultant=team.consultant)
    job = team.job()
    for number in range(count):
        WeeklyStatusFactory(candidate=candidate, week=week_ago(number + 1), outcome="partial")
        PlacementFactory(candidate=candidate, job=job, start=week_ago(number + 1))
    client.force_login(team.coordinator)
    # 17 + the audit event of the page view + the session's second factor (django-otp reads its device)
    with django_assert_max_num_queries(19):
        response = client.get(url("detail", candidate))
    assert response.status_code == 200
    assert len(response.context["statuses"]) == min(count, 26)  # half a year on the page
    with django_assert_max_num_queries(19):
        everything = client.get(url("detail", candidate), {"weeks": "all"})
    assert len(everything.context["statuses"]) == count
    with django_assert_max_num_queries(11):  # 10 + the audit event
        assert client.get(url("history", candidate)).status_code == 200


def test_the_week_is_written_as_danes_write_it(client, team):
    candidate = team.candidate("C004")
    WeeklyStatusFactory(candidate=candidate, week=this_week(), outcome="full")
    client.force_login(team.consultant)
    assert f"uge {this_week().isocalendar().week}" in client.get(url("detail", candidate)).content.decode()
