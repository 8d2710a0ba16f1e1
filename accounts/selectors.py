"""Reads of the login policy: who must use two-factor authentication, and their devices."""

from __future__ import annotations

from datetime import datetime

from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from organisations.models import Role, User
from organisations.selectors import roles_of

# Roles that see money, invoices or every candidate of an operator: they must use a second factor.
# Consultants may choose it on the security page; admins (staff or superuser) always need it.
TWO_FACTOR_ROLES = frozenset({Role.COORDINATOR, Role.MUNICIPALITY, Role.INVESTOR})


def two_factor_required_by_role(user: User) -> bool:
    return bool(user.is_superuser or user.is_staff or roles_of(user) & TWO_FACTOR_ROLES)


def totp_device_of(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def two_factor_required(user: User) -> bool:
    """Required by the user's role, or chosen by a user who set up an authenticator (consultants may)."""
    return two_factor_required_by_role(user) or TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_locked_until(user: User, *, confirmed: bool = True) -> datetime | None:
    """After wrong codes: the moment the authenticator (or the one being set up) accepts codes again."""
    device = totp_device_of(user, confirmed=confirmed)
    if device is None:
        return None
    allowed, details = device.verify_is_allowed()
    if allowed or not details:
        return None
    locked_until: datetime | None = details.get("locked_until")
    return locked_until


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def backup_device_of(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
