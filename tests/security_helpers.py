"""Test helpers for the hardening tests: a logged-in client whatever the login policy asks (second factor)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.test import Client


def log_in_verified(client: Client, user: Any) -> Client:
    """`force_login`, plus a verified second factor when django-otp guards the pages (accounts/): these
    tests are about the pages behind the login, not the login itself."""
    client.force_login(user)
    if apps.is_installed("django_otp"):
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        device = device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
