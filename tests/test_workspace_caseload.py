"""The caseload page: scoping by role, filters, search by name/ref/CPR (keyed hash), this week's status, queries."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse

from tests.factories import PlacementFactory, WeeklyStatusFactory
from tests.workspace_helpers import htmx, make_team, root_id, this_week, week_ago, workspace_settings  # noqa: F401

pytestmark = pytest.mark.django_db
URL = reverse("candidates:caseload")


@pytest.fixture
def team():
    return make_team()


def refs(response) -> list[str]:
    return [c.ref for c in response.context["page"].object_list]


def test_a_consultant_starts_with_their_own_caseload_and_may_show_everyone(client, team):
    team.candidate("A1")
    team.candidate("B1", consultant=team.other_consultant)
    client.force_login(team.consultant)
    assert refs(client.get(URL)) == ["A1"]
    assert refs(client.get(URL, {"consultant": ""})) == ["A1", "B1"]
    assert refs(client.get(URL, {"consultant": str(team.other_consultant.pk)})) == ["B1"]


def test_a_coordinator_sees_all_of_the_operators_candidates_and_nothing_else(client, team):
    team.candidate("A1")
    team.candidate("B1", consultant=team.other_consultant)
    other = make_team("OTHER")
    other.candidate("X1")
    client.force_login(team.coordinator)
    assert refs(client.get(URL)) == ["A1", "B1"]


@pytest.mark.parametrize("who", ["municipality_user", "investor_user"])
def test_municipality_and_investor_get_404(client, team, who):
    team.candidate("A1")
    client.force_login(getattr(team, who))
    assert client.get(URL).status_code == 404


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_status_filter_follows_placements_enrolment_and_withdrawal(client, team):
    today = this_week() + timedelta(days=2)
    working = team.candidate("W1")
    PlacementFactory(candidate=working, job=team.job(), start=week_ago(3))
    studying = team.candidate("E1")
    PlacementFactory(candidate=studying, job=None, education="FGU", start=week_ago(3))
    ended = team.candidate("N1")
    PlacementFactory(candidate=ended, job=team.job(), start=week_ago(10), end=week_ago(5))
    team.candidate("R1", enrolled_on=None)
    team.candidate("X1", withdrawn_on=week_ago(2), withdrawal_reason="moved")
    client.force_login(team.coordinator)
    with mock.patch("django.utils.timezone.localdate", return_value=today):
        by_status = {
            status: refs(client.get(URL, {"status": status}))
            for status in ["in_work", "in_education", "enrolled", "referred", "withdrawn"]
        }
    assert by_status == {
        "in_work": ["W1"],
        "in_education": ["E1"],
        "enrolled": ["N1"],
        "referred": ["R1"],
        "withdrawn": ["X1"],
    }


def test_search_by_name_ref_and_whole_cpr_through_the_keyed_hash(client, team):
    team.candidate("C001", name="Mette Jensen", cpr="120385-1234")
    team.candidate("C002", name="Ole Hansen", cpr="010190-4321")
    client.force_login(team.coordinator)
    assert refs(client.get(URL, {"q": "mette"})) == ["C001"]
    assert refs(client.get(URL, {"q": "c002"})) == ["C002"]
    # A CPR search never decrypts a list: with decryption broken it still finds the one candidate.
    with mock.patch("candidates.cpr.decrypt_cpr", side_effect=AssertionError("decrypted while searching")):
        assert refs(client.get(URL, {"q": "0101904321"})) == ["C002"]
        assert refs(client.get(URL, {"q": "010190-4321"})) == ["C002"]
        assert refs(client.get(URL, {"q": "010190-9999"})) == []


def test_rows_show_the_last_recorded_week_and_whether_this_week_is_missing(client, team):
    recorded = team.candidate("A1")
    WeeklyStatusFactory(candidate=recorded, week=this_week(), outcome="partial")
    missing = team.candidate("A2")
    WeeklyStatusFactory(candidate=missing, week=week_ago(2), outcome="none")
    client.force_login(team.consultant)
    response = client.get(URL)
    rows = {c.ref: c for c in response.context["page"].object_list}
    assert rows["A1"].last_week == this_week() and rows["A1"].has_current_week
    assert rows["A2"].last_week == week_ago(2) and not rows["A2"].has_current_week
    body = response.content.decode()
    assert f"uge {this_week().isocalendar().week}" in body
    assert 'class="badge missing"' in body
    assert refs(client.get(URL, {"missing": "on"})) == ["A2"]


def test_pagination_and_the_htmx_fragment(client, team):
    for number in range(30):
        team.candidate(f"P{number:02d}")
    client.force_login(team.consultant)
    first = client.get(URL)
    assert len(refs(first)) == 25 and first.context["page"].paginator.num_pages == 2
    second = htmx(client, "get", URL, {"page": "2"})
    assert refs(second) == [f"P{n:02d}" for n in range(25, 30)]
    assert root_id(second.content) == "caseload_results"
    assert "<html" not in second.content.decode()
    assert "HX-Request" in second["Vary"]


@pytest.mark.parametrize("count", [5, 50])
def test_queries_do_not_grow_with_the_caseload(client, team, count, django_assert_max_num_queries):
    job = team.job()
    for number in range(count):
        candidate = team.candidate(f"Q{number:03d}")
        WeeklyStatusFactory(candidate=candidate, week=week_ago(1), outcome="partial")
        PlacementFactory(candidate=candidate, job=job, start=week_ago(4))
    client.force_login(team.consultant)
    with django_assert_max_num_queries(9):  # 8 + one audit INSERT for the names shown
        response = client.get(URL, {"consultant": ""})
    assert response.status_code == 200
    assert len(refs(response)) == min(count, 25)


def test_the_page_is_danish_first(client, team, settings):
    settings.LANGUAGE_CODE = "da"
    team.candidate("A1")
    client.force_login(team.consultant)
    body = client.get(URL).content.decode()
    assert "<h1>Kandidater</h1>" in body
    assert f"uge {this_week().isocalendar().week}" in body
    english = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>Candidates</h1>" in english
