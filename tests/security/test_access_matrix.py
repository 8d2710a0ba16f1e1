"""Access matrix (issue #7): every route x every role x own/others' object answers as SPEC section 5 says.

The routes come from the URL resolver (every pattern, namespaces included) and the API's operations from
the OpenAPI schema, so a new page or endpoint is in the matrix the moment it exists. Each is requested
as anonymous, consultant of operator A, consultant of operator B, coordinator of A, municipality X,
municipality Y, the investor of A and admin, on an object of the role's own contract ("own") and of the
other contract ("other"); consultants also on a colleague's candidate of their own contract ("colleague":
they see it, but change only their caseload). The answer must be the declared class: `ok` (2xx, or a redirect that is not to
a login), `denied` (403/404), `login` (a redirect to the login page; 401 from the API).

Every response to the investor is also scanned for personal data (names, CPR numbers plain, dashed and
masked, candidate refs), in decoded text: HTML/JSON/CSV, PDF text, XLSX cells, zip members. Every
response to a non-admin role is scanned for the other contract's markers (its code, document numbers,
employer, people), which is what catches a list that shows more than its caller's own rows.

How to declare a new route
--------------------------
A route with no declaration fails `test_every_route_is_declared`, naming it. Add one line to
`EXPECT` in tests/security/expectations.py, under the route's name (`namespace:name`; an unnamed
pattern goes under its pattern text):

    "billing:invoice_detail": page(GET=DOCUMENT_ROLES, obj=number),

- one keyword per HTTP method to try (`GET=`, `POST=`, ...; for an API route exactly the schema's
  methods), each naming the roles that get through on their *own* contract's object;
- `obj=` builds the URL kwargs from one side of the world (tests/security/world.py: `s.candidate`,
  `s.document`, `s.dispute`, ...); `query=` does the same for a query string or form field
  (`?contract=CODE`); leave both out when the URL names no object;
- `data=` (with `json=True` for the API) when a write validates its body before it checks access;
- exceptions to the defaults (anonymous -> login, admin -> ok, others' objects -> denied) are
  explicit: `anonymous=OK`, `admin={"GET": DENIED}`, `other_ok=...`, `answers={role: ...}`, and
  `why=` says why;
- for a consultant's page on a candidate (or their upload), `colleague=` builds the URL for the
  colleague's object in the same contract and `colleague_methods=` names the methods that still get
  through (reads); every other method must be refused.

A method the entry does not declare must answer 405 (`test_undeclared_methods_are_refused`), so a view
that quietly accepts POST is found too.

A new model in the admin gets one row in `ADMIN_MODELS` instead (its six pages follow from it). If
the world lacks the object your URL needs, add it to `Side` in world.py for both contracts.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from tests.security.expectations import EXPECT, STAFF_KINDS, expected
from tests.security.routes import all_routes, api_operations, build_url, classify, openapi_path, response_text
from tests.security.world import HOME, KIND, ROLES, SIDES, World

pytestmark = pytest.mark.slow

ROUTES = all_routes()


def _cases() -> list[Any]:
    cases = []
    for key in sorted(set(ROUTES) & set(EXPECT)):
        expect = EXPECT[key]
        for method in expect.methods:
            for role in ROLES:
                # Whose object it is matters only to a role the route lets in at all: anonymous and, in the
                # admin, the roles without staff status are sent to log in before any object is read.
                gated = role == "anonymous" or (expect.staff_only and KIND[role] not in {*STAFF_KINDS, "admin"})
                sides = ["own", "other"] if expect.sided and not gated else ["own"]
                if expect.colleague is not None and KIND[role] == "consultant":
                    sides.append("colleague")
                for side in sides:
                    cases.append(pytest.param(key, method, role, side, id=f"{key} {method} {role} {side}"))
    return cases


def test_every_route_is_declared() -> None:
    missing = sorted(set(ROUTES) - set(EXPECT))
    assert not missing, f"routes without a declared expectation (tests/security/expectations.py): {missing}"


def test_every_declared_route_exists() -> None:
    stale = sorted(set(EXPECT) - set(ROUTES))
    assert not stale, f"declared routes that no longer exist: {stale}"


# API routes that describe the API rather than serve it: not operations of the schema.
NOT_IN_SCHEMA = {"api:schema", "api:docs", "api:redoc"}


def test_api_methods_match_the_schema() -> None:
    """Every (path, method) of the OpenAPI schema is declared, and nothing is declared that it lacks."""
    declared = {
        (openapi_path(route), method)
        for key, route in ROUTES.items()
        if key.startswith("api:") and key in EXPECT and key not in NOT_IN_SCHEMA
        for method in EXPECT[key].methods
    }
    schema = api_operations()
    assert schema, "the OpenAPI schema lists no operation"
    assert not schema - declared, f"API operations without a declared expectation: {sorted(schema - declared)}"
    assert not declared - schema, f"declared API methods the schema does not have: {sorted(declared - schema)}"


def _other(letter: str) -> str:
    return SIDES[1 - SIDES.index(letter)]


def _request(client: Client, method: str, url: str, *, query: dict[str, Any], data: Any, as_json: bool) -> Any:
    if method == "GET":
        return client.get(url, query)
    target = f"{url}?{urlencode(query)}" if query else url
    if as_json:
        return client.generic(method, target, json.dumps(data), content_type="application/json")
    return client.generic(
        method, target, urlencode({**query, **(data or {})}), content_type="application/x-www-form-urlencoded"
    )


@pytest.mark.parametrize(("key", "method", "role", "side"), _cases())
def test_access(world: World, key: str, method: str, role: str, side: str) -> None:
    expect, route, kind = EXPECT[key], ROUTES[key], KIND[role]
    letter = _other(HOME[role]) if side == "other" else HOME[role]
    s = world.side(letter)
    build = expect.colleague if side == "colleague" else expect.obj
    url = build_url(route, build(s) if build else None, expect.args(s) if expect.args else ())
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])
    response = _request(
        client,
        method,
        url,
        query=expect.query(s) if expect.query else {},
        data=expect.data(s) if expect.data else {},
        as_json=expect.json,
    )
    answer = classify(response, path=url, method=method)
    want = expected(expect, method=method, kind=kind, own_side=side != "other", colleague=side == "colleague")
    assert answer == want, (
        f"{method} {url} as {role} on contract {s.code} ({side}): expected {want}, got {answer} "
        f"(status {response.status_code}, Location {response.get('Location', '-')})"
    )

    text = response_text(response)
    if kind == "investor":
        found = [p for other in world.sides.values() for p in other.personal_data() if p in text]
        assert not found, f"{method} {url} shows the investor personal data: {found}"
    if kind not in ("admin", "anonymous"):
        foreign = world.side(_other(HOME[role]))
        # What the caller typed (the other contract's code in the URL) may come back; nothing else may.
        asked = (
            url + urlencode(expect.query(s) if expect.query else {}) + json.dumps(expect.data(s) if expect.data else {})
        )
        found = [marker for marker in foreign.markers() if marker in text and marker not in asked]
        assert not found, f"{method} {url} shows {role} contract {foreign.code}'s data: {found}"


def _undeclared_methods() -> list[Any]:
    cases = []
    for key in sorted(set(ROUTES) & set(EXPECT)):
        for method in ("GET", "POST"):
            if method not in EXPECT[key].methods and not key.startswith("admin"):
                cases.append(pytest.param(key, method, id=f"{key} {method}"))
    return cases


@pytest.mark.parametrize(("key", "method"), _undeclared_methods())
def test_undeclared_methods_are_refused(world: World, key: str, method: str) -> None:
    """A method the table does not declare must not reach the view: 405 for admin (who may do anything)."""
    expect, route = EXPECT[key], ROUTES[key]
    s = world.side("A")
    url = build_url(route, expect.obj(s) if expect.obj else None, expect.args(s) if expect.args else ())
    client = Client()
    client.force_login(world.users["admin"])
    response = _request(client, method, url, query=expect.query(s) if expect.query else {}, data={}, as_json=False)
    assert response.status_code == 405, f"{method} {url} answers {response.status_code}: declare it or refuse it"
