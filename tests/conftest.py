"""Shared fixtures. Tests run on the database DATABASE_URL names (PostgreSQL in CI) or on SQLite."""

from __future__ import annotations

import pytest
from django.db import connection

# The `worker` fixture: a real Celery worker subprocess over Redis (tests/celery_worker.py).
pytest_plugins = ["tests.celery_worker"]


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _issue_emails_stay_off_the_broker():  # type: ignore[no-untyped-def]
    """Settling in a test must not queue e-mail tasks on the developer's broker (var/ or Redis).

    The e-mail tests (tests/test_documents_files.py) patch `delay` themselves and call the task's function.
    """
    from unittest import mock

    from billing.notifications import send_document_issued_email

    # Patch the task object behind Celery's proxy: the proxy cannot delete the patched attribute again.
    task = getattr(send_document_issued_email, "_get_current_object", lambda: send_document_issued_email)()
    with mock.patch.object(task, "delay", lambda *args, **kwargs: None):
        yield


@pytest.fixture(autouse=True, scope="session")
def _dashboard_refreshes_stay_off_the_broker():  # type: ignore[no-untyped-def]
    """Every settled week queues a refresh of the dashboard's aggregates at commit (live-server tests commit):
    nothing must reach the developer's broker. Tests of the refresh patch `delay` or call the service."""
    from unittest import mock

    from billing.tasks import dashboard_aggregates_refresh_task

    task = getattr(
        dashboard_aggregates_refresh_task, "_get_current_object", lambda: dashboard_aggregates_refresh_task
    )()
    with mock.patch.object(task, "delay", lambda *args, **kwargs: None):
        yield


@pytest.fixture(autouse=True, scope="session")
def _forced_logins_pass_two_factor():  # type: ignore[no-untyped-def]
    """`client.force_login(user)`, the suite's shortcut past the login page, also passes the second factor.

    Municipality, investor, coordinator and admin users must give a TOTP code after their password
    (accounts.middleware.TwoFactorRequiredMiddleware); without this every page test of those roles would be
    redirected to the two-factor pages. A forced login gets a confirmed authenticator and the session is
    marked verified by it, as django_otp.login does after a real code. The two-factor tests
    (tests/test_accounts_two_factor.py) log in through the login form or `client.login` instead.
    """
    from unittest import mock

    from django.test.client import ClientMixin

    from tests.otp_helpers import session_verified

    original = ClientMixin.force_login

    def force_login(self, user, backend=None):  # type: ignore[no-untyped-def]
        original(self, user, backend)
        session_verified(self, user)

    with mock.patch.object(ClientMixin, "force_login", force_login):
        yield
