"""OpenAPI 3 at /api/schema/, interactive docs served by the app (no CDN), and schemathesis: no 5xx."""

from __future__ import annotations

import re

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.generation import GenerationMode

from billing.services.disputes import dispute_open
from tests.portal_helpers import build_programme, member

pytestmark = pytest.mark.django_db


def test_schema_is_openapi_3_and_lists_every_resource(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    for path in (
        "/api/contracts/",
        "/api/invoices/",
        "/api/invoices/{number}/",
        "/api/invoices/{number}/pdf/",
        "/api/invoices/{number}/xml/",
        "/api/invoices/{number}/csv/",
        "/api/invoices/{number}/payments/",
        "/api/weekly-statuses/",
        "/api/weekly-statuses/bulk/",
        "/api/candidates/",
        "/api/ledger/entries/",
        "/api/ledger/balances/",
    ):
        assert path in paths, path
    schemes = schema["components"]["securitySchemes"]
    assert {"tokenAuth", "cookieAuth"} <= set(schemes)
    pdf = schema["paths"]["/api/invoices/{number}/pdf/"]["get"]["responses"]["200"]["content"]
    assert "application/pdf" in pdf
    invoice_list = schema["paths"]["/api/invoices/"]["get"]
    assert {p["name"] for p in invoice_list["parameters"]} >= {
        "contract",
        "kind",
        "week_from",
        "week_to",
        "status",
        "page",
    }


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_interactive_docs_load_their_assets_from_the_app_not_a_cdn(client, path):
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(not s.startswith(("http://", "https://", "//")) for s in sources), sources
    assert any(s.startswith(settings.STATIC_URL) for s in sources)
    assert "cdn" not in page.lower()


def test_the_sidecar_assets_are_served(client):
    page = client.get("/api/docs/").content.decode()
    bundle = next(s for s in re.findall(r'src="([^"]+)"', page) if "swagger-ui-bundle" in s)
    from django.contrib.staticfiles import finders

    assert finders.find(bundle.removeprefix(settings.STATIC_URL).split("?")[0])


@pytest.fixture
def wsgi_keeps_the_test_connection():  # type: ignore[no-untyped-def]
    """Like Django's test client: calling the WSGI app must not close the test's connection after each
    request (inside the test transaction Django would, and every later request would fail)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.slow
@pytest.mark.usefixtures("wsgi_keeps_the_test_connection")
def test_schemathesis_finds_no_server_error():
    """Generated requests (valid and invalid) against every operation, as a coordinator and a municipality."""
    from config.wsgi import application

    programme = build_programme()
    clerk = member("municipality", programme.municipality)
    coordinator = member("coordinator", programme.contract.operator)
    line = programme.invoice1.lines.get(candidate=programme.bo)
    dispute = dispute_open(line=line, reason="ill", claimed_outcome="none", user=clerk)
    tokens = [Token.objects.create(user=user).key for user in (coordinator, clerk)]
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    real_paths = {
        "number": programme.invoice1.number,
        "code": programme.contract.code,
        "line_id": line.pk,
        "id": dispute.pk,
    }
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        fixed = {name: value for name, value in real_paths.items() if name in names}
        if operation.path.startswith("/api/candidates/"):
            fixed = {"id": programme.anna.pk} if "id" in names else {}
        strategies = [
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        ]
        if fixed:
            strategies.append(operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=fixed))

        @given(case=st.one_of(strategies), token=st.sampled_from(tokens))
        @hypothesis_settings(
            max_examples=25,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case, token):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            response = case.call(headers={"Authorization": f"Token {token}"})
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {case.method} {case.formatted_path} {case.as_curl_command()}")

        run()
    assert calls > 300
    assert failures == []
