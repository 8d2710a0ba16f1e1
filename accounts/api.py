"""The API's token login (POST /api/auth/token/): username and password, plus the authenticator code for the
roles that need a second factor, so a token never opens more than a browser login would.

Calls made with the token are machine clients: no password and no second factor per call (a token is 40
random hex characters, beyond guessing). django-axes counts failed passwords here as on the login page.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors, services


class TokenLoginSerializer(AuthTokenSerializer):
    # As long as the user model allows: a longer name cannot match anyone, and django-axes would fail to
    # record the failed attempt (its username column holds 255 characters).
    username = serializers.CharField(label=_("Username"), write_only=True, max_length=150)
    otp_token = serializers.CharField(
        label=_("Two-factor code"),
        required=False,
        allow_blank=True,
        write_only=True,
        help_text=_(
            "The 6-digit code from the authenticator app (or a backup code); required for roles with two-factor."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        user = attrs["user"]
        if selectors.two_factor_required(user):
            code = attrs.get("otp_token") or ""
            if not code:
                raise serializers.ValidationError(
                    _("Two-factor authentication is required: send otp_token with a code from your app."),
                    code="otp_required",
                )
            if services.two_factor_verify(user=user, token=code) is None:
                raise serializers.ValidationError(_("The two-factor code was not accepted."), code="otp_invalid")
        return attrs


class TokenLoginView(ObtainAuthToken):
    serializer_class = TokenLoginSerializer

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # django-axes marks the request when this failure (or an earlier series) locked the login.
            if getattr(request, "axes_locked_out", False):
                return Response(
                    {"detail": _("Too many failed login attempts: this login is locked for a while.")},
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                )
            raise serializers.ValidationError(serializer.errors)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
