"""The municipality's portal in headless Chromium: log in, open the newest invoice, download the PDF and the
OIOUBL XML, dispute a line; then the operator's coordinator accepts the dispute."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from billing.models import Dispute
from billing.notifications import send_document_issued_email
from candidates.models import WeeklyStatus
from tests.billing_helpers import W, set_status, settle
from tests.otp_helpers import arm_authenticator, pass_two_factor
from tests.portal_helpers import build_programme, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"portal-{name}.png"), full_page=True)


def log_in(page: Any, base: str, username: str) -> None:
    arm_authenticator(username)
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    pass_two_factor(page, username)
    page.wait_for_url(f"{base}/")


@pytest.fixture
def world(settings: Any, monkeypatch: Any) -> dict[str, Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The issue e-mails are tested elsewhere; here they must not reach a broker.
    monkeypatch.setattr(send_document_issued_email, "delay", lambda *args, **kwargs: None)
    programme = build_programme()
    # A fourth week so the newest document is an invoice: C001 full, C002 partial.
    set_status(programme.anna, "2020-W04", "full")
    set_status(programme.bo, "2020-W04", "partial")
    (newest,) = settle(programme.contract, "2020-02-03T00:00")
    clerk = member("municipality", programme.municipality, username="kommune")
    clerk.first_name, clerk.last_name = "Lise", "Holm"
    clerk.save(update_fields=["first_name", "last_name"])
    coordinator = member("coordinator", programme.contract.operator, username="koordinator")
    coordinator.first_name, coordinator.last_name = "Karin", "Mortensen"
    coordinator.save(update_fields=["first_name", "last_name"])
    return {"programme": programme, "newest": newest}


def test_municipality_checks_downloads_and_disputes_then_coordinator_accepts(live_server: Any, page: Any, world):
    base = live_server.url
    newest = world["newest"]
    programme = world["programme"]
    log_in(page, base, "kommune")

    page.click("nav[aria-label] >> text=Fakturaer")
    page.wait_for_selector("#invoice-table")
    rows = page.locator("#invoice-table tbody tr")
    assert rows.count() == 4
    assert rows.first.locator("td").nth(1).inner_text() == newest.number
    shot(page, "invoices")

    rows.first.locator("a").click()
    page.wait_for_selector("#lines")
    assert newest.number in page.locator("h1").inner_text()
    assert "Anna Hansen" in page.content() and "Bo Jensen" in page.content()
    shot(page, "invoice")

    with page.expect_download() as pdf_download:
        page.click(".downloads >> text=PDF")
    pdf_path = pdf_download.value.path()
    assert pdf_download.value.suggested_filename == f"{newest.number}.pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(Path(pdf_path).read_bytes())).pages)
    assert newest.number in text and "Anna Hansen" in text and "Bo Jensen" in text

    with page.expect_download() as xml_download:
        page.click(".downloads >> text=OIOUBL XML")
    root = ET.fromstring(Path(xml_download.value.path()).read_bytes())  # noqa: S314
    assert root.tag.endswith("}Invoice") and root.findtext(f"{CBC}ID") == newest.number

    line = newest.lines.get(candidate=programme.bo)
    row = page.locator(f"#line-{line.pk}")
    row.locator("summary").click()
    row.locator("select[name=claimed_outcome]").select_option("none")
    row.locator("textarea[name=reason]").fill("Bo var sygemeldt hele uge 4 (lægeerklæring sendt)")
    shot(page, "dispute-form")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(".messages")
    assert page.locator(".doc-status .badge").get_attribute("class").endswith("status-disputed")
    shot(page, "disputed")
    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.raised_by.username, dispute.claimed_outcome) == ("open", "kommune", "none")

    page.click("button:has-text('Log ud'), button:has-text('Log out')")
    log_in(page, base, "koordinator")
    page.click("nav[aria-label] >> text=Indsigelser")
    form = page.locator(f"form[action='/disputes/{dispute.pk}/resolve/']")
    assert "Bo var sygemeldt" in page.locator(f"#dispute-{dispute.pk}").inner_text()
    shot(page, "disputes-open")
    form.locator("input[value=accepted]").check()
    form.locator("textarea[name=note]").fill("Godkendt: rettes på næste faktura.")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".messages")
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolved_by.username) == ("accepted", "koordinator")
    status = WeeklyStatus.objects.get(candidate=programme.bo, week=W("2020-W04"))
    assert (status.outcome, status.note) == ("none", dispute.reason)
    page.click(".tabs >> text=Godkendt")
    page.wait_for_selector(f"#dispute-{dispute.pk}")
    shot(page, "disputes-accepted")


def test_municipality_refers_one_person_and_then_by_lottery(live_server: Any, page: Any, world):
    base = live_server.url
    log_in(page, base, "kommune")
    page.click("nav[aria-label] >> text=Henvisninger")
    page.fill("#id_cpr", "120390-1234")
    page.fill("#id_name", "Sofie Lund")
    page.fill("#id_referred_on", "2020-03-02")
    page.click("#referral-form button[type=submit]")
    page.wait_for_selector(".messages")
    assert "C003" in page.locator(".messages").inner_text()
    assert "120390-XXXX" in page.locator("#candidate-table").inner_text()
    shot(page, "referrals")

    page.click("text=Træk lod")
    eligible = "\n".join(
        f"{cpr}; {name}"
        for cpr, name in [
            ("010185-1111", "Anders Berg"),
            ("020286-2222", "Birgitte Dahl"),
            ("030387-3333", "Carsten Eriksen"),
            ("040488-4444", "Dorthe Friis"),
            ("050589-5555", "Emil Gade"),
            ("060690-6666", "Frida Holm"),
        ]
    )
    page.fill("#id_eligible", eligible)
    page.fill("#id_referred_count", "3")
    page.fill("#id_referral_date", "2020-03-09")
    page.fill("#id_seed", "Lotto 2020 uge 10: 3-14-15-92-65-35")
    page.click("#lottery-form button[type=submit]")
    page.wait_for_selector("text=Sammenligningsgruppe")
    shot(page, "lottery-result")
    page.click("text=den registrerede lodtrækning")
    page.wait_for_selector("text=ja: samme resultat")
    shot(page, "lottery-record")
