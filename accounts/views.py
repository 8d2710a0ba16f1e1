"""Login pages: two-factor set-up and verification, the security page, password reset, and the lockout page."""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from accounts import selectors, services
from accounts.forms import TokenForm


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=False):
        return wanted
    return reverse("home")


def _otp_login(request: HttpRequest, device: Any) -> None:
    # A new session key when the login gains its second factor, as at the first: no fixation across it.
    request.session.cycle_key()
    otp_login(request, device)


def _code_refused(request: HttpRequest, *, confirmed: bool) -> str | None:
    """The reason a code cannot be tried now: the authenticator waits after wrong codes (django-otp throttling)."""
    if selectors.two_factor_locked_until(request.user, confirmed=confirmed) is not None:  # type: ignore[arg-type]
        return _("Too many wrong codes. Wait a moment, then enter the newest code from your app.")
    return None


WRONG_CODE = _lazy("The code was not accepted. Enter the newest code from your app.")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: QR code and secret, confirmed by one code; then the backup codes."""
    user: Any = request.user
    if selectors.totp_device_of(user) is not None:
        # Adding or replacing an authenticator needs the current one first (security page after verification).
        return redirect(f"{reverse('accounts:otp_verify')}?next={reverse('accounts:security')}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        refused = _code_refused(request, confirmed=False)
        device = None if refused else services.totp_device_confirm(user=user, token=form.cleaned_data["token"])
        if device is not None:
            _otp_login(request, device)
            codes = services.backup_codes_issue(user=user)
            return render(request, "accounts/backup_codes.html", {"codes": codes, "next": _next_url(request)})
        form.add_error("token", refused or str(WRONG_CODE))
    device = services.totp_device_pending(user=user)
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "qr_svg": qr.svg_inline(scale=5, title=_("QR code for your authenticator app"), lineclass="qr-line"),
        "secret": " ".join(_chunks(b32encode(device.bin_key).decode(), 4)),
        "required": selectors.two_factor_required_by_role(user),
        "next": _next_url(request),
    }
    return render(request, "accounts/otp_setup.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Enter the code from the authenticator app (or a backup code) to finish the login."""
    user: Any = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if selectors.totp_device_of(user) is None:
        return redirect(f"{reverse('accounts:otp_setup')}?next={_next_url(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        refused = _code_refused(request, confirmed=True)
        device = None if refused else services.two_factor_verify(user=user, token=form.cleaned_data["token"])
        if device is not None:
            _otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", refused or str(WRONG_CODE))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next_url(request)})


@never_cache
@require_GET
@login_required
def security(request: HttpRequest) -> HttpResponse:
    """The user's login security: two-factor status, backup codes, password change."""
    user: Any = request.user
    device = selectors.totp_device_of(user)
    context = {
        "device": device,
        "required": selectors.two_factor_required_by_role(user),
        "backup_codes_left": selectors.backup_codes_left(user) if device else 0,
    }
    return render(request, "accounts/security.html", context)


@never_cache
@login_required
@require_POST
def otp_disable(request: HttpRequest) -> HttpResponse:
    try:
        services.two_factor_disable(user=request.user)  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Two-factor authentication is turned off."))
    return redirect("accounts:security")


@never_cache
@login_required
@require_POST
def backup_codes(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if selectors.totp_device_of(user) is None:
        return redirect("accounts:security")
    codes = services.backup_codes_issue(user=user)
    return render(request, "accounts/backup_codes.html", {"codes": codes, "next": reverse("accounts:security")})


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset confirmation; a new password also lifts a lockout from failed logins."""

    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.login_lockout_clear(username=form.user.get_username())
        return response


def lockout(request: HttpRequest, response: HttpResponse | None = None, credentials: Any = None) -> HttpResponse:
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): the login page with the reason, or JSON for the API."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed login attempts: this login is locked for %(minutes)s minutes. "
        "Try again later, or reset your password."
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    form = AuthenticationForm(request, data=None)
    context = {"form": form, "locked_out": message, "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=429)


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]
