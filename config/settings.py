"""Settings, read from the environment (12-factor).

DATABASE_URL  default sqlite:///db.sqlite3 (relative to the project folder);
              sqlite:////abs/path.db and postgres://user:pass@host:port/db work.
REDIS_URL     unset: Celery tasks run eagerly in-process.
SECRET_KEY    required when DEBUG is off (the app refuses to start without it).
AUDIT_HMAC_KEY the audit chain's key; required when DEBUG is off.
DESTINATION_SECRET_KEY Fernet keys (newest first) encrypting webhook secrets; required
              when DEBUG is off.
AUDIT_ANCHOR_DIR where the audit chain is anchored (default var/audit-anchor).
DEBUG         "1"/"true" turns it on (default off).
ALLOWED_HOSTS comma-separated (default: localhost names only).
OIDC_*, LOCAL_LOGIN single sign-on (docs/identity.md).
"""

import base64
import hashlib
import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
# HTTPS_ONLY=true is the production switch: HTTPS redirect, secure cookies and
# HSTS. It is off by default so the demo and tests work over plain http.
HTTPS_ONLY = env_bool("HTTPS_ONLY", False)
# Development keys only with DEBUG on (or under the test runner); with DEBUG off
# the app refuses to start without SECRET_KEY and AUDIT_HMAC_KEY. The
# "django-insecure-" prefix also makes `manage.py check --deploy` flag it.
_DEVELOPMENT_KEYS_ALLOWED = DEBUG or "pytest" in sys.modules


def secret_from_env(name: str, development_value: str) -> str:
    value = os.environ.get(name, "")
    if value:
        return value
    if not _DEVELOPMENT_KEYS_ALLOWED:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")
    return development_value


SECRET_KEY = secret_from_env(
    "SECRET_KEY", "django-insecure-development-only-key-set-SECRET_KEY-in-production-7f3a9c"
)
# The audit chain's HMAC key (docs/governance.md, "Audit trail"): never stored in
# the database. AUDIT_ANCHOR_DIR: where the chain's head and length are anchored.
AUDIT_HMAC_KEY = secret_from_env("AUDIT_HMAC_KEY", "development-only-audit-key-set-AUDIT_HMAC_KEY")
AUDIT_ANCHOR_DIR = Path(os.environ.get("AUDIT_ANCHOR_DIR", BASE_DIR / "var" / "audit-anchor"))


def _destination_secret_keys() -> list[str]:
    """DESTINATION_SECRET_KEY: Fernet keys, comma-separated, newest first (docs/activation.md,
    "Secrets at rest"). Webhook secrets are encrypted with them; the database never holds them.
    With DEBUG on (or in tests) a development key is derived from SECRET_KEY."""
    keys = [k.strip() for k in os.environ.get("DESTINATION_SECRET_KEY", "").split(",") if k.strip()]
    if not keys:
        if not _DEVELOPMENT_KEYS_ALLOWED:
            raise ImproperlyConfigured("DESTINATION_SECRET_KEY must be set when DEBUG is off")
        digest = hashlib.sha256(b"destination-secrets:" + SECRET_KEY.encode()).digest()
        return [base64.urlsafe_b64encode(digest).decode()]
    for key in keys:
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == 32
        except (ValueError, TypeError):
            valid = False
        if not valid:
            raise ImproperlyConfigured(
                "DESTINATION_SECRET_KEY must list Fernet keys (32 url-safe base64-encoded bytes, "
                "e.g. from cryptography.fernet.Fernet.generate_key()), comma-separated"
            )
    return keys


DESTINATION_SECRET_KEYS = _destination_secret_keys()

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

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
    "health_check",
    "django_htmx",
    "core",
    "accounts",
    "audit",
    "customers",
    "segmentation",
    "content",
    "governance",
    "field",
    "demo",
    "discovery",
    "activation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    # Before anything reads the body: an upload over UPLOAD_MAX_BYTES is refused unread.
    "core.uploads.UploadLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.logging.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.replica.ReplicaReadMiddleware",
    # Last, as django-axes asks: it turns a lockout into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo server read while a recompute writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
