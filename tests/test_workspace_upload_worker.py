"""An uploaded weekly status file goes through a real Celery worker over Redis while the page polls its
progress (PostgreSQL only: the worker process must reach the committed test data)."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from candidates import tasks
from candidates.models import WeeklyStatus, WeeklyStatusUpload
from common import weeks
from tests.workspace_helpers import make_team, week_ago, workspace_settings  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def through_the_worker(worker, monkeypatch):
    """The service enqueues after commit; here the message goes to the worker's Redis queue."""
    client, queue = worker

    def delay_on_commit(upload_id: int) -> None:
        transaction.on_commit(
            lambda: client.send_task("candidates.tasks.process_weekly_status_upload", args=[upload_id], queue=queue)
        )

    monkeypatch.setattr(tasks.process_weekly_status_upload, "delay_on_commit", delay_on_commit)


def poll_until_finished(client, upload: WeeklyStatusUpload, seen: list[str]) -> str:
    url = reverse("candidates:upload_detail", args=[upload.pk])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        seen.append(body)
        if 'hx-trigger="every 1s"' not in body:
            return body
        time.sleep(0.2)
    raise AssertionError("the upload did not finish within 120 s")


def test_a_worker_imports_an_upload_while_the_page_polls(client, through_the_worker):
    team = make_team("WORKER")
    for ref in ("C001", "C002"):
        team.candidate(ref)
    client.force_login(team.consultant)
    week = weeks.format_week(week_ago(1))

    text = f"candidate,week,outcome\nC001,{week},full\nC002,{week},sometimes\nC003,{week},full\n"
    client.post(
        reverse("candidates:upload"),
        {"contract": "WORKER", "file": SimpleUploadedFile("bad.csv", text.encode(), content_type="text/csv")},
    )
    bad = WeeklyStatusUpload.objects.get()
    seen: list[str] = []
    body = poll_until_finished(client, bad, seen)
    assert "Nothing was stored: 2 problems." in body
    assert "line 3" in body and "line 4" in body
    assert not WeeklyStatus.objects.exists()

    good = f"candidate,week,outcome\nC001,{week},full\nC002,{week},partial\n"
    client.post(
        reverse("candidates:upload"),
        {"contract": "WORKER", "file": SimpleUploadedFile("good.csv", good.encode(), content_type="text/csv")},
    )
    upload = WeeklyStatusUpload.objects.exclude(pk=bad.pk).get()
    body = poll_until_finished(client, upload, seen)
    assert "2 lines imported" in body
    assert sorted(WeeklyStatus.objects.values_list("candidate__ref", "outcome")) == [
        ("C001", "full"),
        ("C002", "partial"),
    ]
    upload.refresh_from_db()
    assert upload.state == "done" and upload.finished_at is not None
