"""Weekly status through the API: bulk upsert under the import rules, all or nothing, errors per row."""

from __future__ import annotations

from datetime import date

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from candidates.models import WeeklyStatus
from tests.billing_helpers import W, make_candidate, make_contract
from tests.portal_helpers import build_programme, member

pytestmark = pytest.mark.django_db

URL = "/api/weekly-statuses/bulk/"


def api_as(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def programme():
    return build_programme()


def test_bulk_upsert_creates_and_updates(programme):
    client = api_as(member("coordinator", programme.contract.operator))
    rows = [
        {"candidate": "C001", "week": "2020-W05", "outcome": "full", "hours": "37"},
        {"candidate": "C002", "week": "2020-W05", "outcome": "partial", "hours": "12,5"},
        {"candidate": "C002", "week": "2020-W04", "outcome": "education"},
    ]
    response = client.post(URL, {"contract": "IMPACT-P", "rows": rows}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 3, "updated": 0, "unchanged": 0}
    rows[0]["outcome"] = "partial"
    response = client.post(URL, {"contract": "IMPACT-P", "rows": rows}, format="json")
    assert response.json() == {"created": 0, "updated": 1, "unchanged": 2}
    status = WeeklyStatus.objects.get(candidate=programme.bo, week=W("2020-W05"))
    assert str(status.hours) == "12.50"
    listed = client.get("/api/weekly-statuses/", {"contract": "IMPACT-P", "week_from": "2020-W05"}).json()
    assert sorted((s["candidate"], s["week"], s["outcome"]) for s in listed["results"]) == [
        ("C001", "2020-W05", "partial"),
        ("C002", "2020-W05", "partial"),
    ]


def test_one_bad_row_stores_nothing_and_every_problem_is_named(programme):
    client = api_as(member("coordinator", programme.contract.operator))
    rows = [
        {"candidate": "C001", "week": "2020-W06", "outcome": "full"},
        {"candidate": "C999", "week": "2020-W06", "outcome": "full"},
        {"candidate": "C001", "week": "2020-W54", "outcome": "full"},
        {"candidate": "C002", "week": "2020-W06", "outcome": "sometimes"},
        {"candidate": "C001", "week": "2020-W06", "outcome": "none"},
        {"candidate": "C001", "week": "2020-W01", "outcome": "full"},  # settled week corrected without a reason
        {"candidate": "C002", "week": "2099-W01", "outcome": "full"},
    ]
    response = client.post(URL, {"contract": "IMPACT-P", "rows": rows}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    by_row = {(e["where"], e["code"]) for e in errors}
    assert by_row == {
        ("rows[1]", "unknown_candidate"),
        ("rows[2]", "bad_week"),
        ("rows[3]", "unknown_outcome"),
        ("rows[4]", "duplicate"),
        ("rows[5]", "reason_required"),
        ("rows[6]", "future_week"),
    }
    assert all(e["message"] for e in errors)
    assert not WeeklyStatus.objects.filter(week=W("2020-W06")).exists()
    # With the reason the same correction goes through.
    fixed = {"candidate": "C001", "week": "2020-W01", "outcome": "full", "note": "Payslip found"}
    response = client.post(URL, {"contract": "IMPACT-P", "rows": [fixed]}, format="json")
    assert response.status_code == 200 and response.json()["updated"] == 1
    assert WeeklyStatus.objects.get(candidate=programme.anna, week=W("2020-W01")).note == "Payslip found"


def test_malformed_requests_are_400(programme):
    client = api_as(member("coordinator", programme.contract.operator))
    assert client.post(URL, {"contract": "IMPACT-P", "rows": []}, format="json").status_code == 400
    assert client.post(URL, {"contract": "IMPACT-P", "rows": [{"week": 5}]}, format="json").status_code == 400
    assert client.post(URL, {"rows": "x"}, format="json").status_code == 400


def test_a_consultant_may_change_only_their_caseload(programme):
    consultant = member("consultant", programme.contract.operator)
    programme.anna.consultant = consultant
    programme.anna.save(update_fields=["consultant"])
    client = api_as(consultant)
    rows = [
        {"candidate": "C001", "week": "2020-W07", "outcome": "full"},
        {"candidate": "C002", "week": "2020-W07", "outcome": "full"},
    ]
    response = client.post(URL, {"contract": "IMPACT-P", "rows": rows}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "where": "rows[1]",
            "field": None,
            "code": "not_editable",
            "message": "candidate 'C002' is not on your caseload",
        }
    ]
    response = client.post(URL, {"contract": "IMPACT-P", "rows": rows[:1]}, format="json")
    assert response.status_code == 200 and response.json()["created"] == 1


@pytest.mark.parametrize("role", ["municipality", "investor"])
def test_other_roles_and_contracts_get_404(programme, role):
    organisation = programme.municipality if role == "municipality" else programme.payee
    client = api_as(member(role, organisation))
    rows = [{"candidate": "C001", "week": "2020-W07", "outcome": "full"}]
    assert client.post(URL, {"contract": "IMPACT-P", "rows": rows}, format="json").status_code == 404
    other = make_contract(code="ELSEWHERE")
    make_candidate(other, "C001", enrolled=date(2020, 1, 6))
    coordinator = api_as(member("coordinator", programme.contract.operator))
    assert coordinator.post(URL, {"contract": "ELSEWHERE", "rows": rows}, format="json").status_code == 404
    assert not WeeklyStatus.objects.filter(week=W("2020-W07")).exists()
