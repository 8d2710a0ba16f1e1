"""The Content-Security-Policy in headless Chromium: every role's main pages, the admin and the API docs load
without a single CSP violation or console message, and htmx still works under the policy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from billing.models import Document
from billing.services.settlement import settle_contract
from candidates.models import WeeklyStatus
from common import weeks
from tests.factories import EmployerFactory, JobFactory, PlacementFactory, UserFactory, WeeklyStatusFactory
from tests.security_helpers import log_in_verified
from tests.workspace_helpers import Team, make_team, this_week, week_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's init scripts run before the page's own and are not subject to its CSP: they record every
# violation the browser reports, for the test to read after each page.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""

# The policy doing its job: Redoc's footer shows a logo from its CDN, which no page may load.
EXPECTED = ("img-src blocked https://cdn.redoc.ly/", "Loading the image 'https://cdn.redoc.ly/")


@pytest.fixture
def world(settings: Any) -> dict[str, Any]:
    """A contract running around today with statuses, a placement and settled weeks (so invoices exist)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    team = make_team("CSP26")
    cafe = EmployerFactory(operator=team.operator, name="Café Fokus", sector="restaurant", own_enterprise=True)
    dishes = JobFactory(employer=cafe, title="Opvasker", kind="small_job", hours_per_week=Decimal("10"))
    anna = team.candidate("C001", name="Anna Hansen", referred_on=week_ago(20), enrolled_on=week_ago(19))
    bo = team.candidate("C002", name="Bo Jensen", referred_on=week_ago(20), enrolled_on=week_ago(19))
    PlacementFactory(candidate=bo, job=dishes, start=week_ago(8), hours_per_week=Decimal("10"))
    for back in range(2, 8):
        WeeklyStatusFactory(candidate=bo, week=week_ago(back), outcome="partial", recorded_by=team.consultant)
    settle_contract(contract=team.contract, as_of=timezone.now())
    invoice = Document.objects.filter(contract=team.contract).order_by("-number").first()
    assert invoice is not None, "the fixture must issue an invoice"
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    return {"team": team, "anna": anna, "bo": bo, "invoice": invoice, "admin": admin}


def log_in(page: Any, live_server: Any, user: Any) -> None:
    """Log in through a session made by the test client (second factor given where the project asks for
    one): the pages under test are the point here, not the login form."""
    client = log_in_verified(Client(), user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}])


class Watch:
    """Console messages, page errors and CSP violations of one browser page, per visited URL."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.messages: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", lambda message: self.messages.append(f"console {message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))

    def visit(self, url: str, *, ready: str) -> list[str]:
        """Open `url`, wait for the element `ready`, and return what went wrong there."""
        response = self.page.goto(url)
        assert response is not None and response.status == 200, f"{url} answered {response and response.status}"
        try:
            self.page.wait_for_selector(ready)
            self.page.wait_for_load_state("networkidle")
        except PlaywrightError as exc:
            raise AssertionError(f"{url} did not show {ready}: {self.problems(url)}") from exc
        return self.problems(url)

    def problems(self, where: str) -> list[str]:
        found = [f"{where}: {text}" for text in self.page.evaluate("window.__cspViolations || []")]
        found += [f"{where}: {text}" for text in self.messages]
        found = [text for text in found if not any(expected in text for expected in EXPECTED)]
        self.page.evaluate("window.__cspViolations = []")
        self.messages.clear()
        return found


def pages_of(world: dict[str, Any], role: str) -> list[tuple[str, str]]:
    team: Team = world["team"]
    code = team.contract.code
    bo = world["bo"]
    invoice = world["invoice"]
    workspace = [
        ("/", "main h1"),
        ("/candidates/", "#caseload_results"),
        (f"/candidates/{bo.pk}/", "#placements"),
        ("/status-grid/", "#grid"),
        ("/employers/", "#employer_list"),
        ("/status-uploads/", "form[enctype]"),
    ]
    money = [
        ("/invoices/", "#invoice-table"),
        (f"/invoices/{invoice.number}/", "#lines"),
        ("/dashboard/", "main h1"),
        (f"/dashboard/{code}/", "#dashboard_simulator form"),  # the simulator arrives through htmx
    ]
    docs = [("/api/docs/", ".swagger-ui .info"), ("/api/redoc/", ".api-content")]
    return {
        "consultant": workspace,
        "coordinator": [*workspace, (f"/contracts/{code}/billing/", "main h1"), *money],
        "municipality": [("/", "main h1"), *money],
        "investor": [
            ("/", "main h1"),
            ("/dashboard/", "main h1"),
            (f"/dashboard/{code}/", "#dashboard_simulator form"),
        ],
        "admin": [
            ("/admin/", "#content-main"),
            ("/admin/candidates/candidate/", "#result_list"),
            (f"/admin/candidates/candidate/{bo.pk}/change/", "#content-main form"),
            *docs,
        ],
    }[role]


@pytest.mark.parametrize("role", ["consultant", "coordinator", "municipality", "investor", "admin"])
def test_every_page_of_each_role_runs_under_the_policy_without_a_violation(page, live_server, world, role):
    team: Team = world["team"]
    user = {
        "consultant": team.consultant,
        "coordinator": team.coordinator,
        "municipality": team.municipality_user,
        "investor": team.investor_user,
        "admin": world["admin"],
    }[role]
    log_in(page, live_server, user)
    watch = Watch(page)
    problems: list[str] = []
    for path, ready in pages_of(world, role):
        problems += watch.visit(f"{live_server.url}{path}", ready=ready)
    assert problems == [], "\n".join(problems)


def test_htmx_and_the_language_switch_work_under_the_policy(page, live_server, world):
    team: Team = world["team"]
    anna = world["anna"]
    log_in(page, live_server, team.consultant)
    watch = Watch(page)
    assert watch.visit(f"{live_server.url}/status-grid/", ready="#grid") == []

    # A grid cell saved through htmx (hx-post with the CSRF token from hx-headers / the cell's form).
    key = f"{anna.pk}-{weeks.format_week(this_week())}"
    page.select_option(f"#outcome-{key}", "full")
    page.wait_for_selector(f"#grid_cell-{key}.outcome-full")
    assert WeeklyStatus.objects.get(candidate=anna, week=this_week()).outcome == "full"

    # The caseload search: htmx swaps the results as one types.
    page.goto(f"{live_server.url}/candidates/")
    page.fill("#id_q", "Anna")
    expect(page.locator("#caseload_results tbody tr")).to_have_count(1)

    # The language switch submits on change from static/js/site.js (it had an inline onchange before).
    assert page.get_attribute("html", "lang") == "da"
    page.select_option("#lang-select", "en")
    # (Playwright's string predicates run through eval, which the policy forbids: expect() polls instead.)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert watch.problems("htmx and language") == []