# A streaming replica for reads that may be slightly old (docs/scaling.md,
# core/replica.py). Unset: everything reads and writes the primary. In tests the
# alias mirrors the primary's test database (a standby cannot see a test's
# uncommitted rows); tests of the real standby connect to it themselves.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0"))
    )
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL must be a postgres:// URL of a hot standby of DATABASE_URL."
        )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]
# Pages fall back to the primary when the replica's replay is further behind than this.
REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "10"))
REPLICA_LAG_CHECK_SECONDS = float(os.environ.get("REPLICA_LAG_CHECK_SECONDS", "2"))
# After a write, the writer's browser reads the primary this long (read-your-writes).
REPLICA_PIN_SECONDS = int(os.environ.get("REPLICA_PIN_SECONDS", "10"))
# The operator's switch: off sends every read to the primary (failover, maintenance).
REPLICA_READS_ENABLED = os.environ.get("REPLICA_READS_ENABLED", "1").lower() not in {
    "0",
    "false",
    "no",
    "off",
}
# The reads that may be served by the replica (URL names; GET and HEAD only, except the
# previews, which POST a rule and write nothing); everything else reads the primary.
REPLICA_READ_POSTS = frozenset({"api-segment-preview", "segmentation:rule_preview"})
REPLICA_READ_VIEWS = REPLICA_READ_POSTS | frozenset(
    {
        "segmentation:dashboard",
        "governance:inbox",
        "api-segment-members",
        "api-territory-segments",
        "field:territory_list",
        "field:territory_detail",
        "field:territory_export",
        "api-segment-differentiators",
        "discovery:differentiators",
        "api-publication-measurement",
        "activation:publications_panel",
    }
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out user or address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Access controls (docs/governance.md, "Integrity and access controls").
# Lockout: after AXES_FAILURE_LIMIT failed passwords for one account, further
# attempts for it are refused for AXES_COOLOFF_TIME (login page, API token and
# e-signatures share one count: audit.signing adds signature failures to it). The lock is
# per account, as docs/governance.md says: a lock per address would lock every
# user behind one proxy or NAT after a few typos. Guessing across many accounts
# from one address is slowed by the token endpoint's throttle (THROTTLE_AUTH).
AXES_FAILURE_LIMIT = int(os.environ.get("LOCKOUT_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for 'ip_address' in the lockout parameters; the lock is per account
# on purpose (above), and no user agent or cookie parameter is used that could be rotated.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_LOCKOUT_CALLABLE = "accounts.api_auth.lockout_response"
# Sessions end after SESSION_IDLE_MINUTES without a request (sliding expiry) and
# when the browser closes.
SESSION_COOKIE_AGE = 60 * int(os.environ.get("SESSION_IDLE_MINUTES", "15"))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# API tokens (django-rest-knox): stored hashed, expire after API_TOKEN_TTL_HOURS.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=int(os.environ.get("API_TOKEN_TTL_HOURS", "8"))),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Single sign-on (docs/identity.md): OpenID Connect, authorization code + PKCE.
# OIDC_ISSUER unset: SSO is off and the login page is the local one.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip().rstrip("/")
OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "").strip()
OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "").strip()
OIDC_ROLES_CLAIM = os.environ.get("OIDC_ROLES_CLAIM", "").strip() or "groups"
OIDC_TERRITORIES_CLAIM = os.environ.get("OIDC_TERRITORIES_CLAIM", "").strip() or "territories"
OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile").strip()
# Local password sign-in: on when SSO is off, off when it is on; admin-role
# local accounts may always sign in (break-glass, audited).
LOCAL_LOGIN = env_bool("LOCAL_LOGIN", not OIDC_ISSUER)
# A re-authentication for a signature counts only this long (21 CFR 11.200).
OIDC_REAUTH_MAX_AGE = timedelta(minutes=5)
# How long the provider may take to answer (discovery, keys, token exchange).
OIDC_TIMEOUT_SECONDS = float(os.environ.get("OIDC_TIMEOUT_SECONDS", "10"))


def _check_oidc_settings() -> None:
    """A bad SSO configuration stops the app at start with one sentence."""
    if not OIDC_ISSUER:
        for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"):
            if os.environ.get(name, "").strip():
                raise ImproperlyConfigured(
                    f"{name} is set but OIDC_ISSUER is not: set the provider's issuer URL "
                    "or unset both to turn single sign-on off"
                )
        return
    if not OIDC_ISSUER.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            f"OIDC_ISSUER must be the provider's https:// issuer URL, not {OIDC_ISSUER!r}"
        )
    if not OIDC_CLIENT_ID:
        raise ImproperlyConfigured(
            "OIDC_ISSUER is set but OIDC_CLIENT_ID is not: set the client id of the "
            "product's registration at the provider"
        )
    if not OIDC_CLIENT_SECRET:
        raise ImproperlyConfigured(
            "OIDC_ISSUER is set but OIDC_CLIENT_SECRET is not: set the client secret of the "
            "product's registration at the provider"
        )
    if "openid" not in OIDC_SCOPES.split():
        raise ImproperlyConfigured("OIDC_SCOPES must include openid")


