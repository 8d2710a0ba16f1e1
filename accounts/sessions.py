"""Session timeout: a login ends after a period without requests (idle) and after an absolute lifetime.

Both clocks live in the session. The last-activity stamp is rewritten at most once a minute, so a busy
user does not cost a session write on every request.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

LOGIN_AT_KEY = "sib_login_at"
LAST_ACTIVITY_KEY = "sib_last_activity"
ACTIVITY_RESOLUTION_SECONDS = 60


def session_clock_start(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """user_logged_in receiver: a fresh login starts both clocks."""
    if request is None or not hasattr(request, "session"):
        return
    now = int(time.time())
    request.session[LOGIN_AT_KEY] = now
    request.session[LAST_ACTIVITY_KEY] = now


def session_timed_out(session: SessionBase, *, now: float | None = None) -> bool:
    """Whether the login in this session has been idle too long or has outlived its absolute lifetime.

    A session without clocks (from before this check existed) starts them now.
    """
    now = int(time.time() if now is None else now)
    login_at = session.get(LOGIN_AT_KEY)
    last_activity = session.get(LAST_ACTIVITY_KEY)
    if login_at is None or last_activity is None:
        session[LOGIN_AT_KEY] = login_at or now
        session[LAST_ACTIVITY_KEY] = now
        return False
    if now - int(last_activity) > settings.SESSION_IDLE_TIMEOUT or now - int(login_at) > settings.SESSION_COOKIE_AGE:
        return True
    if now - int(last_activity) >= ACTIVITY_RESOLUTION_SECONDS:
        session[LAST_ACTIVITY_KEY] = now
    return False
