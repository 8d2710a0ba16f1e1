"""Two-factor set-up and verification in headless Chromium: a municipality clerk logs in with the password,
is sent to set-up, reads the key shown beside the QR code (a phone would scan it), confirms with the code,
keeps the backup codes, and at the next login gives the code again. Saves the screenshots."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django_otp.oath import totp

from tests.browser.conftest import screenshot
from tests.factories import MembershipFactory, MunicipalityFactory
from tests.otp_helpers import authenticator_for, code_now, new_step

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory


def submit_password(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_clerk_sets_up_the_authenticator_then_verifies_at_the_next_login(page: Any, live_server: Any) -> None:
    base = live_server.url
    clerk = MembershipFactory(role="municipality", organisation=MunicipalityFactory(name="Aalborg Kommune")).user
    clerk.first_name, clerk.last_name = "Lise", "Holm"
    clerk.save(update_fields=["first_name", "last_name"])

    submit_password(page, base, clerk.username)
    page.wait_for_url(f"{base}/account/two-factor/setup/?next=%2F")
    assert page.locator("h1").inner_text() == "Opsæt to-faktor-godkendelse"
    qr = page.locator(".otp-qr svg").bounding_box()
    assert qr is not None and qr["width"] >= 150 and qr["height"] >= 150
    secret = page.locator("[data-otp-secret]").inner_text().replace(" ", "")
    screenshot(page, "two-factor-setup")

    # What the phone does with the scanned key: the current 30-second code.
    code = totp(base64.b32decode(secret))
    page.fill("#id_token", f"{code:06d}")
    page.click("#otp-form button[type=submit]")
    page.wait_for_selector("[data-backup-codes]")
    assert page.locator("[data-backup-codes] li").count() == 10
    screenshot(page, "two-factor-backup-codes")
    page.click("text=Fortsæt")
    page.wait_for_url(f"{base}/")
    assert "Velkommen" in page.locator("h1").inner_text()

    page.click("text=Log ud")
    page.wait_for_url(f"{base}/login/")
    submit_password(page, base, clerk.username)
    page.wait_for_url(f"{base}/account/two-factor/verify/?next=%2F")
    page.fill("#id_token", "000000")
    page.click("#otp-form button[type=submit]")
    page.wait_for_selector("text=Koden blev ikke godkendt")
    screenshot(page, "two-factor-verify")
    device = authenticator_for(clerk)
    device.throttling_failure_count = 0
    device.save(update_fields=["throttling_failure_count"])
    new_step(device)
    page.fill("#id_token", code_now(device))
    page.click("#otp-form button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.click("header a.user")  # the user's name opens the security page
    page.wait_for_selector("[data-two-factor=on]")
