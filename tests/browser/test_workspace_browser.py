"""The consultant's day in headless Chromium: log in, find a candidate, log a placement, record this week's
status in the grid with the keyboard, correct a settled week with a reason, upload a file with a bad line."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audit.models import AuditEvent
from billing.services.settlement import settle_contract
from candidates import tasks
from candidates.models import WeeklyStatus, WeeklyStatusUpload
from common import weeks
from placements.models import Placement
from tests.browser.conftest import DESKTOP, TABLET, screenshot
from tests.factories import EmployerFactory, JobFactory, PlacementFactory, WeeklyStatusFactory
from tests.otp_helpers import arm_authenticator, pass_two_factor
from tests.workspace_helpers import Team, make_team, this_week, week_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
NAMES = [
    ("C001", "Mette Jensen", "120385-1234"),
    ("C002", "Ali Hassan", "030790-2231"),
    ("C003", "Trine Frederiksen", "241188-1442"),
    ("C004", "Jens Madsen", "050575-3317"),
    ("C005", "Fatima Poulsen", "190992-2048"),
    ("C006", "Niels Iversen", "081169-1123"),
]


@pytest.fixture
def world(settings: Any) -> dict[str, Any]:
    """A programme running around today: six candidates, an own enterprise, statuses, a settled past."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    team = make_team("IMPACT26")
    cafe = EmployerFactory(
        operator=team.operator, name="Café Fokus", sector="restaurant", cvr="38112201", own_enterprise=True
    )
    dishes = JobFactory(employer=cafe, title="Opvasker", kind="small_job", hours_per_week=Decimal("10"))
    JobFactory(employer=cafe, title="Barista", kind="small_job", hours_per_week=Decimal("12"))
    cleaning = EmployerFactory(operator=team.operator, name="Nordjysk Rengøring ApS", sector="cleaning", cvr="38223303")
    service = JobFactory(employer=cleaning, title="Servicemedarbejder", kind="ordinary", hours_per_week=Decimal("32"))
    people = {}
    for number, (ref, name, cpr) in enumerate(NAMES):
        consultant = team.consultant if number < 4 else team.other_consultant
        people[ref] = team.candidate(
            ref, name=name, cpr=cpr, consultant=consultant, referred_on=week_ago(26), enrolled_on=week_ago(25)
        )
    PlacementFactory(candidate=people["C002"], job=dishes, start=week_ago(10), hours_per_week=Decimal("10"))
    PlacementFactory(candidate=people["C003"], job=service, start=week_ago(6), hours_per_week=Decimal("32"))
    PlacementFactory(candidate=people["C004"], job=None, education="FGU Nordjylland", start=week_ago(12))
    outcomes = {"C002": "partial", "C003": "full", "C004": "education", "C005": "none", "C006": "partial"}
    for ref, outcome in outcomes.items():
        for back in range(1, 8):
            WeeklyStatusFactory(
                candidate=people[ref], week=week_ago(back), outcome=outcome, recorded_by=team.consultant
            )
    WeeklyStatusFactory(candidate=people["C001"], week=week_ago(4), outcome="none", recorded_by=team.consultant)
    settle_contract(contract=team.contract, as_of=timezone.now())
    team.contract.refresh_from_db()
    return {"team": team, "people": people, "dishes": dishes}


def log_in(page: Any, live_server: Any, user: Any) -> None:
    arm_authenticator(user.username)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    pass_two_factor(page, user.username)
    page.wait_for_url(f"{live_server.url}/")


