"""Two middlewares of the login: the session timeout, and two-factor enforcement for the roles that need it.

Two-factor enforcement sees only the session user. Calls with an `Authorization: Token ...` header are
machine clients of the REST API: DRF authenticates them in the view, by a token that was itself issued
only after the second factor (accounts.api), so they pass untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from accounts.selectors import totp_device_of, two_factor_required
from accounts.sessions import session_timed_out

# Pages a logged-in user reaches before the second factor: signing out and in, the two-factor pages
# themselves, password reset, language switch and the health check.
OPEN_URL_NAMES = frozenset(
    {
        "login",
        "logout",
        "set_language",
        "healthz",
        "accounts:otp_setup",
        "accounts:otp_verify",
        "accounts:password_reset",
        "accounts:password_reset_done",
        "accounts:password_reset_confirm",
        "accounts:password_reset_complete",
        "admin:logout",
    }
)


class SessionTimeoutMiddleware:
    """Logs out a session that was idle longer than SESSION_IDLE_TIMEOUT or older than SESSION_COOKIE_AGE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The session is read only when it holds a login: anonymous requests touch nothing.
        if SESSION_KEY in request.session and session_timed_out(request.session):
            logout(request)
            messages.info(request, _("You were logged out after a period of inactivity. Please log in again."))
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Sends a logged-in user who needs a second factor and has not given one to set-up or verification.

    Pages answer with a redirect (htmx requests with HX-Redirect), the API with 403 JSON.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user: Any = request.user
        if not user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_URL_NAMES:
            return None
        if user.is_verified():
            return None
        is_api = match is not None and "api" in match.namespaces
        if is_api and request.headers.get("Authorization", "").startswith("Token "):
            return None
        if not two_factor_required(user):
            return None
        if is_api:
            return JsonResponse(
                {"detail": _("Two-factor authentication is required: verify your login in the browser first.")},
                status=403,
            )
        name = "accounts:otp_verify" if totp_device_of(user) is not None else "accounts:otp_setup"
        url = f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}"
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(url)
        return HttpResponseRedirect(url)
