"""Two-factor authentication (TOTP): required for municipality, investor, coordinator and admin users,
chosen freely by consultants. These tests log in with the password only (`client.login` or the login form),
never with `force_login`, which tests/conftest.py makes pass the second factor for the rest of the suite."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from organisations.models import User
from tests.factories import MembershipFactory, MunicipalityFactory, OperatorFactory, UserFactory
from tests.otp_helpers import authenticator_for, code_now, new_step

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
SETUP = "/account/two-factor/setup/"
VERIFY = "/account/two-factor/verify/"


@pytest.fixture
def clerk() -> User:
    return MembershipFactory(role="municipality", organisation=MunicipalityFactory()).user


@pytest.fixture
def consultant() -> User:
    return MembershipFactory(role="consultant", organisation=OperatorFactory()).user


def password_login(client, user: User) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content


@pytest.mark.parametrize(
    "kind",
    ["municipality", "investor", "coordinator", "admin", "staff"],
)
def test_roles_that_need_a_second_factor_are_sent_to_set_up(client, kind: str) -> None:
    from tests.factories import InvestorFactory

    if kind == "admin":
        user = UserFactory(is_superuser=True, is_staff=True)
    elif kind == "staff":
        user = UserFactory(is_staff=True)
    else:
        organisation = {"municipality": MunicipalityFactory, "investor": InvestorFactory}.get(kind, OperatorFactory)()
        user = MembershipFactory(role=kind, organisation=organisation).user
    password_login(client, user)
    for path in ("/", "/invoices/", "/dashboard/", "/candidates/", "/account/security/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(f"{SETUP}?next="), path


def test_set_up_with_the_shown_secret_then_verify_at_the_next_login(client, clerk) -> None:
    password_login(client, clerk)
    response = client.get("/invoices/")
    assert response["Location"] == f"{SETUP}?next=%2Finvoices%2F"
    page = client.get(response["Location"]).content.decode()
    # A QR code drawn on the server (inline SVG, no image from elsewhere) and the key for typing in.
    assert re.search(r"<svg [^>]*class=\"segno\"", page) and not re.search(r"<script(?![^>]*\bsrc=)", page)
    secret = re.search(r"data-otp-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    device = TOTPDevice.objects.get(user=clerk, confirmed=False)
    assert bytes.fromhex(device.key) == __import__("base64").b32decode(secret)
    # The same key until it is confirmed: reloading the page does not change what was scanned.
    assert secret in client.get(SETUP).content.decode().replace(" ", "")

    wrong = client.post(SETUP, {"token": "000000", "next": "/invoices/"})
    assert wrong.status_code == 200 and "Koden blev ikke godkendt" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.save()
    response = client.post(SETUP, {"token": code_now(device), "next": "/invoices/"})
    page = response.content.decode()
    assert response.status_code == 200 and "Backupkoder" in page
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)
    assert len(codes) == 10 and StaticToken.objects.filter(device__user=clerk).count() == 10
    assert 'href="/invoices/"' in page
    assert client.get("/invoices/").status_code == 200

    # Next login: the code from the same app, once.
    client.post("/logout/")
    password_login(client, clerk)
    response = client.get("/")
    assert response["Location"] == f"{VERIFY}?next=%2F"
    assert "Koden blev ikke godkendt" in client.post(VERIFY, {"token": "123456"}).content.decode()
    device = authenticator_for(clerk)
    device.throttling_failure_count = 0
    device.save()
    new_step(device)
    code = code_now(device)
    response = client.post(VERIFY, {"token": code, "next": "/invoices/"})
    assert response.status_code == 302 and response["Location"] == "/invoices/"
    assert client.get("/").status_code == 200

    # A code is accepted only once (replay), even in another session.
    other = APIClient()
    password_login(other, clerk)
    assert other.post(VERIFY, {"token": code}).status_code == 200
    assert other.get("/").status_code == 302


def test_wrong_codes_are_throttled(client, clerk, settings) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a wrong code blocks the next try for 60 s, then 120 s, ...
    device = authenticator_for(clerk)
    password_login(client, clerk)
    response = client.post(VERIFY, {"token": "111111"})
    assert "Koden blev ikke godkendt" in response.content.decode()
    # Now even the right code waits until the delay has passed ...
    response = client.post(VERIFY, {"token": code_now(device)})
    assert response.status_code == 200 and "For mange forkerte koder" in response.content.decode()
    assert client.get("/").status_code == 302
    # ... after which it is accepted.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(seconds=61))
    assert client.post(VERIFY, {"token": code_now(device)}).status_code == 302
    assert client.get("/").status_code == 200


def test_a_backup_code_logs_in_once(client, clerk) -> None:
    authenticator_for(clerk)
    from accounts.services import backup_codes_issue

    code, *_ = backup_codes_issue(user=clerk)
    password_login(client, clerk)
    assert client.post(VERIFY, {"token": code.upper(), "next": "/"}).status_code == 302
    assert client.get("/").status_code == 200
    other = APIClient()
    password_login(other, clerk)
    assert other.post(VERIFY, {"token": code}).status_code == 200
    assert other.get("/").status_code == 302


def test_setting_up_again_needs_the_current_authenticator(client, clerk) -> None:
    """A stolen password alone cannot replace the victim's authenticator with the thief's."""
    device = authenticator_for(clerk)
    password_login(client, clerk)
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert client.post(SETUP, {"token": code_now(device)}).status_code == 302
    assert list(TOTPDevice.objects.filter(user=clerk)) == [device]


def test_a_consultant_is_not_forced_but_may_opt_in_and_out(client, consultant) -> None:
    password_login(client, consultant)
    assert client.get("/").status_code == 200
    security = client.get("/account/security/").content.decode()
    assert 'data-two-factor="off"' in security and "Slå to-faktor-godkendelse til" in security
    # Opt in.
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=consultant, confirmed=False)
    assert client.post(SETUP, {"token": code_now(device), "next": "/account/security/"}).status_code == 200
    assert 'data-two-factor="on"' in client.get("/account/security/").content.decode()
    # From now on the consultant's logins need the code too.
    client.post("/logout/")
    password_login(client, consultant)
    assert client.get("/").status_code == 302
    new_step(device)
    assert client.post(VERIFY, {"token": code_now(device)}).status_code == 302
    # Opt out again.
    assert client.post("/account/two-factor/disable/").status_code == 302
    assert not TOTPDevice.objects.filter(user=consultant).exists()
    client.post("/logout/")
    password_login(client, consultant)
    assert client.get("/").status_code == 200


def test_a_role_that_needs_two_factor_cannot_turn_it_off(client, clerk) -> None:
    device = authenticator_for(clerk)
    password_login(client, clerk)
    client.post(VERIFY, {"token": code_now(device)})
    response = client.post("/account/two-factor/disable/", follow=True)
    assert "Din rolle kræver to-faktor-godkendelse." in response.content.decode()
    assert TOTPDevice.objects.filter(user=clerk).exists()


def test_pages_that_stay_open_before_the_second_factor(client, clerk) -> None:
    password_login(client, clerk)
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/account/password/reset/").status_code == 200
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/login/"}).status_code == 302
    assert client.get(SETUP).status_code == 200
    # htmx asks for a full-page redirect instead of swapping the set-up page into a fragment.
    response = client.get("/invoices/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith(SETUP)
    assert client.post("/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_api_refuses_an_unverified_session_but_serves_tokens(client, clerk) -> None:
    password_login(client, clerk)
    response = client.get("/api/invoices/")
    assert response.status_code == 403 and "To-faktor" in response.json()["detail"]
    # Token clients are machines: the token itself was issued only after the second factor.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=clerk).key}")
    assert api.get("/api/invoices/").status_code == 200


def test_the_token_login_needs_the_code_for_roles_with_two_factor(clerk, consultant) -> None:
    device = authenticator_for(clerk)
    api = APIClient()
    response = api.post("/api/auth/token/", {"username": clerk.username, "password": PASSWORD})
    assert response.status_code == 400 and "otp_token" in str(response.json())
    response = api.post("/api/auth/token/", {"username": clerk.username, "password": PASSWORD, "otp_token": "000000"})
    assert response.status_code == 400 and not Token.objects.filter(user=clerk).exists()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.save()
    response = api.post(
        "/api/auth/token/", {"username": clerk.username, "password": PASSWORD, "otp_token": code_now(device)}
    )
    assert response.status_code == 200 and response.json()["token"] == Token.objects.get(user=clerk).key
    # A consultant without two-factor needs only the password.
    response = api.post("/api/auth/token/", {"username": consultant.username, "password": PASSWORD})
    assert response.status_code == 200


def test_the_admin_requires_the_second_factor(client) -> None:
    admin = UserFactory(is_superuser=True, is_staff=True)
    device = authenticator_for(admin)
    response = client.post("/admin/login/?next=/admin/", {"username": admin.username, "password": PASSWORD})
    assert response.status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == f"{VERIFY}?next=%2Fadmin%2F"
    client.post(VERIFY, {"token": code_now(device)})
    assert client.get("/admin/").status_code == 200


def test_a_forced_login_in_tests_counts_as_verified(client, clerk) -> None:
    """The suite-wide shortcut of tests/conftest.py: pages open at once after `force_login`."""
    client.force_login(clerk)
    assert client.get("/").status_code == 200
