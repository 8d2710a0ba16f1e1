"""Two-factor helpers for tests: an authenticator for a user, and the code it shows now."""

from __future__ import annotations

from typing import Any

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def authenticator_for(user: Any) -> TOTPDevice:
    """The user's confirmed TOTP device, created if missing (as if set up on a phone)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def session_verified(client: Any, user: Any) -> None:
    """Mark a logged-in test client's session as past the second factor, as django_otp.login does after a
    real code: the session names the user's confirmed authenticator."""
    from django_otp import DEVICE_ID_SESSION_KEY

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = authenticator_for(user).persistent_id
    session.save()


def code_now(device: TOTPDevice) -> str:
    """The 6-digit code the phone shows now. Each code is accepted once: a test that logs in twice within
    one 30-second step calls `new_step` in between."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def new_step(device: TOTPDevice) -> None:
    """Forget which step was used last, as if the next 30-second code had appeared."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)


def arm_authenticator(username: str) -> TOTPDevice | None:
    """Browser tests: before logging in as a role that needs a second factor, give the user a phone."""
    from accounts.selectors import two_factor_required_by_role
    from organisations.models import User

    user = User.objects.get(username=username)
    return authenticator_for(user) if two_factor_required_by_role(user) else None


def pass_two_factor(page: Any, username: str) -> None:
    """Browser tests: after the password was submitted, enter the code if the verification page asks."""
    from organisations.models import User

    page.wait_for_url(lambda url: "/login/" not in url)
    if "/account/two-factor/verify/" in page.url:
        device = authenticator_for(User.objects.get(username=username))
        new_step(device)
        page.fill("#id_token", code_now(device))
        page.click("#otp-form button[type=submit]")
