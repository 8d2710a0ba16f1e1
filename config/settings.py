"""Django settings: everything comes from environment variables, with safe defaults for development.

No variable is needed to run: without DATABASE_URL the app uses SQLite under var/, without REDIS_URL
Celery uses kombu's filesystem transport under var/. Production mode (DJANGO_DEBUG=0) refuses to start
without DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and the CPR keys.
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DJANGO_VAR_DIR", str(BASE_DIR / "var"))).resolve()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

if DEBUG:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "dev-only-insecure-secret-key-change-me"
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS") or ["127.0.0.1", "localhost", "[::1]", "testserver"]
else:
    _missing = [name for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS") if not os.environ.get(name)]
    if _missing:
        raise ImproperlyConfigured(
            "Production mode (DJANGO_DEBUG off) needs these environment variables: " + ", ".join(_missing)
        )
    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# --- personal data keys -------------------------------------------------------------------------
# CPR numbers are encrypted with Fernet (the first key encrypts, all keys decrypt, for rotation) and
# found through an HMAC-SHA256 of the number under CPR_HASH_KEY.


def _dev_key(label: str) -> str:
    digest = hashlib.sha256(f"{SECRET_KEY}:{label}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


CPR_ENCRYPTION_KEYS = env_list("CPR_ENCRYPTION_KEYS")
CPR_HASH_KEY = os.environ.get("CPR_HASH_KEY", "")
if not DEBUG and (not CPR_ENCRYPTION_KEYS or not CPR_HASH_KEY):
    raise ImproperlyConfigured("Production mode needs CPR_ENCRYPTION_KEYS and CPR_HASH_KEY.")
CPR_ENCRYPTION_KEYS = CPR_ENCRYPTION_KEYS or [_dev_key("cpr-encryption")]
CPR_HASH_KEY = CPR_HASH_KEY or _dev_key("cpr-hash")
# Years after the end of the financial year in which a contract's payment period ended before its candidates
# are pseudonymised (the bookkeeping law keeps the books five years): candidates/personal_data.py.
SIB_RETENTION_YEARS = int(os.environ.get("SIB_RETENTION_YEARS", "5"))

# --- applications ---------------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "common",
    "accounts",
    "organisations",
    "candidates",
    "placements",
    "billing",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Login hardening (accounts/): idle and absolute session timeout, then the second factor.
    "accounts.middleware.SessionTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Turns a login that django-axes locked into the lockout page (accounts.views.lockout).
    "axes.middleware.AxesMiddleware",
    "audit.context.AuditContextMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "organisations.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.navigation.navigation",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------

VAR_DIR.mkdir(parents=True, exist_ok=True)
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                # BEGIN IMMEDIATE takes the write lock at the start of every transaction, so two
                # settlement runs serialise instead of failing half-way with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2 hashes new passwords; a password stored under another hasher is re-hashed at its next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# django-axes first: it refuses a locked login before the password is checked (AxesBackend is also a
# ModelBackend, so `Client.force_login` and session users keep working through it).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout after AXES_FAILURE_LIMIT wrong passwords for one username from one address, for
# AXES_COOLOFF_MINUTES; a successful login or a password reset clears the count.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
# Second factor (TOTP, accounts/): the name authenticator apps show for the account.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "SIB")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- language and time ----------------------------------------------------------------------------

LANGUAGE_CODE = "da"
LANGUAGES = [("da", _("Danish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True

# --- static files (served by the app through WhiteNoise: no CDN) -----------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files browsers ask for at the site's root (/favicon.ico), served by WhiteNoise from static/root/.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Celery ---------------------------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    _broker_dir = VAR_DIR / "celery" / "broker"
    _results_dir = VAR_DIR / "celery" / "results"
    _control_dir = VAR_DIR / "celery" / "control"
    for _folder in (_broker_dir, _results_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "store_processed": False,
        # Broadcast/control messages (e.g. `celery inspect`); kombu would otherwise use ./control.
        "control_folder": str(_control_dir),
    }
    CELERY_RESULT_BACKEND = f"file://{_results_dir}"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Workers and beat log through LOGGING below (JSON lines in production), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # B6: weeks close on Monday + grace days; the nightly run settles every closed week, in order.
    "settle-all-contracts-nightly": {
        "task": "billing.tasks.settle_all_contracts",
        "schedule": crontab(hour=2, minute=30),
    },
    # Retention: the candidates of contracts past SIB_RETENTION_YEARS are pseudonymised, first of the month.
    "pseudonymise-candidates-monthly": {
        "task": "candidates.tasks.pseudonymise_candidates_past_retention",
        "schedule": crontab(day_of_month=1, hour=3, minute=30),
    },
}

# --- REST framework -------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a client without valid credentials gets 401 with `WWW-Authenticate: Token`.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Domain errors (django ValidationError with a code) become 400s with the same message shape.
    "EXCEPTION_HANDLER": "billing.api.exception_handler",
}
# OpenAPI 3 at /api/schema/; Swagger UI and Redoc at /api/docs/ and /api/redoc/ from the sidecar (no CDN).
SPECTACULAR_SETTINGS = {
    "TITLE": "SIB outcome contracts API",
    "DESCRIPTION": "Contracts, invoices and credit notes (JSON, PDF, CSV, XLSX, OIOUBL 2.1), weekly status, "
    "candidates and the investor ledger, scoped to the caller exactly as the pages are.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"OutcomeEnum": "candidates.models.Outcome"},
}

# --- uploads --------------------------------------------------------------------------------------
# An uploaded file (weekly statuses) or an API request body is at most SIB_UPLOAD_MAX_BYTES; files are
# kept in memory up to that and no further (common.uploads.SizeLimitedUploadHandler); a CSV has at most
# SIB_UPLOAD_MAX_ROWS lines, an XLSX unpacks to at most SIB_XLSX_MAX_UNCOMPRESSED_BYTES.

SIB_UPLOAD_MAX_BYTES = int(os.environ.get("SIB_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
SIB_UPLOAD_MAX_ROWS = int(os.environ.get("SIB_UPLOAD_MAX_ROWS", "100000"))
SIB_XLSX_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("SIB_XLSX_MAX_UNCOMPRESSED_BYTES", str(100 * 1024 * 1024)))
FILE_UPLOAD_HANDLERS = ["common.uploads.SizeLimitedUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = SIB_UPLOAD_MAX_BYTES
DATA_UPLOAD_MAX_MEMORY_SIZE = SIB_UPLOAD_MAX_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# --- mail -----------------------------------------------------------------------------------------

EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "faktura@localhost")

# --- security (production) ------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
# A login lasts at most SESSION_COOKIE_AGE and ends after SESSION_IDLE_TIMEOUT without a request
# (accounts.middleware.SessionTimeoutMiddleware).
SESSION_COOKIE_AGE = int(os.environ.get("DJANGO_SESSION_COOKIE_AGE", str(60 * 60 * 8)))
SESSION_IDLE_TIMEOUT = int(os.environ.get("DJANGO_SESSION_IDLE_TIMEOUT", str(30 * 60)))
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline script or style anywhere: scripts and styles come from static/ (and the packages' static
# files); htmx's indicator styles are in app.css (htmx-config in base.html). One page adds to it: Redoc
# at /api/redoc/ (config/api_urls.REDOC_POLICY: its <style> elements by nonce, its search worker).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- logging: one JSON object per line in production ----------------------------------------------

LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "text" if DEBUG and not env_bool("DJANGO_LOG_JSON", False) else "json",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes: failed logins and lockouts are warnings; its start-up banner and per-attempt notes are not.
        "axes": {"level": "WARNING"},
    },
}
