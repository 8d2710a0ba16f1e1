"""Site-wide views: the landing page after login and the health check used by docker compose."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from organisations.selectors import contracts_for_user, memberships_of

logger = logging.getLogger(__name__)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    contracts = contracts_for_user(request.user).select_related("municipality", "operator")
    return render(
        request,
        "home.html",
        {"contracts": contracts, "memberships": memberships_of(request.user)},
    )


def _broker_ok() -> bool:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:  # any broker failure makes the service unhealthy
        logger.exception("healthz: broker unreachable")
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Checks the database and the broker; 200 when both answer, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = True
    except Exception:
        logger.exception("healthz: database unreachable")
        database = False
    broker = _broker_ok()
    ok = database and broker
    return JsonResponse({"database": database, "broker": broker, "ok": ok}, status=200 if ok else 503)
