"""The weekly status grid: eight ISO weeks, cells saved in place under the import rules, suggestions from
placements, reasons for settled weeks, locked contracts, caseload scoping and flat query counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.services.settlement import settle_contract
from candidates.models import WeeklyStatus
from common import weeks
from tests.factories import PlacementFactory, WeeklyStatusFactory
from tests.workspace_helpers import htmx, make_team, root_id, this_week, week_ago, workspace_settings  # noqa: F401

pytestmark = pytest.mark.django_db
GRID = reverse("candidates:grid")


def cell_url(candidate, monday) -> str:
    return reverse("candidates:grid_cell", args=[candidate.pk, weeks.format_week(monday)])


@pytest.fixture
def team():
    return make_team()


def test_the_grid_shows_the_last_eight_weeks_as_danes_write_them(client, team):
    candidate = team.candidate("A1")
    WeeklyStatusFactory(candidate=candidate, week=week_ago(3), outcome="partial")
    client.force_login(team.consultant)
    response = client.get(GRID)
    assert response.context["week_list"] == [week_ago(n) for n in range(7, -1, -1)]
    body = response.content.decode()
    for n in range(8):
        assert f">uge {week_ago(n).isocalendar().week}<" in body
    row = response.context["rows"][0]
    assert [cell.status.outcome if cell.status else None for cell in row.cells] == [None] * 4 + ["partial"] + [None] * 3
    assert 'id="outcome-' in body  # editable cells are selects


def test_earlier_weeks_can_be_shown_but_never_future_ones(client, team):
    team.candidate("A1", referred_on=week_ago(40))
    client.force_login(team.consultant)
    earlier = client.get(GRID, {"until": weeks.format_week(week_ago(8))})
    assert earlier.context["week_list"][-1] == week_ago(8)
    future = client.get(GRID, {"until": weeks.format_week(weeks.add_weeks(this_week(), 3))})
    assert future.context["week_list"][-1] == this_week()
    bad = client.get(GRID, {"until": "2026-W99"})
    assert bad.status_code == 200 and bad.context["week_list"][-1] == this_week()


def test_a_cell_saves_on_change_and_answers_with_itself(client, team):
    candidate = team.candidate("A1")
    client.force_login(team.consultant)
    response = htmx(client, "post", cell_url(candidate, this_week()), {"outcome": "full"})
    assert response.status_code == 200
    assert root_id(response.content) == f"grid_cell-{candidate.pk}-{weeks.format_week(this_week())}"
    assert "HX-Request" in response["Vary"]
    status = WeeklyStatus.objects.get(candidate=candidate, week=this_week())
    assert (status.outcome, status.recorded_by) == ("full", team.consultant)
    assert '<option value="full" selected>' in response.content.decode()


def test_a_future_week_is_refused_in_the_cell(client, team):
    candidate = team.candidate("A1")
    client.force_login(team.consultant)
    response = htmx(client, "post", cell_url(candidate, weeks.add_weeks(this_week(), 1)), {"outcome": "full"})
    assert "The week is in the future." in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert not WeeklyStatus.objects.exists()


def test_an_unknown_outcome_is_an_error_in_the_cell(client, team):
    candidate = team.candidate("A1")
    client.force_login(team.consultant)
    response = htmx(client, "post", cell_url(candidate, this_week()), {"outcome": "lots"})
    assert "Select a valid choice" in response.content.decode()
    assert not WeeklyStatus.objects.exists()


def test_a_suggestion_comes_from_the_active_placements_and_brings_their_hours(client, team):
    candidate = team.candidate("A1")
    PlacementFactory(candidate=candidate, job=team.job(hours="12.5"), start=week_ago(2), hours_per_week=Decimal("12.5"))
    client.force_login(team.consultant)
    cells = client.get(GRID).context["rows"][0].cells
    assert [c.suggestion.outcome if c.suggestion else None for c in cells] == [None] * 5 + ["partial"] * 3
    assert 'data-suggestion="partial"' in client.get(GRID).content.decode()
    htmx(client, "post", cell_url(candidate, this_week()), {"outcome": "partial"})
    assert WeeklyStatus.objects.get(candidate=candidate, week=this_week()).hours == Decimal("12.50")
    htmx(client, "post", cell_url(candidate, week_ago(1)), {"outcome": "none"})
    assert WeeklyStatus.objects.get(candidate=candidate, week=week_ago(1)).hours is None


def test_an_ordinary_job_suggests_full_and_an_education_suggests_education(client, team):
    worker = team.candidate("A1")
    PlacementFactory(candidate=worker, job=team.job(title="Kok", kind="ordinary", hours="37"), start=week_ago(1))
    PlacementFactory(candidate=worker, job=team.job(title="Opvasker"), start=week_ago(1))
    student = team.candidate("A2")
    PlacementFactory(candidate=student, job=None, education="FGU", start=week_ago(1))
    client.force_login(team.consultant)
    rows = {row.candidate.ref: row for row in client.get(GRID).context["rows"]}
    assert rows["A1"].cells[-1].suggestion.outcome == "full"
    assert rows["A2"].cells[-1].suggestion.outcome == "education"


def test_correcting_a_settled_week_asks_for_a_reason_in_the_cell(client, team):
    candidate = team.candidate("A1", referred_on=week_ago(25), enrolled_on=week_ago(25))
    settled_week = week_ago(4)
    WeeklyStatusFactory(candidate=candidate, week=settled_week, outcome="none")
    settle_contract(contract=team.contract, as_of=timezone.now())
    team.contract.refresh_from_db()
    assert team.contract.is_week_settled(settled_week)
    client.force_login(team.consultant)
    url = cell_url(candidate, settled_week)

    asked = htmx(client, "post", url, {"outcome": "partial"})
    body = asked.content.decode()
    assert "Correcting a settled week needs a reason." in body
    assert 'name="note"' in body and "autofocus" in body
    assert '<option value="partial" selected>' in body  # the choice waits for its reason
    assert WeeklyStatus.objects.get(candidate=candidate, week=settled_week).outcome == "none"

    saved = htmx(client, "post", url, {"outcome": "partial", "note": "Pay slip arrived late"})
    assert 'name="note"' not in saved.content.decode()
    status = WeeklyStatus.objects.get(candidate=candidate, week=settled_week)
    assert (status.outcome, status.note) == ("partial", "Pay slip arrived late")
    assert status.history.latest().history_change_reason == "Pay slip arrived late"

    cancelled = htmx(client, "get", url)
    assert 'name="note"' not in cancelled.content.decode()


def test_a_locked_contract_is_read_only(client):
    team = make_team("LOCK", first=week_ago(30), last=week_ago(12))
    candidate = team.candidate("A1", referred_on=week_ago(30), enrolled_on=week_ago(30))
    WeeklyStatusFactory(candidate=candidate, week=week_ago(5), outcome="full")
    settle_contract(contract=team.contract, as_of=timezone.now())
    team.contract.refresh_from_db()
    assert team.contract.is_locked
    client.force_login(team.coordinator)
    response = client.get(GRID)
    assert all(not cell.editable for cell in response.context["rows"][0].cells)
    body = response.content.decode()
    assert 'id="outcome-' not in body and "its statuses are locked" in body
    refused = htmx(client, "post", cell_url(candidate, week_ago(5)), {"outcome": "none", "note": "x"})
    assert "The contract is settled through its last week" in refused.content.decode()
    assert WeeklyStatus.objects.get(candidate=candidate, week=week_ago(5)).outcome == "full"


def test_other_consultants_candidates_are_shown_read_only_and_refused(client, team):
    theirs = team.candidate("B1", consultant=team.other_consultant)
    client.force_login(team.consultant)
    response = client.get(GRID, {"consultant": ""})
    row = response.context["rows"][0]
    assert not row.editable and all(cell.reason == "not_caseload" for cell in row.cells)
    assert htmx(client, "post", cell_url(theirs, this_week()), {"outcome": "full"}).status_code == 404
    assert not WeeklyStatus.objects.exists()


@pytest.mark.parametrize("who", ["municipality_user", "investor_user", "stranger"])
def test_outsiders_get_404(client, team, who):
    candidate = team.candidate("A1")
    client.force_login(getattr(team, who))
    # The stranger coordinates another operator: their grid opens, without this candidate (below).
    assert client.get(GRID).status_code == (200 if who == "stranger" else 404)
    assert client.get(cell_url(candidate, this_week())).status_code == 404
    assert client.post(cell_url(candidate, this_week()), {"outcome": "full"}).status_code == 404


def test_a_stranger_sees_no_row_of_another_operator(client, team):
    team.candidate("A1")
    client.force_login(team.stranger)
    assert client.get(GRID, {"consultant": ""}).context["rows"] == []


def test_without_javascript_a_cell_form_posts_and_returns_to_the_grid(client, team):
    candidate = team.candidate("A1")
    client.force_login(team.consultant)
    response = client.post(cell_url(candidate, this_week()), {"outcome": "education", "next": GRID + "?page=1"})
    assert response.status_code == 302 and response["Location"] == GRID + "?page=1"
    assert WeeklyStatus.objects.get(candidate=candidate).outcome == "education"
    evil = client.post(cell_url(candidate, this_week()), {"outcome": "none", "next": "https://evil.example/"})
    assert evil["Location"] == GRID


def test_the_grid_fragment_for_htmx(client, team):
    team.candidate("A1")
    client.force_login(team.consultant)
    response = htmx(client, "get", GRID, {"until": weeks.format_week(week_ago(1))})
    assert root_id(response.content) == "grid"
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("count", [5, 50])
def test_queries_do_not_grow_with_candidates_or_weeks(client, team, count, django_assert_max_num_queries):
    job = team.job()
    for number in range(count):
        candidate = team.candidate(f"Q{number:03d}")
        for week in range(8):
            if (number + week) % 3:
                WeeklyStatusFactory(candidate=candidate, week=week_ago(week), outcome="partial")
        PlacementFactory(candidate=candidate, job=job, start=week_ago(6))
    client.force_login(team.consultant)
    with django_assert_max_num_queries(12):  # 11 + one audit INSERT for the names shown
        response = client.get(GRID)
    assert len(response.context["rows"]) == min(count, 25)
    with django_assert_max_num_queries(12):
        client.get(GRID, {"until": weeks.format_week(week_ago(8))})
    with django_assert_max_num_queries(9):
        htmx(client, "get", cell_url(candidate, this_week()))


def test_names_from_the_data_are_escaped_in_the_cells(client, team):
    candidate = team.candidate("<b>R1</b>")
    job = team.job(title='<img src=x onerror="alert(1)">')
    PlacementFactory(candidate=candidate, job=job, start=week_ago(1))
    client.force_login(team.consultant)
    body = client.get(GRID).content.decode()
    assert "<b>R1</b>" not in body and "&lt;b&gt;R1&lt;/b&gt;, uge" in body
    assert '<img src=x onerror="alert(1)">' not in body and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body
    reason = htmx(client, "post", cell_url(candidate, this_week()), {"outcome": "none", "note": '"><script>'})
    assert "<script>" not in reason.content.decode()
