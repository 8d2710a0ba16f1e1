"""Employers and jobs (CVR validated), the job search, and logging and ending placements from the candidate page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from placements.models import Employer, Job, Placement
from tests.factories import EmployerFactory, JobFactory, PlacementFactory
from tests.workspace_helpers import htmx, make_team, root_id, week_ago, workspace_settings  # noqa: F401

pytestmark = pytest.mark.django_db
EMPLOYERS = reverse("placements:employers")
SEARCH = reverse("placements:job_search")


@pytest.fixture
def team():
    return make_team()


def test_a_consultant_registers_an_employer_with_a_valid_cvr(client, team):
    client.force_login(team.consultant)
    response = client.post(
        EMPLOYERS, {"name": "Bageriet Hjørnet", "cvr": "41234567", "sector": "retail", "own_enterprise": "on"}
    )
    employer = Employer.objects.get(name="Bageriet Hjørnet")
    assert response.status_code == 302 and response["Location"] == reverse("placements:employer", args=[employer.pk])
    assert (employer.operator, employer.cvr, employer.own_enterprise) == (team.operator, "41234567", True)


@pytest.mark.parametrize(
    ("cvr", "message"),
    [("0123456", "A CVR number is 8 digits and does not start with 0."), ("1234abcd", "A CVR number is 8 digits")],
)
def test_a_bad_cvr_is_shown_on_the_field(client, team, cvr, message):
    client.force_login(team.consultant)
    response = client.post(EMPLOYERS, {"name": "X", "cvr": cvr})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Employer.objects.filter(name="X").exists()


def test_a_cvr_is_registered_once_per_operator(client, team):
    EmployerFactory(operator=team.operator, cvr="41234567")
    client.force_login(team.consultant)
    response = client.post(EMPLOYERS, {"name": "Again", "cvr": "41234567"})
    assert "An employer with this CVR number is registered already." in response.content.decode()


def test_the_employer_list_is_the_operators_own_and_searchable(client, team):
    EmployerFactory(operator=team.operator, name="Café Fokus", sector="restaurant")
    EmployerFactory(operator=team.operator, name="Nordjysk Rengøring", sector="cleaning")
    EmployerFactory(name="Someone Else's")
    client.force_login(team.consultant)
    names = [e.name for e in client.get(EMPLOYERS).context["page"]]
    assert names == ["Café Fokus", "Nordjysk Rengøring"]
    found = htmx(client, "get", EMPLOYERS, {"q": "rengør"})
    assert root_id(found.content) == "employer_list"
    assert [e.name for e in found.context["page"]] == ["Nordjysk Rengøring"]


def test_a_job_is_added_with_kind_hours_and_wage(client, team):
    employer = EmployerFactory(operator=team.operator, sector="restaurant")
    client.force_login(team.consultant)
    url = reverse("placements:employer", args=[employer.pk])
    response = client.post(
        url, {"title": "Køkkenmedhjælper", "kind": "flex_job", "hours_per_week": "15.5", "hourly_wage": "142.50"}
    )
    assert response.status_code == 302
    job = Job.objects.get(employer=employer)
    assert (job.title, job.kind, job.hours_per_week, job.hourly_wage, job.sector) == (
        "Køkkenmedhjælper",
        "flex_job",
        Decimal("15.5"),
        Decimal("142.50"),
        "restaurant",
    )
    client.cookies["django_language"] = "da"
    client.post(url, {"title": "Rengøring", "kind": "small_job", "hours_per_week": "7,5"})
    assert Job.objects.get(title="Rengøring").hours_per_week == Decimal("7.5")  # the Danish decimal comma
    client.cookies["django_language"] = "en"
    bad = client.post(url, {"title": "Too much", "kind": "ordinary", "hours_per_week": "200"})
    assert bad.status_code == 200 and "Ensure this value is less than or equal to 168" in bad.content.decode()


def test_another_operators_employer_is_404(client, team):
    other = EmployerFactory()
    client.force_login(team.consultant)
    assert client.get(reverse("placements:employer", args=[other.pk])).status_code == 404
    assert (
        client.post(reverse("placements:employer", args=[other.pk]), {"title": "x", "kind": "ordinary"}).status_code
        == 404
    )


@pytest.mark.parametrize("who", ["municipality_user", "investor_user"])
def test_municipality_and_investor_get_404(client, team, who):
    client.force_login(getattr(team, who))
    assert client.get(EMPLOYERS).status_code == 404
    assert client.get(SEARCH, {"q": "a"}).status_code == 404


def test_search_as_you_type_finds_jobs_by_title_employer_or_sector_in_scope(client, team):
    cafe = EmployerFactory(operator=team.operator, name="Café Fokus", sector="restaurant")
    JobFactory(employer=cafe, title="Opvasker")
    JobFactory(employer=cafe, title="Barista")
    JobFactory(employer=EmployerFactory(name="Other Operator Café"), title="Opvasker")
    client.force_login(team.consultant)
    response = htmx(client, "get", SEARCH, {"job_search": "opv"})
    assert root_id(response.content) == "job_results"
    assert [str(job) for job in response.context["jobs"]] == ["Opvasker, Café Fokus"]
    assert [job.title for job in htmx(client, "get", SEARCH, {"job_search": "fokus bar"}).context["jobs"]] == [
        "Barista"
    ]
    assert 'role="option"' in response.content.decode()


def test_log_a_job_placement_from_the_candidate_page(client, team):
    candidate = team.candidate("A1")
    job = team.job(hours="12")
    client.force_login(team.consultant)
    start = week_ago(1)
    response = htmx(
        client,
        "post",
        reverse("placements:create", args=[candidate.pk]),
        {"kind": "job", "job": job.pk, "job_search": str(job), "start": start.isoformat()},
    )
    assert root_id(response.content) == "placements"
    placement = Placement.objects.get(candidate=candidate)
    assert (placement.job, placement.start, placement.end, placement.hours_per_week) == (
        job,
        start,
        None,
        Decimal("12"),
    )
    assert placement.history.latest().history_user == team.consultant
    assert "Placement logged." in response.content.decode()


def test_log_an_education_and_overlapping_placements_are_allowed(client, team):
    candidate = team.candidate("A1")
    PlacementFactory(candidate=candidate, job=team.job(), start=week_ago(5))
    client.force_login(team.consultant)
    htmx(
        client,
        "post",
        reverse("placements:create", args=[candidate.pk]),
        {"kind": "education", "education": "FGU", "start": week_ago(2).isoformat(), "job": ""},
    )
    assert sorted(p.kind for p in Placement.objects.filter(candidate=candidate)) == ["education", "job"]


def test_a_placement_ending_before_it_starts_is_refused_in_place(client, team):
    candidate = team.candidate("A1")
    job = team.job()
    client.force_login(team.consultant)
    start = week_ago(1)
    response = htmx(
        client,
        "post",
        reverse("placements:create", args=[candidate.pk]),
        {"kind": "job", "job": job.pk, "start": start.isoformat(), "end": (start - timedelta(days=1)).isoformat()},
    )
    assert root_id(response.content) == "placements"
    assert "The placement ends before it starts." in response.content.decode()
    assert not Placement.objects.exists()


def test_a_job_must_be_chosen_and_be_the_operators(client, team):
    candidate = team.candidate("A1")
    foreign = JobFactory(employer=EmployerFactory(name="Elsewhere"))
    client.force_login(team.consultant)
    url = reverse("placements:create", args=[candidate.pk])
    none_chosen = htmx(client, "post", url, {"kind": "job", "job_search": "opv", "start": week_ago(1).isoformat()})
    assert "Choose a job from the list." in none_chosen.content.decode()
    foreign_job = htmx(client, "post", url, {"kind": "job", "job": foreign.pk, "start": week_ago(1).isoformat()})
    assert "Select a valid choice" in foreign_job.content.decode()
    assert not Placement.objects.exists()


def test_end_a_placement_and_not_before_it_starts(client, team):
    candidate = team.candidate("A1")
    placement = PlacementFactory(candidate=candidate, job=team.job(), start=week_ago(3))
    client.force_login(team.consultant)
    url = reverse("placements:end", args=[placement.pk])
    refused = htmx(client, "post", url, {"end": (placement.start - timedelta(days=1)).isoformat()})
    assert "The placement ends before it starts." in refused.content.decode()
    placement.refresh_from_db()
    assert placement.end is None
    done = htmx(client, "post", url, {"end": week_ago(1).isoformat()})
    assert root_id(done.content) == "placements"
    placement.refresh_from_db()
    assert placement.end == week_ago(1)


def test_placements_of_another_consultants_candidate_cannot_be_changed(client, team):
    theirs = team.candidate("B1", consultant=team.other_consultant)
    placement = PlacementFactory(candidate=theirs, job=team.job(), start=week_ago(3))
    client.force_login(team.consultant)
    assert (
        client.post(reverse("placements:end", args=[placement.pk]), {"end": week_ago(1).isoformat()}).status_code == 404
    )
    create = client.post(
        reverse("placements:create", args=[theirs.pk]),
        {"kind": "education", "education": "FGU", "start": week_ago(1).isoformat()},
    )
    assert create.status_code == 404
    client.force_login(team.coordinator)  # the coordinator may
    client.post(reverse("placements:end", args=[placement.pk]), {"end": week_ago(1).isoformat()})
    placement.refresh_from_db()
    assert placement.end == week_ago(1)