def wait_for(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def active_id(page: Any) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_find_a_candidate_and_log_a_placement(page, live_server, world):
    team: Team = world["team"]
    log_in(page, live_server, team.consultant)
    page.click("nav[aria-label] a[href='/candidates/']")
    screenshot(page, "caseload")
    page.fill("#id_q", "Mette")
    expect(page.locator("#caseload_results tbody tr")).to_have_count(1)  # (string predicates are eval: CSP)
    page.click("#caseload_results a:has-text('C001')")
    page.wait_for_selector("h1:has-text('Mette Jensen')")
    assert "120385-XXXX" in page.inner_text("#cpr")

    # A few keystrokes: search the job, arrow down, Enter picks it, Enter logs it (start is today).
    page.focus("#placement_job_search")
    page.keyboard.type("opv")
    page.wait_for_selector("#job_results [role=option]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.input_value("#placement_job_search") == "Opvasker, Café Fokus"
    page.keyboard.press("Enter")
    page.wait_for_selector("#placements .timeline-item:has-text('Opvasker')")
    placement = Placement.objects.get(candidate=world["people"]["C001"])
    assert (placement.job, placement.start, placement.hours_per_week) == (
        world["dishes"],
        timezone.localdate(),
        Decimal("10.00"),
    )

    page.click("#cpr button")
    page.wait_for_selector("#cpr:has-text('120385-1234')")
    assert (
        AuditEvent.objects.filter(
            user=team.consultant, candidate_id=world["people"]["C001"].pk, action=AuditEvent.Action.REVEAL_CPR
        ).count()
        == 1
    )
    screenshot(page, "candidate")


def test_record_this_weeks_status_in_the_grid_with_the_keyboard(page, live_server, world):
    team: Team = world["team"]
    people = world["people"]
    log_in(page, live_server, team.consultant)
    page.goto(f"{live_server.url}/status-grid/")
    now = weeks.format_week(this_week())
    first = f"{people['C001'].pk}-{now}"
    second = f"{people['C002'].pk}-{now}"

    page.focus(f"#outcome-{first}")
    page.keyboard.press("f")  # Fuld / Full: the first letter records it
    page.wait_for_selector(f"#grid_cell-{first}.outcome-full")
    assert WeeklyStatus.objects.get(candidate=people["C001"], week=this_week()).outcome == "full"
    wait_for(lambda: active_id(page) == f"outcome-{first}")  # the keyboard stays in the cell

    page.keyboard.press("ArrowDown")
    assert active_id(page) == f"outcome-{second}"
    assert page.get_attribute(f"#outcome-{second}", "data-suggestion") == "partial"
    page.keyboard.press("Enter")  # take the suggestion from the small job
    page.wait_for_selector(f"#grid_cell-{second}.outcome-partial")
    stored = WeeklyStatus.objects.get(candidate=people["C002"], week=this_week())
    assert (stored.outcome, stored.hours, stored.recorded_by) == ("partial", Decimal("10.00"), team.consultant)

    page.keyboard.press("ArrowLeft")  # last week, already recorded
    previous = f"{people['C002'].pk}-{weeks.format_week(week_ago(1))}"
    assert active_id(page) == f"outcome-{previous}"
    screenshot(page, "grid")


def test_correct_a_settled_week_with_a_reason(page, live_server, world):
    team: Team = world["team"]
    candidate = world["people"]["C001"]
    settled = week_ago(4)
    assert team.contract.is_week_settled(settled)
    log_in(page, live_server, team.consultant)
    page.goto(f"{live_server.url}/status-grid/")
    key = f"{candidate.pk}-{weeks.format_week(settled)}"

    page.focus(f"#outcome-{key}")
    page.keyboard.press("2")  # the second outcome: partial
    page.wait_for_selector(f"#note-{key}")
    assert active_id(page) == f"note-{key}"  # the reason is asked for where the change was made
    assert WeeklyStatus.objects.get(candidate=candidate, week=settled).outcome == "none"
    screenshot(page, "grid-correction")
    page.keyboard.type("Lønsedlen kom for sent")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#grid_cell-{key}.outcome-partial")
    stored = WeeklyStatus.objects.get(candidate=candidate, week=settled)
    assert (stored.outcome, stored.note) == ("partial", "Lønsedlen kom for sent")
    assert stored.history.latest().history_change_reason == "Lønsedlen kom for sent"

    page.goto(f"{live_server.url}/candidates/{candidate.pk}/history/")
    assert "Lønsedlen kom for sent" in page.inner_text("main")
    screenshot(page, "candidate-history")


def test_upload_a_file_with_a_bad_line_and_see_the_error(page, live_server, world, monkeypatch):
    team: Team = world["team"]
    # Nothing consumes the queue here: the test plays the worker, so the page is seen polling first.
    monkeypatch.setattr(tasks.process_weekly_status_upload, "delay_on_commit", lambda upload_id: None)
    log_in(page, live_server, team.consultant)
    page.goto(f"{live_server.url}/status-uploads/")
    now = weeks.format_week(this_week())
    content = f"candidate;week;outcome;hours\nC001;{now};partial;8\nC404;{now};full;\nC002;{now};sometimes;\n"
    page.set_input_files("#id_file", files=[{"name": "uge.csv", "mimeType": "text/csv", "buffer": content.encode()}])
    screenshot(page, "upload")
    page.click("main button[type=submit]")
    page.wait_for_selector("#upload_progress progress")
    upload = WeeklyStatusUpload.objects.get()
    assert upload.state == "queued"
    screenshot(page, "upload-queued")

    tasks.process_weekly_status_upload(upload.pk)
    page.wait_for_selector(".errors-table")  # arrives through the htmx poll, without a reload
    rows = page.locator(".errors-table tbody tr")
    assert rows.count() == 2
    assert "3" in rows.nth(0).locator("td.where").inner_text() and "C404" in rows.nth(0).inner_text()
    assert "4" in rows.nth(1).locator("td.where").inner_text() and "sometimes" in rows.nth(1).inner_text()
    assert not WeeklyStatus.objects.filter(week=this_week()).exists()
    screenshot(page, "upload-errors")


PAGES = [
    ("caseload", "/candidates/?consultant="),
    ("candidate", "/candidates/{C002}/"),
    ("candidate-history", "/candidates/{C002}/history/"),
    ("grid", "/status-grid/?consultant="),
    ("upload", "/status-uploads/"),
    ("employers", "/employers/"),
    ("employer", "/employers/{employer}/"),
]


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_every_page_at_desktop_and_tablet_width(page, live_server, world, viewport):
    team: Team = world["team"]
    page.set_viewport_size(viewport)
    log_in(page, live_server, team.coordinator)
    ids = {"C002": world["people"]["C002"].pk, "employer": world["dishes"].employer_id}
    for name, path in PAGES:
        response = page.goto(live_server.url + path.format(**ids))
        assert response.status == 200, path
        screenshot(page, name)
        # Nothing sticks out sideways except the grid, which scrolls inside its own box.
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} is {overflow}px too wide at {viewport['width']}px"
        labelled = page.evaluate(
            """() => [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')]
                 .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)"""
        )
        assert labelled == [], f"inputs without a label on {path}: {labelled}"


def test_focus_is_visible_and_follows_the_page_order(page, live_server, world):
    team: Team = world["team"]
    log_in(page, live_server, team.consultant)
    page.goto(f"{live_server.url}/candidates/{world['people']['C001'].pk}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    order: list[str] = []
    for _ in range(16):
        page.keyboard.press("Tab")
        here = page.evaluate(
            "document.activeElement.id || document.activeElement.name || document.activeElement.tagName"
        )
        if not order or order[-1] != here:
            order.append(here)
        if page.evaluate("document.activeElement.type") == "date":
            continue  # Tab walks day, month, year and the picker inside it; Chromium draws that focus itself
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", f"no visible focus on {here}"
    # The placement form comes first, in reading order: kind, job, start, end, hours, then the button.
    assert (
        order.index("placement_job_search") < order.index("placement_start") < order.index("placement_hours_per_week")
    )
