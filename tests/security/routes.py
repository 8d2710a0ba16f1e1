"""Route enumeration (URL resolver and OpenAPI schema), URL building, answer classes and response text.

Kept apart from the expectations table so that the table reads as a table.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.urls import URLPattern, URLResolver, get_resolver, reverse

OK, DENIED, LOGIN = "ok", "denied", "login"

# Routes deliberately not in the matrix, each with the reason.
EXCLUDED_ROUTES = {
    # Django's language switcher: it only sets a cookie and redirects; it reads no object of anyone.
    "set_language": "i18n language switch (a cookie, no data)",
}
# Static and media files are served by WhiteNoise (middleware), not by URL patterns, so none appear here.


# An admin page of one object (`/admin/app/model/<id>/...`): a redirect from it to the admin's index is
# the admin's "no such object" (for this user).
ADMIN_OBJECT_PAGE = re.compile(r"^/admin/[^/]+/[^/]+/[^/]+/")


@dataclass(frozen=True)
class Route:
    """One URL pattern: its key in the expectations table, the full pattern text and converters."""

    key: str  # the namespaced name, or for an unnamed pattern the pattern text
    name: str | None
    pattern: str
    kwargs: tuple[str, ...]  # named parameters (converters and named groups)
    positional: int  # unnamed regex groups (simple_history's version pages)


_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>")


def _params(pattern: str) -> tuple[tuple[str, ...], int]:
    names = tuple(m.group("name") or m.group("group") for m in _PARAM.finditer(pattern))
    positional = len(re.findall(r"\((?!\?)", pattern))
    return names, positional


def _walk(patterns: list[Any], prefix: str = "", namespace: str | None = None) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            name = entry.name
            if name and namespace:
                name = f"{namespace}:{name}"
            kwargs, positional = _params(pattern)
            yield Route(key=name or pattern, name=name, pattern=pattern, kwargs=kwargs, positional=positional)


def all_routes() -> dict[str, Route]:
    """Every URL pattern of the project (namespaces included) by key, less EXCLUDED_ROUTES."""
    found: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns):
        if route.key in EXCLUDED_ROUTES:
            continue
        # Two patterns with one name: both are enumerated under distinct keys so neither hides.
        key = route.key if route.key not in found else f"{route.key} [{route.pattern}]"
        found[key] = Route(key, route.name, route.pattern, route.kwargs, route.positional)
    return found


def api_operations() -> set[tuple[str, str]]:
    """(path, METHOD) of every operation in the OpenAPI schema, paths as `/api/invoices/{number}/`."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    methods = {"get", "post", "put", "patch", "delete"}
    return {(path, method.upper()) for path, item in schema["paths"].items() for method in item if method in methods}


def openapi_path(route: Route) -> str:
    """`api/invoices/<str:number>/` -> `/api/invoices/{number}/` (how drf-spectacular writes paths; `pk` is `id`)."""

    def name(match: re.Match[str]) -> str:
        found = match.group("name") or match.group("group")
        return "{" + ("id" if found == "pk" else found) + "}"

    return "/" + _PARAM.sub(name, route.pattern)


def build_url(route: Route, kwargs: dict[str, Any] | None, args: tuple[Any, ...] = ()) -> str:
    if route.name and route.positional == 0:
        return reverse(route.name, kwargs=kwargs or {})
    if route.name:
        return reverse(route.name, args=args)
    # Unnamed pattern: fill the converters by hand.
    values = dict(kwargs or {})
    url = _PARAM.sub(lambda m: str(values[m.group("name") or m.group("group")]), route.pattern)
    url = url.replace("^", "").replace("$", "")
    return "/" + url


def classify(response: Any, *, path: str, method: str) -> str:
    """The class of an answer: ok (the role got through), denied (403/404), login, or `status <n>`.

    - 302 to /login/ or the admin's login page, and 401 (the API), are `login`;
    - 403 and 404 are `denied`; so is the admin's redirect to its index from an object page, which is
      how the admin says "no such object (for you)";
    - 2xx and other redirects are `ok`; for a write, 400 and 409 are `ok` too: the request got past
      the access check and was judged on its content.
    """
    status = response.status_code
    if status in (401,):
        return LOGIN
    if status in (403, 404):
        return DENIED
    if status in (301, 302, 303, 307, 308):
        location = urlsplit(response.get("Location", "")).path
        if location in (reverse("login"), reverse("admin:login")):
            return LOGIN
        if ADMIN_OBJECT_PAGE.match(path) and location == reverse("admin:index"):
            return DENIED
        return OK
    if 200 <= status < 300:
        return OK
    if method != "GET" and status in (400, 409):
        return OK
    return f"status {status}"


# --- response text --------------------------------------------------------------------------------------


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    parts = [page.extract_text() or "" for page in reader.pages]
    meta = reader.metadata or {}
    parts += [str(value) for value in meta.values()]
    return "\n".join(parts)


def _xlsx_text(data: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    parts: list[str] = []
    for sheet in book.worksheets:
        parts.append(sheet.title)
        for row in sheet.iter_rows(values_only=True):
            parts += [str(value) for value in row if value is not None]
    return "\n".join(parts)


def _zip_text(data: bytes) -> str:
    parts: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            parts.append(member)
            parts.append(file_text(archive.read(member), name=member))
    return "\n".join(parts)


def file_text(data: bytes, *, content_type: str = "", name: str = "") -> str:
    """The readable text of a body: PDF text, XLSX cells, zip members (recursively), else UTF-8."""
    lowered = (content_type + " " + name).lower()
    if data.startswith(b"%PDF") or "pdf" in lowered:
        return _pdf_text(data)
    if data.startswith(b"PK"):
        if "spreadsheetml" in lowered or name.lower().endswith(".xlsx"):
            return _xlsx_text(data)
        return _zip_text(data)
    return data.decode("utf-8", errors="replace")


def response_text(response: Any) -> str:
    """Everything a response shows: decoded body plus the headers that can carry names (file names, Location)."""
    data = b"".join(response.streaming_content) if response.streaming else response.content
    headers = " ".join(str(response.get(name, "")) for name in ("Location", "Content-Disposition"))
    return headers + "\n" + file_text(data, content_type=response.get("Content-Type", ""))
