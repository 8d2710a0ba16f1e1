"""Test helpers for the hardening tests: a logged-in client whatever the login policy asks (second factor)."""

from __future__ import annotations

from typing import Any

from django.test import Client


def log_in_verified(client: Client, user: Any) -> Client:
    """`force_login`, which in this suite also gives the second factor (tests/conftest.py): these tests are
    about the pages behind the login, not the login itself."""
    client.force_login(user)
    return client
