"""Start-up checks: settings from the environment, production refusals, health check, login, JSON logs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

REPO_ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


def read_settings_variables() -> frozenset[str]:
    """The environment variables config/settings.py reads, found in its source."""
    source = (REPO_ROOT / "config" / "settings.py").read_text()
    pattern = r"""(?:env_bool|env_list|os\.environ\.get|os\.environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']"""
    return frozenset(re.findall(pattern, source))


# Each subprocess starts from none of these and sets only what it tests.
SETTINGS_VARIABLES = read_settings_variables()

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k7Qz-production-test-secret-3vX9pL2mN8rT5wY1bC4dF6gH0jK-aS",
    "DJANGO_ALLOWED_HOSTS": "sib.example.dk",
    "CPR_ENCRYPTION_KEYS": "LadJ7oBsFF_TaX2Ds-4BPVOwEENARpLegLOsTYLXQ1Y=",
    "CPR_HASH_KEY": "a-long-random-hash-key-for-the-tests-only",
}


# Set by the browser tests' session fixture for Playwright's event loop; never part of a real environment.
TEST_ONLY_VARIABLES = {"DJANGO_ALLOW_ASYNC_UNSAFE"}


def run_python(code: str, *, env: dict[str, str], var_dir: Path) -> subprocess.CompletedProcess[str]:
    """Runs `code` in a fresh interpreter with exactly the settings variables in `env`."""
    full_env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES | TEST_ONLY_VARIABLES}
    full_env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_VAR_DIR": str(var_dir)})
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


SETUP = "import django; django.setup(); from django.conf import settings\n"


# --- settings ---------------------------------------------------------------------------------------


