"""Uploading a weekly status file (CSV or XLSX): a Celery task imports it all or nothing, the page polls its
progress with htmx and lists every bad line with its reason."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from candidates.models import WeeklyStatus, WeeklyStatusUpload
from candidates.tasks import process_weekly_status_upload
from candidates.workspace_services import weekly_status_upload_create, weekly_status_upload_process
from common import weeks
from config.celery import app as celery_app
from tests.workspace_helpers import htmx, make_team, root_id, this_week, week_ago, workspace_settings  # noqa: F401

pytestmark = pytest.mark.django_db
UPLOAD = reverse("candidates:upload")


@pytest.fixture
def team():
    team = make_team()
    team.candidate("C001")
    team.candidate("C002")
    team.candidate("C009", consultant=team.other_consultant)
    return team


@pytest.fixture
def eager() -> Iterator[None]:
    """Run tasks in the request, as CELERY_TASK_ALWAYS_EAGER does (the app read its settings at start-up)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def W(n: int) -> str:
    return weeks.format_week(week_ago(n))


def csv_file(text: str, name: str = "uge.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def xlsx_file(rows: list[list[object]], name: str = "uge.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(
        name, buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def upload(client, team, file, django_capture_on_commit_callbacks) -> WeeklyStatusUpload:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(UPLOAD, {"contract": team.contract.code, "file": file})
    assert response.status_code == 302, response.content.decode()[:2000]
    upload = WeeklyStatusUpload.objects.get()
    assert response["Location"] == reverse("candidates:upload_detail", args=[upload.pk])
    return upload


def test_a_good_csv_is_imported_by_the_task(client, team, eager, django_capture_on_commit_callbacks):
    client.force_login(team.consultant)
    text = f"candidate;week;outcome;hours\nC001;{W(0)};partial;12,5\nC002;{W(1)};full;\n"
    done = upload(client, team, csv_file(text), django_capture_on_commit_callbacks)
    done.refresh_from_db()
    assert (done.state, done.rows_done, done.created, done.errors) == ("done", 2, 2, [])
    assert bytes(done.content) == b""  # the file is not kept once imported
    assert WeeklyStatus.objects.count() == 2
    stored = WeeklyStatus.objects.get(candidate__ref="C001")
    assert (stored.outcome, str(stored.hours), stored.recorded_by) == ("partial", "12.50", team.consultant)
    page = client.get(reverse("candidates:upload_detail", args=[done.pk])).content.decode()
    assert "2 lines imported" in page and "2 new, 0 changed, 0 unchanged." in page
    assert 'hx-trigger="every 1s"' not in page  # finished: the page stops polling


def test_one_bad_line_stores_nothing_and_every_bad_line_is_listed(
    client, team, eager, django_capture_on_commit_callbacks
):
    client.force_login(team.consultant)
    future = weeks.format_week(weeks.add_weeks(this_week(), 2))
    text = (
        "candidate,week,outcome\n"
        f"C001,{W(0)},partial\n"
        f"C404,{W(0)},full\n"
        f"C002,{future},full\n"
        f"C002,{W(1)},lots\n"
        f"C009,{W(1)},full\n"
    )
    failed = upload(client, team, csv_file(text), django_capture_on_commit_callbacks)
    failed.refresh_from_db()
    assert failed.state == "failed"
    assert [(e["where"], e["code"]) for e in failed.errors] == [
        ("line 3", "unknown_candidate"),
        ("line 4", "future_week"),
        ("line 5", "unknown_outcome"),
        ("line 6", "not_caseload"),
    ]
    assert not WeeklyStatus.objects.exists()
    page = client.get(reverse("candidates:upload_detail", args=[failed.pk])).content.decode()
    assert "Nothing was stored: 4 problems." in page
    assert "line 3" in page and "unknown candidate &#x27;C404&#x27;" in page
    assert "The candidate is not on your caseload." in page


def test_an_xlsx_with_the_same_columns_is_imported(client, team, eager, django_capture_on_commit_callbacks):
    client.force_login(team.consultant)
    rows = [["week", "candidate", "outcome", "hours"], [W(0), "C001", "full", 37], [W(0), "C002", "education", None]]
    done = upload(client, team, xlsx_file(rows), django_capture_on_commit_callbacks)
    done.refresh_from_db()
    assert (done.file_format, done.state, done.created) == ("xlsx", "done", 2)
    assert WeeklyStatus.objects.get(candidate__ref="C001").hours == 37


def test_an_xlsx_bad_line_is_reported_by_its_row_number(client, team, eager, django_capture_on_commit_callbacks):
    client.force_login(team.consultant)
    day = week_ago(1) + timedelta(days=2)
    rows = [["candidate", "week", "outcome"], ["C001", W(0), "full"], ["C002", day, "full"], ["C001", W(0), "none"]]
    failed = upload(client, team, xlsx_file(rows), django_capture_on_commit_callbacks)
    failed.refresh_from_db()
    assert [(e["where"], e["code"]) for e in failed.errors] == [("line 3", "bad_week"), ("line 4", "duplicate")]
    assert W(1) in failed.errors[0]["message"]  # the date is named with the week it falls in
    assert not WeeklyStatus.objects.exists()


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused_on_the_form(client, team):
    client.force_login(team.consultant)
    response = client.post(UPLOAD, {"contract": team.contract.code, "file": csv_file("x", name="notes.pdf")})
    assert response.status_code == 200
    assert "notes.pdf is neither a CSV nor an XLSX file" in response.content.decode()
    assert not WeeklyStatusUpload.objects.exists()


def test_a_broken_xlsx_fails_with_a_reason(team):
    with pytest.raises(ValidationError) as refused:  # refused on upload (tests/test_uploads.py has the rest)
        weekly_status_upload_create(
            contract=team.contract, user=team.consultant, file_name="broken.xlsx", content=b"PK\x03\x04 not really"
        )
    assert refused.value.error_dict["file"][0].code == "file_not_xlsx"
    # One stored before the upload checks existed is refused by the worker with the same reason.
    upload = WeeklyStatusUpload.objects.create(
        contract=team.contract,
        uploaded_by=team.consultant,
        file_name="broken.xlsx",
        file_format="xlsx",
        content=b"PK\x03\x04 not really",
        uploaded_at=timezone.now(),
    )
    weekly_status_upload_process(upload=upload)
    upload.refresh_from_db()
    assert upload.state == "failed" and upload.errors[0]["code"] == "file_not_xlsx"


def test_the_progress_fragment_polls_until_the_import_finishes(client, team):
    client.force_login(team.consultant)
    queued = weekly_status_upload_create(
        contract=team.contract,
        user=team.consultant,
        file_name="uge.csv",
        content=f"candidate,week,outcome\nC001,{W(0)},full\n".encode(),
    )
    url = reverse("candidates:upload_detail", args=[queued.pk])
    polling = htmx(client, "get", url)
    assert root_id(polling.content) == "upload_progress"
    assert 'hx-trigger="every 1s"' in polling.content.decode()
    assert 'value="0"' in polling.content.decode()
    assert "HX-Request" in polling["Vary"]
    process_weekly_status_upload(queued.pk)  # the task function itself, as a worker would call it
    finished = htmx(client, "get", url)
    assert 'hx-trigger="every 1s"' not in finished.content.decode()
    assert 'value="100"' in finished.content.decode()


def test_processing_twice_changes_nothing(team):
    upload = weekly_status_upload_create(
        contract=team.contract,
        user=team.consultant,
        file_name="uge.csv",
        content=f"candidate,week,outcome\nC001,{W(0)},full\n".encode(),
    )
    assert process_weekly_status_upload(upload.pk) == "done"
    first = WeeklyStatus.objects.get()
    assert process_weekly_status_upload(upload.pk) == "done"
    again = WeeklyStatus.objects.get()
    assert (again.pk, again.recorded_at, first.history.count()) == (first.pk, first.recorded_at, 1)


def test_the_upload_is_queued_only_after_commit(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        weekly_status_upload_create(
            contract=team.contract, user=team.consultant, file_name="uge.csv", content=b"candidate,week,outcome\n"
        )
    assert len(callbacks) == 1


def test_uploads_are_seen_by_their_uploader_and_the_coordinator_and_outsiders_get_404(client, team):
    upload = weekly_status_upload_create(
        contract=team.contract, user=team.consultant, file_name="uge.csv", content=b"candidate,week,outcome\n"
    )
    url = reverse("candidates:upload_detail", args=[upload.pk])
    client.force_login(team.other_consultant)
    assert client.get(url).status_code == 404
    client.force_login(team.coordinator)
    assert client.get(url).status_code == 200
    assert client.get(UPLOAD).context["recent"] == []  # the list is of one's own uploads
    for who in (team.municipality_user, team.investor_user):
        client.force_login(who)
        assert client.get(UPLOAD).status_code == 404
        assert client.get(url).status_code == 404


def test_another_operators_contract_cannot_be_chosen(client, team):
    other = make_team("OTHER")
    client.force_login(team.consultant)
    response = client.post(UPLOAD, {"contract": other.contract.code, "file": csv_file("candidate,week,outcome\n")})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not WeeklyStatusUpload.objects.exists()
