"""Settings for WealthScore, all driven by the environment (CONTRACT.md, Environment).

Nothing configured: SQLite under var/ and Celery tasks run in-process, so `make demo` needs no
services. DATABASE_URL / REDIS_URL switch to PostgreSQL and a real Celery worker on Redis.
DJANGO_DEBUG=0 is production: it refuses to start without DJANGO_SECRET_KEY and turns on
every transport-security setting that `manage.py check --deploy` asks for.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WEALTHSCORE_VAR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (production)."
        )
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = "dev-only-not-secret-wealthscore-key-change-me-0123456789"

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "wealthscore",
    "targets",
    "crm",
    "scorecards",
    "compliance",
    # After axes: its receivers (the failure count) run before the sign-in audit's.
    "wealthscore.signin.apps.SigninConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "wealthscore.middleware.SecurityHeaders",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "wealthscore.middleware.RefuseNulInQuery",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wealthscore.urls"
WSGI_APPLICATION = "wealthscore.wsgi.application"
ASGI_APPLICATION = "wealthscore.asgi.application"

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
                "targets.org.context_processors.role",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'wealthscore.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several users and the in-process tasks share one file: wait for the lock, don't fail.
    # WAL: the pages read while a background recompute writes (the demo, issue 17).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "targets.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in (issue 14). django-axes first: it refuses a locked-out username or address before
# any password is checked. LDAP/AD only when configured (the `ldap` extra installs it).
AUTHENTICATION_BACKENDS = [
    "wealthscore.signin.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failures counted per username and, separately, per address: either reaching the limit
# locks signing in (page, token endpoint, admin site) for the lockout time.
AXES_FAILURE_LIMIT = int(os.environ.get("WEALTHSCORE_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("WEALTHSCORE_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Successful logins are in our audit log (wealthscore.signin): no second copy in axes' table.
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_CALLABLE = "wealthscore.signin.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Behind a proxy, the number of proxies in front of Django (their X-Forwarded-For entries are
# trusted); unset, only REMOTE_ADDR counts, so a client cannot choose its own address.
if os.environ.get("WEALTHSCORE_TRUSTED_PROXY_COUNT"):
    AXES_IPWARE_PROXY_COUNT = int(os.environ["WEALTHSCORE_TRUSTED_PROXY_COUNT"])
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
# API tokens (django-rest-knox): stored hashed, expire, revoked on logout and password change.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=float(os.environ.get("WEALTHSCORE_TOKEN_HOURS", "10"))),
    "AUTH_HEADER_PREFIX": "Token",
}
WEALTHSCORE_LDAP_URI = os.environ.get("WEALTHSCORE_LDAP_URI", "")
WEALTHSCORE_LDAP_EMPLOYEE_ATTR = os.environ.get("WEALTHSCORE_LDAP_EMPLOYEE_ATTR", "employeeID")
WEALTHSCORE_LDAP_USER_SEARCH_BASE = os.environ.get("WEALTHSCORE_LDAP_USER_SEARCH_BASE", "")
WEALTHSCORE_LDAP_USER_SEARCH_FILTER = os.environ.get(
    "WEALTHSCORE_LDAP_USER_SEARCH_FILTER", "(sAMAccountName=%(user)s)"
)
if WEALTHSCORE_LDAP_URI:
    AUTHENTICATION_BACKENDS.append("wealthscore.signin.ldap_backend.StaffLDAPBackend")
    AUTH_LDAP_SERVER_URI = WEALTHSCORE_LDAP_URI
    AUTH_LDAP_BIND_DN = os.environ.get("WEALTHSCORE_LDAP_BIND_DN", "")
    AUTH_LDAP_BIND_PASSWORD = os.environ.get("WEALTHSCORE_LDAP_BIND_PASSWORD", "")
    AUTH_LDAP_USER_DN_TEMPLATE = os.environ.get("WEALTHSCORE_LDAP_USER_DN_TEMPLATE") or None
    AUTH_LDAP_START_TLS = env_bool("WEALTHSCORE_LDAP_START_TLS", True)
    # Names only: no AUTH_LDAP_USER_FLAGS_BY_GROUP, no mirrored groups, ever.
    AUTH_LDAP_USER_ATTR_MAP = {"first_name": "givenName", "last_name": "sn", "email": "mail"}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Both from the environment so that an image can keep its collected files (built in) apart
# from the shared volumes (/data/media), and CI can collect into a fresh folder.
STATIC_ROOT = Path(os.environ.get("WEALTHSCORE_STATIC_ROOT", VAR_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploaded import files (MEDIA_ROOT/imports/, written by the web app, read by the worker) and
# incident evidence (MEDIA_ROOT/evidence/): one volume shared by web and worker.
MEDIA_ROOT = Path(os.environ.get("WEALTHSCORE_MEDIA_ROOT", VAR_DIR / "media"))
WEALTHSCORE_INBOX = Path(os.environ.get("WEALTHSCORE_INBOX", VAR_DIR / "inbox"))

# Idle sessions end after 30 minutes: every request pushes the expiry forward.
SESSION_COOKIE_AGE = int(os.environ.get("WEALTHSCORE_SESSION_IDLE_SECONDS", "1800"))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Security headers (wealthscore.middleware.SecurityHeaders), in development as in production
# so that a page that breaks the policy breaks on a developer's machine first. This origin
# only; no inline script and no inline style (pages keep theirs in static/; inline styles
# would let injected markup restyle or exfiltrate by CSS). data: images: ECharts' and
# Swagger UI's icons.
WEALTHSCORE_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Browser features no page of the app uses: denied to the page and to anything it embeds.
WEALTHSCORE_PERMISSIONS_DENIED = [
    "accelerometer", "camera", "display-capture", "geolocation", "gyroscope",
    "hid", "magnetometer", "microphone", "midi", "payment", "serial", "usb",
    "xr-spatial-tracking",
]  # fmt: skip

if not DEBUG:
    # Off only for plain-HTTP loopback load tests (bench/bench_pages.py): never in production.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # The load balancer's probe and the container healthcheck speak plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so that an anonymous request gets 401 with WWW-Authenticate, not 403.
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Bodies are JSON: the schema then offers one request format per operation, which is what
    # generated clients need (three formats made openapi-python-client send all three). The
    # views that receive a file (imports, incident evidence) take multipart themselves.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "wealthscore.kernel.pagination.Pagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "wealthscore.kernel.errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    # The token endpoint, per address, beside axes' lockout (which counts failures only).
    "DEFAULT_THROTTLE_RATES": {"sign-in": os.environ.get("WEALTHSCORE_SIGN_IN_RATE", "20/min")},
    # The client address is REMOTE_ADDR unless proxies are declared: never a client's header.
    "NUM_PROXIES": int(os.environ.get("WEALTHSCORE_TRUSTED_PROXY_COUNT") or 0),
}

# Per-process memory cache: page fragments keyed by the score runs they show (the team
# board), so a new run is a new key and nothing needs invalidating across processes.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
}

SPECTACULAR_SETTINGS = {
    "TITLE": "WealthScore API",
    "DESCRIPTION": "Performance scorecards of a bank's relationship managers.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "compliance.models.IncidentStatus",
        "PeriodStatusEnum": "scorecards.models.PeriodStatus",
        "RunStatusEnum": "scorecards.models.RunStatus",
    },
    # The error envelope on every operation (wealthscore/schema.py), after the enum hook.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "wealthscore.schema.document_errors",
    ],
}

# Celery: a real broker when REDIS_URL is set, otherwise tasks run eagerly in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Tests give their worker its own queue so that a stray worker never takes their tasks.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("WEALTHSCORE_CELERY_QUEUE", "wealthscore")
CELERY_RESULT_EXPIRES = timedelta(days=1)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
    # acks_late tasks are redelivered after this if a worker dies holding them: minutes, not
    # the hour it was (a killed import waited 3,600 s in `unacked`). Every task is keyed by
    # ids and safe to run twice, so a slow task delivered again costs a duplicate, no harm;
    # the reaper (crm.reap_batches, scorecards.reap_runs) usually recovers the work sooner.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("WEALTHSCORE_VISIBILITY_TIMEOUT", "300"))
    }
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
# Jobs (issue 14): a message delivered more than this many times (its worker died each time)
# is given up: its batch or run is marked failed and the message acknowledged.
WEALTHSCORE_MAX_DELIVERIES = int(os.environ.get("WEALTHSCORE_MAX_DELIVERIES", "3"))
# A running job beats this often (a light thread beside the work); the reapers run this often.
WEALTHSCORE_HEARTBEAT_SECONDS = float(os.environ.get("WEALTHSCORE_HEARTBEAT_SECONDS", "10"))
WEALTHSCORE_REAP_SECONDS = float(os.environ.get("WEALTHSCORE_REAP_SECONDS", "30"))
# Outbox rows not dispatched after their commit (the broker was down) are sent again by a
# beat task this often, once they are this old (a fresh row is being sent by its request).
WEALTHSCORE_OUTBOX_SECONDS = float(os.environ.get("WEALTHSCORE_OUTBOX_SECONDS", "10"))
WEALTHSCORE_OUTBOX_GRACE_SECONDS = float(os.environ.get("WEALTHSCORE_OUTBOX_GRACE_SECONDS", "5"))
# A year run waits at most this long for quarter runs of other recomputes; then it fails and
# is recomputed by the reaper.
# Without a broker (the demo), run the tasks in-process but on a background thread of the web
# process, so that a page that asks for a recompute answers at once (issue 17). Off by
# default: tests and commands run them inline, after the commit.
WEALTHSCORE_BACKGROUND_TASKS = os.environ.get("WEALTHSCORE_BACKGROUND_TASKS", "") == "1"
WEALTHSCORE_RUN_WAIT_SECONDS = int(os.environ.get("WEALTHSCORE_RUN_WAIT_SECONDS", "1800"))
# Transient database errors (OperationalError, InterfaceError) are retried this many times,
# waiting 2, 4, 8 … s up to the cap (with jitter).
WEALTHSCORE_TASK_MAX_RETRIES = int(os.environ.get("WEALTHSCORE_TASK_MAX_RETRIES", "6"))
WEALTHSCORE_TASK_BACKOFF_MAX = int(os.environ.get("WEALTHSCORE_TASK_BACKOFF_MAX", "60"))
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "nightly-imports": {"task": "crm.run_nightly", "schedule": crontab(hour=1, minute=30)},
    "jobs-dispatch": {
        "task": "wealthscore.jobs_dispatch",
        "schedule": WEALTHSCORE_OUTBOX_SECONDS,
        "options": {"expires": WEALTHSCORE_OUTBOX_SECONDS},
    },
    "reap-batches": {
        "task": "crm.reap_batches",
        "schedule": WEALTHSCORE_REAP_SECONDS,
        "options": {"expires": WEALTHSCORE_REAP_SECONDS},
    },
    "reap-runs": {
        "task": "scorecards.reap_runs",
        "schedule": WEALTHSCORE_REAP_SECONDS,
        "options": {"expires": WEALTHSCORE_REAP_SECONDS},
    },
}
WEALTHSCORE_UPLOAD_MAX_BYTES = int(os.environ.get("WEALTHSCORE_UPLOAD_MAX_BYTES", 300 * 1024**2))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("WEALTHSCORE_LOG_LEVEL", "INFO")},
}

# Targets (SPEC §3): RMs hired less than this many months before a period's first day have
# their flow targets multiplied by this factor.
WEALTHSCORE_PROBATION_MONTHS = int(os.environ.get("WEALTHSCORE_PROBATION_MONTHS", "6"))
WEALTHSCORE_PROBATION_FACTOR = Decimal(os.environ.get("WEALTHSCORE_PROBATION_FACTOR", "0.5"))
# Compliance (SPEC §6): a client's risk assessment is valid this many months; evidence
# files attached to incidents are at most this large.
WEALTHSCORE_RISK_ASSESSMENT_VALID_MONTHS = int(
    os.environ.get("WEALTHSCORE_RISK_ASSESSMENT_VALID_MONTHS", "12")
)
WEALTHSCORE_EVIDENCE_MAX_BYTES = int(
    os.environ.get("WEALTHSCORE_EVIDENCE_MAX_BYTES", str(20 * 1024**2))
)
# A running score run or import batch with no sign of life for this long is taken for dead
# (a killed worker): the run is failed and recomputed, the batch dispatched again. Its
# heartbeat (WEALTHSCORE_HEARTBEAT_SECONDS) never goes quiet during a long stage.
WEALTHSCORE_RUN_STALE_SECONDS = int(os.environ.get("WEALTHSCORE_RUN_STALE_SECONDS", "60"))
# A score run waiting in the queue (nothing of it begun) does not beat: its message is taken
# for lost only after this long.
WEALTHSCORE_RUN_QUEUED_SECONDS = int(os.environ.get("WEALTHSCORE_RUN_QUEUED_SECONDS", "3600"))
# A score run's chunk (one transaction, one Celery task) holds whole branches, at least this
# many RMs: many small branches are scored together rather than one commit each.
WEALTHSCORE_SCORE_CHUNK_RMS = int(os.environ.get("WEALTHSCORE_SCORE_CHUNK_RMS", "400"))
# Failure drills only: seconds each branch of a score run waits before it is scored, so that
# a test can kill the worker in the middle of a run.
WEALTHSCORE_SCORE_CHUNK_DELAY = float(os.environ.get("WEALTHSCORE_SCORE_CHUNK_DELAY", "0"))
# Failure drills only: seconds an import waits at each stage it reports (reading, checking,
# loading), so that a test can kill the worker in the middle of an import.
WEALTHSCORE_IMPORT_STAGE_DELAY = float(os.environ.get("WEALTHSCORE_IMPORT_STAGE_DELAY", "0"))

# Import files (issue 14): each file is parsed in a child process limited to this much
# address space and this many seconds (crm.sandbox); over either, the file is rejected.
WEALTHSCORE_PARSE_MEMORY_MB = int(os.environ.get("WEALTHSCORE_PARSE_MEMORY_MB", "4096"))
WEALTHSCORE_PARSE_SECONDS = int(os.environ.get("WEALTHSCORE_PARSE_SECONDS", "600"))
# Minimum necessary (PIPL): inbox files in processed/ and rejected/, and uploads kept for a
# retry, are deleted after this many days (crm.services.files_purge, `purge_files`).
WEALTHSCORE_FILE_RETENTION_DAYS = int(os.environ.get("WEALTHSCORE_FILE_RETENTION_DAYS", "30"))
