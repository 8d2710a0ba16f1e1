"""Hardening: security headers and cookies in production, the Content-Security-Policy on every page, no inline
script or style in any template, CSRF on every form and htmx request."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.services.settlement import settle_contract
from common import weeks
from tests.factories import UserFactory, WeeklyStatusFactory
from tests.portal_helpers import build_programme, member
from tests.security_helpers import log_in_verified
from tests.test_startup import PRODUCTION, SETUP, run_python
from tests.workspace_helpers import make_team, this_week, week_ago

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [REPO_ROOT / "templates", *sorted(REPO_ROOT.glob("*/templates"))]
TEMPLATES = sorted(path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html"))
# Python that writes HTML (the status grid's cells) is held to the same rules as the templates.
HTML_WRITERS = sorted(REPO_ROOT.glob("*/templatetags/*.py"))
PROJECT_PYTHON = sorted(
    path
    for path in REPO_ROOT.rglob("*.py")
    if not {".venv", "var", "tests", "migrations", "node_modules"} & set(path.relative_to(REPO_ROOT).parts)
)


def relative(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


# --- production headers and cookies -----------------------------------------------------------------------


def test_production_responses_carry_the_security_headers_and_cookies_are_secure(tmp_path: Path) -> None:
    code = (
        SETUP
        + """
import json
from django.test import Client
secure = Client().get("/healthz", secure=True, HTTP_HOST="sib.example.dk")
plain = Client().get("/login/", HTTP_HOST="sib.example.dk")
print(json.dumps({
    "headers": dict(secure.headers),
    "redirect": [plain.status_code, plain.headers.get("Location")],
    "cookies": {
        name: getattr(settings, name)
        for name in (
            "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
            "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE",
        )
    },
}))
"""
    )
    result = run_python(code, env=PRODUCTION, var_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])

    headers = found["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert_strict_policy(headers["Content-Security-Policy"])
    assert found["redirect"] == [301, "https://sib.example.dk/login/"]
    assert found["cookies"] == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
    }


def policy_of(header: str) -> dict[str, list[str]]:
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: values for name, *values in directives}


def assert_strict_policy(header: str) -> None:
    policy = policy_of(header)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header


@pytest.mark.django_db
def test_login_cookies_are_http_only_and_same_site_lax(client: Client, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = UserFactory(username="karin")
    client.get(reverse("login"))
    csrf = client.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["samesite"] == "Lax"

    response = client.post(reverse("login"), {"username": "karin", "password": "correct horse battery staple"})
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert (session["httponly"], session["samesite"]) == (True, "Lax")
    assert user.pk


# --- the Content-Security-Policy on every page --------------------------------------------------------------


@pytest.fixture
def team() -> Any:
    team = make_team("SEC1")
    candidate = team.candidate("C001", referred_on=week_ago(12), enrolled_on=week_ago(11))
    for back in range(2, 6):
        WeeklyStatusFactory(candidate=candidate, week=week_ago(back), outcome="full", recorded_by=team.consultant)
    settle_contract(contract=team.contract, as_of=timezone.now())
    team.users["candidate"] = candidate
    return team


@pytest.mark.django_db
def test_every_html_page_carries_the_strict_policy(client: Client, team: Any) -> None:
    candidate = team.users["candidate"]
    document = team.contract.documents.order_by("-seq").first()
    assert document is not None
    pages = {
        "anonymous": [reverse("login")],
        "consultant": [
            "/",
            reverse("candidates:caseload"),
            reverse("candidates:detail", args=[candidate.pk]),
            reverse("candidates:grid"),
            reverse("candidates:upload"),
            reverse("placements:employers"),
        ],
        "coordinator": [
            reverse("billing:contract_billing", args=[team.contract.code]),
            reverse("billing:invoice_list"),
            reverse("billing:invoice_detail", args=[document.number]),
            reverse("dashboard:index"),
            reverse("dashboard:contract", args=[team.contract.code]),
            reverse("dashboard:simulator", args=[team.contract.code]),
            reverse("api:docs"),
        ],
        "admin": [reverse("admin:index"), reverse("admin:candidates_candidate_changelist")],
    }
    users = {
        "consultant": team.consultant,
        "coordinator": team.coordinator,
        "admin": UserFactory(is_staff=True, is_superuser=True),
    }
    checked = 0
    for role, urls in pages.items():
        browser = log_in_verified(Client(), users[role]) if role in users else Client()
        for url in urls:
            response = browser.get(url)
            assert response.status_code == 200, (role, url, response.status_code)
            assert response["Content-Type"].startswith("text/html"), url
            assert_strict_policy(response["Content-Security-Policy"])
            checked += 1
    # A page that is not found is HTML too.
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert_strict_policy(response["Content-Security-Policy"])
    assert checked == 16


@pytest.mark.django_db
def test_redoc_alone_may_add_nonced_styles_and_a_blob_worker(client: Client) -> None:
    log_in_verified(client, UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("api:redoc"))
    assert response.status_code == 200
    policy = policy_of(response["Content-Security-Policy"])
    nonce = re.search(r'data-style-nonce="([^"]+)"', response.content.decode())
    assert nonce is not None
    assert policy["style-src"][:2] == ["'self'", f"'nonce-{nonce.group(1)}'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["worker-src"] == ["'self'", "blob:"]
    # Swagger UI's start script is a file of its own (the split view), not inline.
    swagger = client.get(reverse("api:docs")).content.decode()
    assert re.search(r'<script src="/api/docs/\?script="', swagger)
    assert client.get(reverse("api:docs") + "?script=")["Content-Type"].startswith("application/javascript")


# --- no inline script or style in the templates -------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"javascript:", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*["'{]""", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
HTMX_SCRIPTING = re.compile(r"\bhx-on[:-]|\bjs:|\bhx-vars=", re.IGNORECASE)


TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.DOTALL)


def markup_lines(path: Path) -> list[str]:
    """The file's lines without Django template comments (which never reach the browser), numbers kept."""
    text = TEMPLATE_COMMENT.sub(lambda match: "\n" * match.group(0).count("\n"), path.read_text())
    return text.splitlines()


def test_the_scan_finds_the_templates() -> None:
    assert len(TEMPLATES) > 30
    assert REPO_ROOT / "templates" / "base.html" in TEMPLATES


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("inline <script>", INLINE_SCRIPT),
        ("inline event handler", EVENT_HANDLER),
        ("javascript: URL", JAVASCRIPT_URL),
        ("style attribute", STYLE_ATTRIBUTE),
        ("<style> element", STYLE_ELEMENT),
        ("htmx scripting (hx-on, js:, hx-vars)", HTMX_SCRIPTING),
    ],
)
def test_no_template_holds_inline_script_or_style(name: str, pattern: re.Pattern[str]) -> None:
    found = [
        f"{relative(path)}:{number}: {line.strip()}"
        for path in [*TEMPLATES, *HTML_WRITERS]
        for number, line in enumerate(markup_lines(path), start=1)
        if pattern.search(line)
    ]
    assert found == [], f"{name} found (the Content-Security-Policy refuses it; use static/js or static/css)"


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<select onchange="this.form.submit()">',
        '<a href="javascript:void(0)">',
        '<div style="color:red">',
        "<style>p{}</style>",
        '<button hx-on:click="go()">',
    ],
)
def test_the_scan_patterns_catch_what_they_are_for(html: str) -> None:
    patterns = [INLINE_SCRIPT, EVENT_HANDLER, JAVASCRIPT_URL, STYLE_ATTRIBUTE, STYLE_ELEMENT, HTMX_SCRIPTING]
    assert any(pattern.search(html) for pattern in patterns)
    assert TEMPLATE_COMMENT.sub("", "{# " + html + " #}") == ""
    assert not any(pattern.search('<script src="/static/js/site.js" defer></script>') for pattern in patterns)


# --- CSRF on every form and htmx request ------------------------------------------------------------------

POST_FORM = re.compile(r"<form\b[^>]*\bmethod=[\"']post[\"'][^>]*>(.*?)</form>", re.IGNORECASE | re.DOTALL)


def test_every_post_form_in_the_templates_has_a_csrf_token() -> None:
    forms = [(path, body) for path in TEMPLATES for body in POST_FORM.findall("\n".join(markup_lines(path)))]
    assert len(forms) > 15
    missing = [relative(path) for path, body in forms if "{% csrf_token %}" not in body]
    assert missing == []


def test_htmx_requests_carry_the_csrf_token_from_the_body() -> None:
    base = (REPO_ROOT / "templates" / "base.html").read_text()
    body = re.search(r"<body\b[^>]*>", base)
    assert body is not None
    assert """hx-headers='{"X-CSRFToken": "{{ csrf_token }}"}'""" in body.group(0)
    assert settings.CSRF_HEADER_NAME == "HTTP_X_CSRFTOKEN"


def test_no_view_is_exempt_from_csrf() -> None:
    found = [relative(path) for path in PROJECT_PYTHON if "csrf_exempt" in path.read_text()]
    assert len(PROJECT_PYTHON) > 50
    assert found == []
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE


@pytest.mark.django_db
def test_a_grid_cell_save_without_the_csrf_token_is_refused(team: Any) -> None:
    candidate = team.users["candidate"]
    url = reverse("candidates:grid_cell", args=[candidate.pk, weeks.format_week(this_week())])
    browser = log_in_verified(Client(enforce_csrf_checks=True), team.consultant)

    refused = browser.post(url, {"outcome": "full"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    assert not candidate.weekly_statuses.filter(week=this_week()).exists()

    browser.get(reverse("candidates:grid"))  # sets the CSRF cookie, as the page does for htmx
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    accepted = browser.post(url, {"outcome": "full"}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200
    assert candidate.weekly_statuses.get(week=this_week()).outcome == "full"


@pytest.mark.django_db
def test_a_payment_without_the_csrf_token_is_refused_in_the_page_and_the_api() -> None:
    programme = build_programme()
    clerk = member("municipality", programme.municipality, username="clerk")
    browser = log_in_verified(Client(enforce_csrf_checks=True), clerk)
    payment = {"amount": "10", "paid_on": "2020-02-01"}

    page = browser.post(reverse("billing:invoice_pay", args=["IMPACT-P-00001"]), payment)
    assert page.status_code == 403
    # The API with the browser's session is held to CSRF as well (a token client is not: no cookie to abuse).
    api = browser.post(
        reverse("api:invoice_payment", args=["IMPACT-P-00001"]), payment, content_type="application/json"
    )
    assert api.status_code == 403
    assert "CSRF" in api.json()["detail"]
    from billing.models import Payment

    assert not Payment.objects.exists()