def test_production_mode_refuses_to_start_without_secret_key_and_allowed_hosts(tmp_path: Path) -> None:
    result = run_python(SETUP, env={"DJANGO_DEBUG": "0"}, var_dir=tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_production_mode_refuses_to_start_without_cpr_keys(tmp_path: Path) -> None:
    env = {key: value for key, value in PRODUCTION.items() if not key.startswith("CPR_")}

    result = run_python(SETUP, env=env, var_dir=tmp_path)

    assert result.returncode != 0
    assert "CPR_ENCRYPTION_KEYS" in result.stderr
    assert "CPR_HASH_KEY" in result.stderr


def test_production_mode_starts_with_the_required_variables(tmp_path: Path) -> None:
    result = run_python(SETUP + "print(settings.DEBUG, settings.ALLOWED_HOSTS)", env=PRODUCTION, var_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['sib.example.dk']"


def test_check_deploy_is_clean_in_production_mode(tmp_path: Path) -> None:
    full_env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES | TEST_ONLY_VARIABLES}
    full_env.update(PRODUCTION, DJANGO_VAR_DIR=str(tmp_path))

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output


def test_without_database_url_the_database_is_sqlite_under_the_var_dir(tmp_path: Path) -> None:
    code = SETUP + "db = settings.DATABASES['default']; print(db['ENGINE']); print(db['NAME'])"

    result = run_python(code, env={}, var_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    engine, name = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert Path(name) == tmp_path.resolve() / "db.sqlite3"


def test_database_url_switches_to_postgresql(tmp_path: Path) -> None:
    code = SETUP + "db = settings.DATABASES['default']; print(db['ENGINE'], db['NAME'], db['HOST'])"

    result = run_python(code, env={"DATABASE_URL": "postgres://sib:secret@db.internal:5432/sib"}, var_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "sib", "db.internal"]


def test_without_redis_url_celery_uses_the_filesystem_broker_and_its_folders_exist(tmp_path: Path) -> None:
    code = SETUP + (
        "from config.celery import app\n"
        "print(app.conf.broker_url)\n"
        "print(app.conf.broker_transport_options['data_folder_in'])\n"
        "print(app.conf.result_backend)\n"
    )

    result = run_python(code, env={}, var_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    broker_url, data_folder, result_backend = result.stdout.split()
    assert broker_url == "filesystem://"
    assert Path(data_folder) == tmp_path.resolve() / "celery" / "broker"
    assert Path(data_folder).is_dir()
    assert (tmp_path / "celery" / "results").is_dir()
    assert result_backend == f"file://{tmp_path.resolve() / 'celery' / 'results'}"


def test_redis_url_switches_celery_to_redis(tmp_path: Path) -> None:
    code = SETUP + "from config.celery import app\nprint(app.conf.broker_url)"

    result = run_python(code, env={"REDIS_URL": "redis://cache.internal:6379/2"}, var_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "redis://cache.internal:6379/2"
    assert not (tmp_path / "celery").exists()


def test_language_and_time_zone() -> None:
    assert settings.TIME_ZONE == "Europe/Copenhagen"
    assert settings.LANGUAGE_CODE == "da"
    assert {code for code, _name in settings.LANGUAGES} >= {"da", "en"}
    assert settings.USE_TZ is True


def test_nightly_settlement_is_scheduled_at_half_past_two_copenhagen_time() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["settle-all-contracts-nightly"]

    assert entry["task"] == "billing.tasks.settle_all_contracts"
    assert entry["schedule"].hour == {2}
    assert entry["schedule"].minute == {30}
    assert settings.CELERY_TIMEZONE == "Europe/Copenhagen"


# --- health check -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"database": True, "broker": True, "ok": True}


@pytest.mark.django_db
def test_healthz_answers_503_when_the_broker_is_unreachable(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from config.celery import app

    # Port 1 on the loopback interface: nothing listens there, so the connection is refused at once.
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.conf, "broker_write_url", None)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": True, "broker": False, "ok": False}


# --- pages and login --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_home_redirects_an_anonymous_visitor_to_the_login_page(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"
    assert reverse("login") == "/login/"


@pytest.mark.django_db
def test_login_page_renders(client: Client) -> None:
    response = client.get("/login/")

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="username"' in content
    assert 'name="password"' in content
    assert "csrfmiddlewaretoken" in content


@pytest.mark.django_db
def test_a_user_logs_in_and_out(client: Client) -> None:
    user = UserFactory(username="konsulent")

    wrong = client.post("/login/", {"username": "konsulent", "password": "not the password"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session

    response = client.post("/login/", {"username": "konsulent", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/").status_code == 200

    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


# --- logging ----------------------------------------------------------------------------------------


def test_production_logs_are_one_json_object_per_line(tmp_path: Path) -> None:
    code = SETUP + (
        "import logging\n"
        "log = logging.getLogger('sib.startup')\n"
        "log.info('first line', extra={'contract': 'IMPACT60'})\n"
        "log.warning('second line with \"quotes\"\\nand a newline')\n"
    )

    result = run_python(code, env=PRODUCTION, var_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    assert records[0]["message"] == "first line"
    assert records[0]["level"] == "INFO"
    assert records[0]["logger"] == "sib.startup"
    assert records[0]["contract"] == "IMPACT60"
    assert "time" in records[0]
    assert records[1]["message"] == 'second line with "quotes"\nand a newline'
    assert records[1]["level"] == "WARNING"


def test_development_logs_are_plain_text(tmp_path: Path) -> None:
    code = SETUP + "import logging\nlogging.getLogger('sib.startup').info('plain line')\n"

    result = run_python(code, env={}, var_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "INFO sib.startup: plain line" in result.stderr
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stderr.strip().splitlines()[-1])


# --- documentation ----------------------------------------------------------------------------------


def test_every_settings_variable_is_documented() -> None:
    variables = SETTINGS_VARIABLES
    env_example = (REPO_ROOT / ".env.example").read_text()
    readme = (REPO_ROOT / "README.md").read_text()

    assert {"DJANGO_DEBUG", "DATABASE_URL", "REDIS_URL", "CPR_HASH_KEY"} <= variables
    assert sorted(name for name in variables if not re.search(rf"^#? ?{name}=", env_example, re.MULTILINE)) == []
    assert sorted(name for name in variables if f"`{name}`" not in readme) == []