_check_oidc_settings()

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # No manifest: pages work whether or not collectstatic has run.
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
# Upload limits (docs/imports.md "Limits", docs/api.md). UPLOAD_MAX_BYTES is the one
# limit on a file sent through any page or the API (a request body larger than it,
# plus the form's other fields, is refused before it is read: core.uploads);
# IMPORT_MAX_UPLOAD_BYTES is its former name, still read. Django's own limits agree
# with it: files above FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file instead of
# memory, and DATA_UPLOAD_MAX_MEMORY_SIZE bounds the rest of a body (form fields, JSON).
UPLOAD_MAX_BYTES = int(
    os.environ.get("UPLOAD_MAX_BYTES")
    or os.environ.get("IMPORT_MAX_UPLOAD_BYTES")
    or str(50 * 1024 * 1024)
)
FILE_UPLOAD_MAX_MEMORY_SIZE = min(5 * 1024 * 1024, UPLOAD_MAX_BYTES)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Products the company tracks besides those of imported rx facts: the Part D
# import keeps these brands (docs/sources.md). Comma-separated.
RX_TRACKED_PRODUCTS = [
    p.strip() for p in os.environ.get("RX_TRACKED_PRODUCTS", "").split(",") if p.strip()
]
XLSX_MAX_UNCOMPRESSED_BYTES = int(
    os.environ.get("XLSX_MAX_UNCOMPRESSED_BYTES", str(200 * 1024 * 1024))
)
XLSX_MAX_ROWS = int(os.environ.get("XLSX_MAX_ROWS", "200000"))
XLSX_MAX_COLUMNS = int(os.environ.get("XLSX_MAX_COLUMNS", "200"))
ASSET_MAX_UPLOAD_BYTES = int(os.environ.get("ASSET_MAX_UPLOAD_BYTES", str(25 * 1024 * 1024)))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.StandardPagination",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.negotiation.StrictFormatNegotiation",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # Only password attempts are throttled, per address: the token endpoint and the
    # login page (accounts.views.LoginView) share the "auth" count. API clients that
    # batch work (previews, imports) are never slowed down by a global rate. The
    # rate is the one docs/api.md and docs/governance.md state (300 a minute).
    "DEFAULT_THROTTLE_RATES": {
        "auth": os.environ.get("THROTTLE_AUTH", "300/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Segmentation governance API",
    "DESCRIPTION": "Customer segments, sign-off, MLR content mappings and audit trail.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its pages need a login; Swagger UI and Redoc are served
    # from the app itself (drf-spectacular-sidecar), so /api/docs/ works offline.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Hostile input (docs/governance.md): JSON nesting bound, and the CSP header.
# Deep enough for the deepest valid rule (32 levels of groups, two JSON levels each, inside
# a request) to reach the rule validator, which names the offending path.
JSON_MAX_DEPTH = int(os.environ.get("JSON_MAX_DEPTH", "200"))
CONTENT_SECURITY_POLICY = os.environ.get(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
)

REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Fail fast when the broker is down (the outbox keeps the work, docs/governance.md
# "Operations"); a visibility timeout longer than the longest task (its hard
# limit), so Redis never redelivers a task that is still running.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker whose broker goes away keeps trying to reconnect (every 2, 4, ... at most
# 30 seconds) for as long as it takes, instead of exiting after 100 attempts.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "1500"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "1800"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
    "max_retries": 1,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3}
# Queues: recompute work and compliance jobs (expiry, revocation, audit checks)
# never wait behind each other; everything else goes to the default "celery".
# Every queue a route names is declared here, so a plain ``celery -A config worker``
# (no -Q) consumes all of them; dedicated -Q workers remain the production layout.
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Each queue has its own direct exchange and routing key, as -Q creates them.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name) for name in ("celery", "recompute", "compliance")
]
CELERY_TASK_ROUTES = {
    "segmentation.tasks.*": {"queue": "recompute"},
    "content.tasks.*": {"queue": "compliance"},
    "audit.tasks.*": {"queue": "compliance"},
}
# The outbox re-sends a request not done this long after it was dispatched or
# started (a lost message); longer than the hard time limit.
OUTBOX_REDISPATCH_AFTER = int(os.environ.get("OUTBOX_REDISPATCH_AFTER", "2400"))
CELERY_BEAT_SCHEDULE = {
    "recompute-all-nightly": {
        "task": "segmentation.tasks.recompute_all_segments",
        "schedule": crontab(hour=2, minute=0),
    },
    "recompute-time-windowed-hourly": {
        "task": "segmentation.tasks.recompute_time_windowed_segments",
        "schedule": crontab(minute=15),
    },
    "expire-content-assets": {
        "task": "content.tasks.expire_assets",
        "schedule": timedelta(minutes=5),
    },
    "dispatch-recompute-requests": {
        "task": "segmentation.tasks.dispatch_recompute_requests",
        "schedule": timedelta(minutes=1),
    },
    "verify-audit-log": {
        "task": "audit.tasks.verify_audit_log",
        "schedule": crontab(minute=30),
    },
    "activation-reconcile-nightly": {
        "task": "activation.tasks.reconcile_publications",
        "schedule": crontab(hour=3, minute=0),
    },
    "activation-retry-due-deliveries": {
        "task": "activation.tasks.retry_due_deliveries",
        "schedule": timedelta(minutes=1),
    },
}

