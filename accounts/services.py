"""Writes of the login flow: authenticator set-up and confirmation, second-factor checks, backup codes,
turning two-factor off, and clearing a lockout."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.selectors import two_factor_required_by_role
from organisations.models import User

BACKUP_CODE_COUNT = 10


@transaction.atomic
def totp_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator being set up: one unconfirmed device whose secret stays the same until confirmed."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, user: User, token: str) -> TOTPDevice | None:
    """Confirms the pending authenticator with a code it shows; None for a wrong (or throttled) code."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
    if device is None or not device.verify_token(_normalise(token)):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # One authenticator per user: set-up replaces any earlier device and its leftover pending copies.
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    return device


@transaction.atomic
def two_factor_verify(*, user: User, token: str) -> Device | None:
    """The device that accepts the code: a 6-digit code is the authenticator's, anything else a backup code.

    Each device throttles wrong codes itself (1, 2, 4, ... seconds after each failure), and a TOTP code is
    accepted only once.
    """
    token = _normalise(token)
    device: Device | None
    if token.isdigit() and len(token) == 6:
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
    else:
        device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
    if device is None or not device.verify_token(token):
        return None
    return device


@transaction.atomic
def backup_codes_issue(*, user: User) -> list[str]:
    """New single-use backup codes for a lost phone; earlier codes stop working. Shown to the user once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def two_factor_disable(*, user: User) -> None:
    """Removes the authenticator and backup codes of a user whose role does not require them."""
    if two_factor_required_by_role(user):
        raise ValidationError(_("Your role requires two-factor authentication."), code="two_factor_required")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def login_lockout_clear(*, username: str) -> int:
    """Forgets the failed logins of a username (every address), e.g. after the password was reset."""
    return int(axes_reset(username=username))


def _normalise(token: str) -> str:
    return "".join(token.split()).lower()
