"""The investor in headless Chromium: log in, see the IMPACT60 demo's dashboard with its charts drawn, change a
simulator assumption and see the projection change; a candidate page answers 404. Saves the screenshots."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from playwright.sync_api import expect

from billing.demo import demo_load
from candidates.models import Candidate
from tests.browser.conftest import SCREENSHOTS, screenshot
from tests.otp_helpers import arm_authenticator, pass_two_factor

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "dashboard demo password"


@pytest.fixture
def demo(settings: Any) -> Any:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A transactional test starts from an emptied database: put back the rates the data migration seeds.
    importlib.import_module("organisations.migrations.0005_seed_benefit_rates").seed(apps, None)
    return demo_load(password=lambda: PASSWORD).contract


def _log_in(page: Any, live_server: Any, username: str) -> None:
    arm_authenticator(username)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    pass_two_factor(page, username)
    page.wait_for_url(f"{live_server.url}/")


def test_investor_follows_the_programme_and_tries_the_simulator(page: Any, live_server: Any, demo: Any) -> None:
    _log_in(page, live_server, "investor")
    page.click("nav >> text=Dashboard")
    page.click(f"text={demo.code}")
    page.wait_for_selector("#chart-outcomes svg.chart-svg")
    # Every chart is drawn: an SVG with filled or stroked shapes.
    for chart in ("chart-outcomes", "chart-money", "chart-success", "chart-retention", "chart-sectors"):
        shapes = page.locator(f"#{chart} svg.chart-svg path, #{chart} svg.chart-svg rect")
        assert shapes.count() > 0, chart
        box = page.locator(f"#{chart} svg.chart-svg").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
    assert page.locator("[data-figure=success-rate]").inner_text().strip().endswith("%")
    content = page.content()
    for name, ref in Candidate.objects.filter(contract=demo).values_list("name", "ref")[:120]:
        assert name not in content and f">{ref}<" not in content
    # The simulator arrives by htmx; a new success rate re-renders the projection.
    result = page.locator("#dashboard_simulator .sim-result")
    result.wait_for()
    before = result.get_attribute("data-projection-median")
    page.locator("#dashboard_simulator .sim-result #chart-projection svg path").first.wait_for()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-investor-top.png"))
    screenshot(page, "dashboard-investor")
    page.fill("#id_success_rate", "80")
    page.locator("#id_success_rate").dispatch_event("change")
    # Polled by expect(): wait_for_function's string predicate is an eval, which the CSP refuses.
    expect(page.locator("#dashboard_simulator .sim-result")).not_to_have_attribute("data-projection-median", before)
    after = page.locator("#dashboard_simulator .sim-result").get_attribute("data-projection-median")
    assert int(after) > int(before)
    page.locator("#dashboard_simulator").screenshot(path=str(SCREENSHOTS / "dashboard-simulator.png"))
    # Aggregates only: a candidate's page does not exist for the investor.
    candidate = Candidate.objects.filter(contract=demo).first()
    response = page.goto(f"{live_server.url}/candidates/{candidate.pk}/")
    assert response is not None and response.status == 404


def test_municipality_sees_the_business_case(page: Any, live_server: Any, demo: Any) -> None:
    _log_in(page, live_server, "kommune")
    page.goto(f"{live_server.url}/dashboard/{demo.code}/")
    # Let the lazily loaded simulator finish before the test's database goes away.
    page.locator("#dashboard_simulator .sim-result").wait_for()
    net_gain = page.locator("[data-figure=net-gain]")
    assert "kr." in net_gain.inner_text()
    page.locator("#case-title").locator("xpath=..").screenshot(path=str(SCREENSHOTS / "dashboard-business-case.png"))
