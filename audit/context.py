"""Where a request comes from (IP, user agent, path), kept for the duration of the request so services can log it.

Services take the acting user as an argument but not the request; this middleware puts the request's origin
in a context variable that `audit_record` reads, so no service signature has to carry the request.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

USER_AGENT_LENGTH = 200
PATH_LENGTH = 300


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    user_agent: str = ""
    path: str = ""


_origin: ContextVar[Origin | None] = ContextVar("audit_origin", default=None)


def origin_of(request: HttpRequest) -> Origin:
    # REMOTE_ADDR only: a proxy's X-Forwarded-For is client-controlled unless the proxy rewrites it.
    return Origin(
        ip=request.META.get("REMOTE_ADDR") or None,
        user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:USER_AGENT_LENGTH],
        path=request.get_full_path()[:PATH_LENGTH],
    )


def current_origin() -> Origin:
    """The current request's origin; an empty one outside a request (commands, Celery tasks)."""
    return _origin.get() or Origin()


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _origin.set(origin_of(request))
        try:
            return self.get_response(request)
        finally:
            _origin.reset(token)
