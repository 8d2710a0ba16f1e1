"""Browser: a consultant reveals a candidate's CPR number; the coordinator finds that in the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.security_helpers import log_in_verified
from tests.workspace_helpers import make_team

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Any, live_server: Any, user: Any) -> None:
    """A session made by the test client, second factor given: the audit log is the point here, not the login."""
    cookie = log_in_verified(Client(), user).cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}])


def test_a_revealed_cpr_number_shows_in_the_coordinators_audit_log(page, live_server, settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    team = make_team("AUD26")
    anna = team.candidate("C001", name="Anna Hansen", cpr="0101901234")
    team.candidate("C002", name="Bo Jensen")

    log_in(page, live_server, team.consultant)
    page.goto(f"{live_server.url}/candidates/{anna.pk}/")
    page.get_by_role("button", name="Vis").click()
    expect(page.locator("#cpr .cpr-number")).to_have_text("010190-1234")

    page.context.clear_cookies()
    log_in(page, live_server, team.coordinator)
    page.goto(f"{live_server.url}/audit/")
    page.get_by_label("Kandidat-ref.").fill("C001")
    page.get_by_label("Handling").select_option(label="CPR-nummer vist")
    page.get_by_role("button", name="Søg").click()
    rows = page.locator("table.audit-log tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Karin Konsulent")
    expect(rows.first).to_contain_text("C001")
    expect(rows.first).to_contain_text("AUD26")
    # The log names the candidate by ref only: no name and no CPR number on the page.
    body = page.locator("#audit_results").inner_text()
    assert "Anna Hansen" not in body and "1234" not in body
    page.goto(f"{live_server.url}/audit/")
    expect(page.locator("table.audit-log tbody tr").first).to_be_visible()
    screenshot(page, "audit-log")
