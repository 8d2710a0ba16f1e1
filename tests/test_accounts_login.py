"""Login hardening: Argon2 hashes, lockout after repeated failures (django-axes), password reset by e-mail,
password change, and the session timeout after inactivity."""

from __future__ import annotations

import re
import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.sessions import LAST_ACTIVITY_KEY, LOGIN_AT_KEY
from organisations.models import User
from tests.factories import MembershipFactory, OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
LOCKED_DA = "For mange mislykkede loginforsøg"


@pytest.fixture
def consultant() -> User:
    # A consultant needs no second factor: the password tests end on the landing page.
    return MembershipFactory(role="consultant", organisation=OperatorFactory(), user__email="ida@example.dk").user


def log_in(client, username: str, password: str, **extra):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"username": username, "password": password}, **extra)


def test_new_passwords_are_hashed_with_argon2() -> None:
    assert django_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert UserFactory().password.startswith("argon2$argon2id$")


def test_an_older_hash_is_upgraded_to_argon2_at_login(client, consultant) -> None:
    consultant.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    consultant.save(update_fields=["password"])
    assert log_in(client, consultant.username, PASSWORD).status_code == 302
    consultant.refresh_from_db()
    assert consultant.password.startswith("argon2$")


def test_five_wrong_passwords_lock_the_login_until_reset(client, consultant) -> None:
    assert django_settings.AXES_FAILURE_LIMIT == 5
    for attempt in range(1, 5):
        response = log_in(client, consultant.username, f"wrong {attempt}")
        assert response.status_code == 200 and LOCKED_DA not in response.content.decode()
    response = log_in(client, consultant.username, "wrong 5")
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED_DA in page and "15 minutter" in page and 'name="username"' in page
    # The right password no longer helps.
    response = log_in(client, consultant.username, PASSWORD)
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    # Another user from the same address is not locked (the count is per username and address) ...
    other = MembershipFactory(role="consultant", organisation=consultant.memberships.get().organisation).user
    assert log_in(APIClient(), other.username, PASSWORD).status_code == 302
    # ... nor the same user from another address.
    assert log_in(APIClient(), consultant.username, PASSWORD, REMOTE_ADDR="10.1.2.3").status_code == 302
    call_command("axes_reset", verbosity=0)
    assert log_in(client, consultant.username, PASSWORD).status_code == 302


def test_a_successful_login_clears_earlier_failures(client, consultant) -> None:
    for attempt in range(4):
        log_in(client, consultant.username, f"wrong {attempt}")
    assert log_in(client, consultant.username, PASSWORD).status_code == 302
    client.post("/logout/")
    for attempt in range(4):
        log_in(client, consultant.username, f"wrong again {attempt}")
    assert log_in(client, consultant.username, PASSWORD).status_code == 302


def test_the_admin_login_is_locked_too(client) -> None:
    admin = UserFactory(is_staff=True, is_superuser=True)
    for attempt in range(5):
        client.post("/admin/login/", {"username": admin.username, "password": f"wrong {attempt}"})
    response = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD})
    assert response.status_code == 429 and LOCKED_DA in response.content.decode()


def test_the_api_token_login_is_locked_too(consultant) -> None:
    api = APIClient()
    for attempt in range(4):
        response = api.post("/api/auth/token/", {"username": consultant.username, "password": f"wrong {attempt}"})
        assert response.status_code == 400
    response = api.post("/api/auth/token/", {"username": consultant.username, "password": "wrong 5"})
    assert response.status_code == 429
    response = api.post("/api/auth/token/", {"username": consultant.username, "password": PASSWORD})
    assert response.status_code == 429 and "token" not in response.json()


def test_an_overlong_api_username_is_a_clear_400_not_a_server_error() -> None:
    # Found by schemathesis: a 300-character name reached django-axes, whose username column holds 255.
    response = APIClient().post("/api/auth/token/", {"username": "x" * 300, "password": "whatever"})
    assert response.status_code == 400
    assert "username" in response.json()


def _reset_link(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/account/password/reset/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_password_reset_by_email_sets_a_new_password_and_lifts_the_lockout(client, consultant) -> None:
    for attempt in range(5):
        log_in(client, consultant.username, f"wrong {attempt}")
    assert log_in(client, consultant.username, PASSWORD).status_code == 429

    login_page = client.get("/login/").content.decode()
    assert 'href="/account/password/reset/"' in login_page
    response = client.post("/account/password/reset/", {"email": "IDA@example.dk"})
    assert response.status_code == 302 and response["Location"] == "/account/password/reset/sent/"
    (message,) = mail.outbox
    assert message.to == ["ida@example.dk"] and message.subject == "Ny adgangskode til SIB"
    assert "Vælg en ny adgangskode her" in message.body

    link = _reset_link(message)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and 'name="new_password1"' in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    new_password = "a brand new passphrase 42"
    response = client.post(set_url, {"new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302 and response["Location"] == "/account/password/reset/done/"

    assert log_in(client, consultant.username, PASSWORD).status_code == 200  # the old password is gone
    assert log_in(client, consultant.username, new_password).status_code == 302  # and no lockout left
    # The link works once.
    assert "udløbet" in client.get(link, follow=True).content.decode()


def test_password_reset_does_not_reveal_whether_an_address_exists(client, consultant) -> None:
    known = client.post("/account/password/reset/", {"email": "ida@example.dk"})
    unknown = client.post("/account/password/reset/", {"email": "nobody@example.dk"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert [m.to for m in mail.outbox] == [["ida@example.dk"]]


def test_a_logged_in_user_changes_the_password(client, consultant) -> None:
    assert log_in(client, consultant.username, PASSWORD).status_code == 302
    assert 'href="/account/password/"' in client.get("/account/security/").content.decode()
    new_password = "another long passphrase 7"
    refused = client.post(
        "/account/password/",
        {"old_password": "not it", "new_password1": new_password, "new_password2": new_password},
    )
    assert refused.status_code == 200
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302 and response["Location"] == "/account/password/done/"
    assert client.get("/").status_code == 200  # still logged in
    consultant.refresh_from_db()
    assert consultant.check_password(new_password)


def _age_session(client, *, idle: int = 0, since_login: int = 0) -> None:  # type: ignore[no-untyped-def]
    session = client.session
    now = int(time.time())
    session[LAST_ACTIVITY_KEY] = now - idle
    session[LOGIN_AT_KEY] = now - since_login
    session.save()


def test_a_login_ends_after_thirty_minutes_without_a_request(client, consultant) -> None:
    assert django_settings.SESSION_IDLE_TIMEOUT == 30 * 60
    log_in(client, consultant.username, PASSWORD)
    _age_session(client, idle=29 * 60, since_login=29 * 60)
    assert client.get("/").status_code == 200
    # The request counted as activity: the idle clock starts again.
    assert int(time.time()) - client.session[LAST_ACTIVITY_KEY] < 5
    _age_session(client, idle=31 * 60, since_login=60 * 60)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/"
    assert "_auth_user_id" not in client.session
    assert "inaktivitet" in client.get(response["Location"]).content.decode()


def test_a_login_ends_after_its_absolute_lifetime_however_active(client, consultant) -> None:
    log_in(client, consultant.username, PASSWORD)
    _age_session(client, idle=10, since_login=django_settings.SESSION_COOKIE_AGE - 60)
    assert client.get("/").status_code == 200
    _age_session(client, idle=10, since_login=django_settings.SESSION_COOKIE_AGE + 1)
    assert client.get("/").status_code == 302
    assert "_auth_user_id" not in client.session
