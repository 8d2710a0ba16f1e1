"""The audit log search page and CSV export: who may read which events, filters, query counts, export audited."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_candidates_seen, audit_record
from tests.factories import UserFactory
from tests.workspace_helpers import make_team

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action
SEARCH = "/audit/"
EXPORT = "/audit/export.csv"


@pytest.fixture
def world():  # type: ignore[no-untyped-def]
    mine, other = make_team("WS1"), make_team("WS2")
    anna = mine.candidate("C001")
    bo = mine.candidate("C002")
    stranger_candidate = other.candidate("C001")
    audit_record(
        user=mine.consultant,
        action=Action.VIEW_PAGE,
        object_type="candidate",
        candidate=anna,
        contract=anna.contract_id,
    )
    audit_candidates_seen(user=mine.consultant, action=Action.VIEW_LIST, candidates=[anna, bo], object_type="caseload")
    audit_record(user=other.consultant, action=Action.REVEAL_CPR, candidate=stranger_candidate, contract=other.contract)
    audit_record(user=None, action=Action.KEY_ROTATION, detail={"rotated": 3})
    return {"mine": mine, "other": other, "anna": anna, "bo": bo}


def shown(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [
        (row["event"].action, row["event"].contract.code if row["event"].contract else "")
        for row in response.context["rows"]
    ]


def test_reverse_names_match_the_paths():
    assert reverse("audit:search") == SEARCH and reverse("audit:export") == EXPORT


def test_a_coordinator_sees_only_their_contracts_events(client, world):
    client.force_login(world["mine"].coordinator)
    response = client.get(SEARCH)
    assert response.status_code == 200
    assert sorted(shown(response)) == [(Action.VIEW_LIST, "WS1"), (Action.VIEW_PAGE, "WS1")]
    assert "C001, C002" in response.content.decode()


def test_an_admin_sees_everything_including_system_events(client, world):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert len(client.get(SEARCH).context["rows"]) == 4


@pytest.mark.parametrize("who", ["consultant", "municipality_user", "investor_user"])
def test_other_roles_get_404(client, world, who):
    client.force_login(getattr(world["mine"], who))
    assert client.get(SEARCH).status_code == 404
    assert client.get(EXPORT).status_code == 404


def test_anonymous_is_sent_to_login(client, world):
    assert client.get(SEARCH).status_code == 302


def test_navigation_offers_the_log_to_coordinators_only(client, world):
    client.force_login(world["mine"].coordinator)
    assert 'href="/audit/"' in client.get("/").content.decode()
    client.force_login(world["mine"].consultant)
    assert 'href="/audit/"' not in client.get("/").content.decode()


def test_filter_by_candidate_ref_finds_single_and_set_events(client, world):
    client.force_login(world["mine"].coordinator)
    assert sorted(shown(client.get(SEARCH, {"candidate": "C001"}))) == [
        (Action.VIEW_LIST, "WS1"),
        (Action.VIEW_PAGE, "WS1"),
    ]
    assert shown(client.get(SEARCH, {"candidate": "C002"})) == [(Action.VIEW_LIST, "WS1")]
    assert shown(client.get(SEARCH, {"candidate": "C999"})) == []


def test_filter_by_action_user_contract_and_dates(client, world):
    client.force_login(world["mine"].coordinator)
    assert shown(client.get(SEARCH, {"action": Action.VIEW_PAGE})) == [(Action.VIEW_PAGE, "WS1")]
    assert len(shown(client.get(SEARCH, {"person": world["mine"].consultant.username}))) == 2
    assert shown(client.get(SEARCH, {"person": "nobody-like-this"})) == []
    assert shown(client.get(SEARCH, {"contract": "WS2"})) == []  # not a choice for this coordinator
    today = timezone.localdate()
    assert len(shown(client.get(SEARCH, {"date_from": today.isoformat(), "date_to": today.isoformat()}))) == 2
    assert shown(client.get(SEARCH, {"date_to": (today - timedelta(days=1)).isoformat()})) == []
    bad = client.get(SEARCH, {"date_from": today.isoformat(), "date_to": (today - timedelta(days=1)).isoformat()})
    assert bad.status_code == 200 and shown(bad) == []


@pytest.mark.parametrize("count", [5, 60])
def test_queries_do_not_grow_with_events(client, world, count, django_assert_max_num_queries):
    anna = world["anna"]
    for _ in range(count):
        audit_candidates_seen(user=world["mine"].consultant, action=Action.VIEW_LIST, candidates=[anna, world["bo"]])
    client.force_login(world["mine"].coordinator)
    with django_assert_max_num_queries(9):
        response = client.get(SEARCH)
    assert len(response.context["rows"]) == min(count + 2, 50)


def test_csv_export_is_the_search_result_and_is_itself_audited(client, world):
    coordinator = world["mine"].coordinator
    client.force_login(coordinator)
    response = client.get(EXPORT, {"candidate": "C002"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["action"], r["candidates"], r["contract"]) for r in rows] == [("view_list", "C001 C002", "WS1")]
    export = AuditEvent.objects.get(user=coordinator, action=Action.EXPORT)
    assert (export.object_type, export.detail) == ("audit_log", {"filters": {"candidate": "C002"}})
    assert export.path.startswith(EXPORT)
