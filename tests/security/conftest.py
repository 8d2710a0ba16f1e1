"""One world per test module, built inside a transaction that is rolled back at the module's end."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from tests.security.world import World, build_world

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once per module (it settles weeks, draws a lottery, ...); every test nests in a savepoint."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True, scope="session")
def _quiet_axes() -> None:
    """django-axes logs every forced login at INFO; thousands of lines would hide the failures."""
    logging.getLogger("axes").setLevel(logging.WARNING)


@pytest.fixture(autouse=True)
def _db(db: None) -> None:
    """Every test runs in its own savepoint inside the module's world, so writes leave it as it was."""