# Activation (docs/activation.md): file destinations must lie inside this root;
# webhooks time out after this many seconds; failed deliveries are retried after
# base * 2**(attempts-1) seconds, at most max.
ACTIVATION_FILE_ROOT = Path(os.environ.get("ACTIVATION_FILE_ROOT", BASE_DIR / "var" / "activation"))
ACTIVATION_WEBHOOK_TIMEOUT = float(os.environ.get("ACTIVATION_WEBHOOK_TIMEOUT", "5"))
ACTIVATION_RETRY_BASE_SECONDS = int(os.environ.get("ACTIVATION_RETRY_BASE_SECONDS", "10"))
ACTIVATION_RETRY_MAX_SECONDS = int(os.environ.get("ACTIVATION_RETRY_MAX_SECONDS", "3600"))


# One JSON object per line with request_id, user_id and task_id (core/logging.py);
# LOG_FORMAT=text for a terminal.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "core.logging.ContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s "
            "%(request_id)s %(user_id)s %(task_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s user=%(user_id)s "
            "task=%(task_id)s] %(message)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": os.environ.get("LOG_FORMAT", "text" if DEBUG else "json"),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# Celery keeps this logging configuration (request/task ids in JSON) instead of its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

if HTTPS_ONLY:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # compose's health check speaks plain http
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
