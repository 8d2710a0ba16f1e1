"""The personal data audit log: each log point writes the right event, with one INSERT; the log cannot change."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent, AuditLogImmutableError
from audit.services import audit_record
from candidates import services as candidate_services
from candidates.services import weekly_status_import
from candidates.workspace_services import candidate_notes_update
from common import weeks
from placements.services import placement_create, placement_end
from tests.portal_helpers import build_programme, member
from tests.test_api_resources import api_as
from tests.workspace_helpers import make_team, this_week, week_ago

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action
BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (Test) " + "x" * 400, "REMOTE_ADDR": "10.9.8.7"}


def inserts_into_the_log(context: CaptureQueriesContext) -> int:
    return sum(1 for q in context.captured_queries if q["sql"].startswith('INSERT INTO "audit_auditevent"'))


def events(**filters: Any) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(**filters).order_by("pk")


@pytest.fixture
def team():  # type: ignore[no-untyped-def]
    return make_team()


# --- log points ---------------------------------------------------------------------------------------------


def test_candidate_page_view_is_one_insert_with_who_what_and_where(client, team):
    candidate = team.candidate("C001", name="Anna Hansen")
    client.force_login(team.consultant)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("candidates:detail", args=[candidate.pk]), **BROWSER).status_code == 200
    assert inserts_into_the_log(queries) == 1
    event = events().get()
    assert (event.user, event.action, event.object_type, event.object_id) == (
        team.consultant,
        Action.VIEW_PAGE,
        "candidate",
        str(candidate.pk),
    )
    assert (event.candidate_id, event.contract_id, event.ip) == (candidate.pk, team.contract.pk, "10.9.8.7")
    assert event.path == reverse("candidates:detail", args=[candidate.pk])
    assert event.user_agent.startswith("Mozilla/5.0 (Test)") and len(event.user_agent) == 200
    assert "Anna" not in str(event.detail)


def test_a_refused_page_is_not_logged(client, team):
    candidate = team.candidate("C001")
    client.force_login(team.investor_user)
    assert client.get(reverse("candidates:detail", args=[candidate.pk])).status_code == 404
    assert not AuditEvent.objects.exists()


def test_caseload_logs_one_event_with_the_ids_on_the_page(client, team):
    shown = [team.candidate(f"C{n:03d}") for n in range(30)]
    client.force_login(team.coordinator)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("candidates:caseload"))
    assert inserts_into_the_log(queries) == 1
    event = events().get()
    assert (event.action, event.object_type, event.contract_id, event.candidate_count) == (
        Action.VIEW_LIST,
        "caseload",
        team.contract.pk,
        25,
    )
    assert set(event.candidate_id_list) == {c.pk for c in shown[:25]}


def test_a_list_over_two_contracts_is_one_event_per_contract_in_one_insert(client, team):
    other = make_team("WS2")
    other_candidate = other.candidate("D001")
    mine = team.candidate("C001")
    from tests.factories import MembershipFactory

    MembershipFactory(role="coordinator", organisation=other.operator, user=team.coordinator)
    client.force_login(team.coordinator)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("candidates:grid"))
    assert inserts_into_the_log(queries) == 1
    assert {(e.contract_id, e.candidate_id) for e in events()} == {
        (team.contract.pk, mine.pk),
        (other.contract.pk, other_candidate.pk),
    }


def test_changes_name_fields_never_values(team):
    candidate = team.candidate("C001", enrolled_on=None)
    candidate_services.candidate_enrol(candidate=candidate, enrolled_on=week_ago(2), user=team.consultant)
    candidate_notes_update(candidate=candidate, notes="Har fortalt om sin sygdom", user=team.consultant)
    candidate_services.candidate_withdraw(
        candidate=candidate, withdrawn_on=week_ago(1), reason="Flyttet", user=team.coordinator
    )
    logged = [(e.user, e.action, e.detail["fields"]) for e in events()]
    assert logged == [
        (team.consultant, Action.UPDATE, ["enrolled_on"]),
        (team.consultant, Action.UPDATE, ["notes"]),
        (team.coordinator, Action.UPDATE, ["withdrawal_reason", "withdrawn_on"]),
    ]
    text = " ".join(str(e.detail) for e in events())
    assert "sygdom" not in text and "Flyttet" not in text


def test_referral_is_a_create_event_without_the_cpr(team):
    candidate = candidate_services.candidate_refer(
        contract=team.contract,
        ref="C100",
        name="Bo Jensen",
        cpr="010190-1234",
        referred_on=week_ago(3),
        user=team.coordinator,
    )
    event = events().get()
    assert (event.action, event.candidate_id, event.detail["fields"]) == (
        Action.CREATE,
        candidate.pk,
        ["cpr", "name", "ref", "referred_on"],
    )
    assert "0101901234" not in str(event.detail) and "Bo" not in str(event.detail)


def test_an_import_is_one_event_with_counts(team):
    people = [team.candidate(f"C{n:03d}") for n in range(3)]
    rows = [
        {"candidate": c.ref, "week": weeks.format_week(week_ago(w)), "outcome": "full"} for c in people for w in (1, 2)
    ]
    with CaptureQueriesContext(connection) as queries:
        result = weekly_status_import(contract=team.contract, rows=rows, user=team.consultant)
    assert result.created == 6 and inserts_into_the_log(queries) == 1
    event = events().get()
    assert (event.action, event.object_type, event.user, event.contract_id) == (
        Action.IMPORT,
        "weekly_status",
        team.consultant,
        team.contract.pk,
    )
    assert event.detail == {"created": 6, "updated": 0, "unchanged": 0}
    # Nothing changed: nothing to log.
    weekly_status_import(contract=team.contract, rows=rows, user=team.consultant)
    assert events().count() == 1


def test_a_grid_cell_is_logged_for_its_candidate(client, team):
    candidate = team.candidate("C001")
    client.force_login(team.consultant)
    url = reverse("candidates:grid_cell", args=[candidate.pk, this_week()])
    client.post(url, {"outcome": "partial"}, HTTP_HX_REQUEST="true")
    event = events(action=Action.IMPORT).get()
    assert (event.candidate_id, event.detail["created"], event.path) == (candidate.pk, 1, url)


def test_placement_changes_are_logged(team):
    candidate = team.candidate("C001")
    placement = placement_create(candidate=candidate, job=team.job(), start=week_ago(3), user=team.consultant)
    placement_end(placement=placement, end=week_ago(1), user=team.consultant)
    assert [(e.action, e.object_type, e.object_id, e.candidate_id, e.detail["fields"]) for e in events()] == [
        (Action.CREATE, "placement", str(placement.pk), candidate.pk, ["candidate", "hours_per_week", "job", "start"]),
        (Action.UPDATE, "placement", str(placement.pk), candidate.pk, ["end"]),
    ]


def test_invoice_files_with_names_are_exports_and_refs_only_files_are_not(client):
    programme = build_programme()
    client.force_login(member("municipality", programme.municipality))
    number = programme.invoice1.number
    for suffix in ("pdf", "xlsx"):
        client.get(reverse(f"billing:invoice_{suffix}", args=[number]))
    client.get(reverse("billing:invoice_csv", args=[number]))
    client.get(reverse("billing:invoice_xml", args=[number]))
    exports = events(action=Action.EXPORT)
    assert [e.detail["rendering"] for e in exports] == ["pdf", "xlsx"]
    assert {e.object_id for e in exports} == {number}
    assert set(exports[0].candidate_id_list) == {programme.anna.pk, programme.bo.pk}
    client.get(reverse("billing:invoice_bundle"))
    bundle = events(action=Action.EXPORT).last()
    assert bundle.detail["rendering"] == "zip" and len(bundle.detail["documents"]) == 3


def test_api_reads_are_one_event_per_request(programme_api):
    programme, client = programme_api
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/candidates/").status_code == 200
    assert inserts_into_the_log(queries) == 1
    listed = events().get()
    assert listed.action == Action.API_READ and set(listed.candidate_id_list) == {programme.anna.pk, programme.bo.pk}
    assert client.get(f"/api/candidates/{programme.anna.pk}/").status_code == 200
    assert events().last().candidate_id == programme.anna.pk
    client.get(f"/api/invoices/{programme.invoice1.number}/pdf/")
    assert events().last().action == Action.EXPORT


@pytest.fixture
def programme_api():  # type: ignore[no-untyped-def]
    programme = build_programme()
    return programme, api_as(member("municipality", programme.municipality))


# --- the log cannot be changed ------------------------------------------------------------------------------


def test_the_orm_refuses_changes_and_deletes(team):
    event = audit_record(user=team.consultant, action=Action.VIEW_PAGE, object_type="candidate", object_id=1)
    event.action = Action.EXPORT
    with pytest.raises(AuditLogImmutableError):
        event.save()
    with pytest.raises(AuditLogImmutableError):
        event.delete()
    with pytest.raises(AuditLogImmutableError):
        AuditEvent.objects.filter(pk=event.pk).update(action=Action.EXPORT)
    with pytest.raises(AuditLogImmutableError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().action == Action.VIEW_PAGE


@pytest.mark.postgres
def test_postgres_refuses_update_and_delete_in_sql(team):
    event = audit_record(user=team.consultant, action=Action.VIEW_PAGE, at=timezone.now())
    for statement in (
        "UPDATE audit_auditevent SET action = 'export' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.get().action == Action.VIEW_PAGE


def test_the_admin_offers_no_add_change_or_delete_even_to_superusers(admin_client, team):
    event = audit_record(user=team.consultant, action=Action.VIEW_PAGE)
    assert admin_client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    page = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert (
        admin_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_change_in_the_admin_is_logged_with_the_field_names(admin_client, team):
    candidate = team.candidate("C001", notes="")
    url = reverse("admin:candidates_candidate_change", args=[candidate.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({"notes": "Ny note", "contract": candidate.contract_id, "consultant": candidate.consultant_id})
    assert admin_client.post(url, data).status_code == 302
    event = events(action=Action.UPDATE).get()
    assert (event.candidate_id, event.detail) == (candidate.pk, {"fields": ["notes"], "source": "admin"})


def test_the_dispute_and_referral_lists_log_the_names_they_show(client):
    from billing.services.disputes import dispute_open

    programme = build_programme()
    dispute_open(line=programme.invoice1.lines.get(candidate=programme.bo), reason="Syg", claimed_outcome="none")
    client.force_login(member("municipality", programme.municipality))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("billing:dispute_list"))
    assert inserts_into_the_log(queries) == 1
    assert (events().get().object_type, events().get().candidate_id) == ("disputes", programme.bo.pk)
    client.get(reverse("billing:referrals"))
    referrals = events(object_type="referrals").get()
    assert set(referrals.candidate_id_list) == {programme.anna.pk, programme.bo.pk}
