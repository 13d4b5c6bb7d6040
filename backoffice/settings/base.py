"""Settings shared by every environment.

Every value that differs between deployments is read from the environment through the one
``env`` object below; the variable names are the configuration contract documented in README.md.
"""

from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))

APP_ENVIRONMENT = env.str("APP_ENVIRONMENT", default="local")

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.inlines",
    "unfold.contrib.simple_history",
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "phonenumber_field",
    "simple_history",
    "axes",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    # Shared apps: domain core, cross-cutting plumbing, toolkits for the admin and the API, the
    # spreadsheet engine. Feature apps below build on them.
    "apps.core",
    "apps.observability",
    "apps.security",
    "apps.admin_toolkit",
    "apps.api_toolkit",
    "apps.spreadsheets",
    "apps.saved_views",
    "apps.customers",
    "apps.items",
    "apps.orders",
    "django_tasks",
    "django_tasks_db",
    "apps.notifications",
    "apps.accounts",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]

MIDDLEWARE = [
    "apps.observability.middleware.RequestIdMiddleware",
    "backoffice.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "apps.security.headers.AdminCSPMiddleware",
    "apps.security.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages (it tells a person why their session ended).
    "apps.accounts.middleware.SessionAccessMiddleware",
    "apps.core.replica.RecentWriterMiddleware",
    # Before anything reads a body (CsrfViewMiddleware does in process_view).
    "apps.security.body_limits.RequestBodyLimitMiddleware",
    "apps.admin_toolkit.guards.AdminInputGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "backoffice.admin_site.unfold_scripts",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True


def add_jobs_connection(databases: dict[str, Any]) -> None:
    """A second connection to the same PostgreSQL database: a spreadsheet job stores its progress
    through it while its import's transaction is open (apps/spreadsheets/jobs/observer.py)."""
    if databases["default"]["ENGINE"].endswith("postgresql"):
        databases["jobs"] = {**databases["default"], "TEST": {"MIRROR": "default"}}


add_jobs_connection(DATABASES)


def sqlite_one_writer(database: dict[str, Any]) -> dict[str, Any]:
    """SQLite's transactions begin IMMEDIATE: a transaction takes the write lock at its first
    statement, so concurrent writers queue for it (up to the busy timeout) instead of failing
    with "database is locked" when a read turns into a write, and a check-then-insert (the SMS
    cost guard) cannot interleave with another. No effect on other databases."""
    if database.get("ENGINE") == "django.db.backends.sqlite3":
        database.setdefault("OPTIONS", {}).setdefault("transaction_mode", "IMMEDIATE")
    return database


sqlite_one_writer(DATABASES["default"])


def add_replica_connection(databases: dict[str, Any], replica: dict[str, Any] | None) -> None:
    """The read replica for heavy reads (apps/core/replica.py), when one is configured: the
    primary's connection settings with the replica's address. Connecting gives up quickly, so a
    replica that is down costs a heavy read little before it falls back to the primary."""
    if not replica:
        return
    options = {**replica.get("OPTIONS", {})}
    if replica.get("ENGINE", "").endswith("postgresql"):
        options.setdefault("connect_timeout", 2)
    databases["replica"] = {
        **replica,
        "CONN_MAX_AGE": databases["default"].get("CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


_replica_url = env.str("DATABASE_REPLICA_URL", default="")
add_replica_connection(DATABASES, env.db_url_config(_replica_url) if _replica_url else None)
DATABASE_ROUTERS = ["apps.core.replica.PrimaryReplicaRouter"]
# Heavy reads leave the replica for the primary while it lags more than this (s); its lag is
# checked at most this often per process; a person's heavy reads use the primary for this long
# after they wrote (read your writes).
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=30.0)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=5.0)
DATABASE_REPLICA_READ_YOUR_WRITES_SECONDS = env.float(
    "DATABASE_REPLICA_READ_YOUR_WRITES_SECONDS", default=60.0
)


def cache_settings(url: str, *, password: str = "", timeout: float = 0.5) -> dict[str, Any]:
    """``CACHES``: ``default`` is Redis through Django's own ``RedisCache`` when ``url`` is set
    (``redis://`` or ``rediss://`` with TLS), this process's memory otherwise; ``local`` is always
    this process's memory (what limits count in while Redis does not answer,
    ``apps/core/shared_cache.py``). Short socket timeouts: a cache that hangs must not hold a
    request for long."""
    local = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "local"}
    if not url:
        return {"default": {**local, "LOCATION": "default"}, "local": local}
    options: dict[str, Any] = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    if password:
        # The auth token comes on its own (Secrets Manager), not inside the URL.
        options["password"] = password
    return {
        "default": {
            # Django's RedisCache, falling back to local memory while Redis does not answer.
            "BACKEND": "apps.core.cache_backends.FailSoftRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "custorder",
            "OPTIONS": options,
        },
        "local": local,
    }


CACHES = cache_settings(
    env.str("CACHE_URL", default=""),
    password=env.str("CACHE_PASSWORD", default=""),
    timeout=env.float("CACHE_SOCKET_TIMEOUT_SECONDS", default=0.5),
)
# After the shared cache failed, it is left alone for this long (limits count per process).
SHARED_CACHE_RETRY_SECONDS = env.float("SHARED_CACHE_RETRY_SECONDS", default=5.0)
# /readyz answers 503 (not just "cache": "unreachable") while the shared cache does not answer.
READYZ_REQUIRE_CACHE = env.bool("READYZ_REQUIRE_CACHE", default=False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="Africa/Nairobi")
USE_I18N = True
USE_TZ = True
# One date and time format on every page (Django's own rendering and ``apps.core.dates``), in
# Django's ``date`` format syntax, shown in TIME_ZONE.
DATETIME_DISPLAY_FORMAT = env.str("DATETIME_DISPLAY_FORMAT", default="Y-m-d H:i")
DATE_DISPLAY_FORMAT = env.str("DATE_DISPLAY_FORMAT", default="Y-m-d")
FORMAT_MODULE_PATH = ["backoffice.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "backoffice" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

# Domain settings
# django-phonenumber-field's setting, read by every parser of phone numbers (PHONE_DEFAULT_REGION
# is its name in the environment).
PHONENUMBER_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="KE")
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "E164"
CURRENCY = env.str("CURRENCY", default="KES")

# Spreadsheet import/export (docs/import.md). Every limit is checked while the file is read.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
# One LogEntry per imported row would cost more than the import itself.
IMPORT_EXPORT_SKIP_ADMIN_LOG = True
# Big enough for a million order rows in CSV (~150 bytes each with uuids).
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=256 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=1_048_576)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=50)
IMPORT_MAX_CELLS = env.int("IMPORT_MAX_CELLS", default=20_000_000)
IMPORT_MAX_CELL_CHARS = env.int("IMPORT_MAX_CELL_CHARS", default=32_767)
IMPORT_XLSX_MAX_EXPANDED_BYTES = env.int("IMPORT_XLSX_MAX_EXPANDED_BYTES", default=1024**3)
IMPORT_XLSX_MAX_RATIO = env.int("IMPORT_XLSX_MAX_RATIO", default=100)
IMPORT_XLSX_MAX_SHARED_STRINGS = env.int("IMPORT_XLSX_MAX_SHARED_STRINGS", default=1_048_576)
IMPORT_PREVIEW_ROWS = env.int("IMPORT_PREVIEW_ROWS", default=100)
# Spreadsheet jobs: a web request checks (and writes) an upload itself up to this many rows and
# bytes read (inflated, for XLSX) and hands the rest to the worker; every XLSX export and CSV
# exports of more rows than EXPORT_SYNC_MAX_ROWS run on the worker.
SPREADSHEET_REQUEST_MAX_ROWS = env.int("SPREADSHEET_REQUEST_MAX_ROWS", default=5_000)
SPREADSHEET_REQUEST_MAX_BYTES = env.int("SPREADSHEET_REQUEST_MAX_BYTES", default=8 * 1024 * 1024)
EXPORT_SYNC_MAX_ROWS = env.int("EXPORT_SYNC_MAX_ROWS", default=10_000)
# Export files and error reports are kept this long; previews not confirmed expire too.
SPREADSHEET_FILE_TTL_HOURS = env.int("SPREADSHEET_FILE_TTL_HOURS", default=24)
# A running job whose worker has not reported for this long is marked failed.
SPREADSHEET_HEARTBEAT_TIMEOUT_SECONDS = env.int(
    "SPREADSHEET_HEARTBEAT_TIMEOUT_SECONDS", default=120
)
# Files a request (an upload) may carry; large uploads go to a temporary file, not memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Request bodies, refused (413) from their Content-Length before they are read
# (apps/security/body_limits.py): without a session or bearer token; signed in; the import upload
# (IMPORT_MAX_UPLOAD_BYTES) only for people who may import.
REQUEST_MAX_BODY_BYTES_ANONYMOUS = env.int("REQUEST_MAX_BODY_BYTES_ANONYMOUS", default=64 * 1024)
REQUEST_MAX_BODY_BYTES = env.int("REQUEST_MAX_BODY_BYTES", default=3 * 1024 * 1024)

# Background tasks and SMS (docs/sms.md)
TASKS = {
    "default": {"BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")}
}
# `manage.py db_worker` waits out a lost database: first wait, doubling up to the longest.
WORKER_RECONNECT_BASE_SECONDS = env.float("WORKER_RECONNECT_BASE_SECONDS", default=0.5)
WORKER_RECONNECT_MAX_SECONDS = env.float("WORKER_RECONNECT_MAX_SECONDS", default=30.0)
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
# Production settings refuse the console backend (messages only logged, yet marked sent) unless
# this says the environment must not send SMS.
SMS_ALLOW_CONSOLE_BACKEND = env.bool("SMS_ALLOW_CONSOLE_BACKEND", default=False)
AFRICASTALKING_USERNAME = env.str("AFRICASTALKING_USERNAME", default="sandbox")
AFRICASTALKING_API_KEY = env.str("AFRICASTALKING_API_KEY", default="")
AFRICASTALKING_SENDER_ID = env.str("AFRICASTALKING_SENDER_ID", default="")
AFRICASTALKING_API_URL = env.str("AFRICASTALKING_API_URL", default="")
# The delivery-report callback (/sms/delivery-reports/…): off answers 404 and needs no secret.
SMS_DELIVERY_REPORTS_ENABLED = env.bool("SMS_DELIVERY_REPORTS", default=True)
SMS_DELIVERY_REPORT_SECRET = env.str("SMS_DELIVERY_REPORT_SECRET", default="")
SMS_DELIVERY_REPORT_AUTH = env.str("SMS_DELIVERY_REPORT_AUTH", default="url")
SMS_DELIVERY_REPORT_USERNAME = env.str("SMS_DELIVERY_REPORT_USERNAME", default="africastalking")
SMS_CONFIRMATION_TEMPLATE = env.str(
    "SMS_CONFIRMATION_TEMPLATE",
    default=(
        "Hi {first_name}, your order {number} is confirmed: {quantity} x {item}, "
        "total {total}. Thank you!"
    ),
)
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=5)
# Cost guard: resends per order per rolling 24 h, and SMS of any kind per rolling hour (0 = off).
SMS_RESEND_MAX_PER_ORDER_PER_DAY = env.int("SMS_RESEND_MAX_PER_ORDER_PER_DAY", default=3)
SMS_MAX_PER_HOUR = env.int("SMS_MAX_PER_HOUR", default=1000)
SMS_RETRY_BASE_SECONDS = env.float("SMS_RETRY_BASE_SECONDS", default=30.0)
SMS_RETRY_MAX_SECONDS = env.float("SMS_RETRY_MAX_SECONDS", default=3600.0)
SMS_RETRY_READ_TIMEOUTS = env.bool("SMS_RETRY_READ_TIMEOUTS", default=False)
SMS_PROVIDER_TIMEOUT_SECONDS = env.float("SMS_PROVIDER_TIMEOUT_SECONDS", default=10.0)
SMS_SENDING_TIMEOUT_SECONDS = env.int("SMS_SENDING_TIMEOUT_SECONDS", default=300)

# Break-glass password login on the admin (SSO is the normal way in once configured).
LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=True)

# How long a sign-in to the admin (SSO or password) lasts before the person signs in again (an
# SSO user then goes back through the IdP, which re-reads their groups); the session cookie
# lasts as long. apps/accounts/middleware.py.
SIGN_IN_MAX_AGE_SECONDS = env.int("SIGN_IN_MAX_AGE_SECONDS", default=12 * 3600)
SESSION_COOKIE_AGE = SIGN_IN_MAX_AGE_SECONDS

# Staff SSO (django-allauth) and API bearer tokens (mozilla-django-oidc), docs/sso.md.
# Everything is off while OIDC_ISSUER is unset.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="")
OIDC_PROVIDER_ID = env.str("OIDC_PROVIDER_ID", default="sso")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="SSO")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_SCOPES = env.list("OIDC_SCOPES", default=["openid", "profile", "email", "groups"])
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
# The claim that identifies a person for good: "sub"; "oid" on Microsoft Entra ID, whose "sub"
# differs between app registrations.
OIDC_SUBJECT_CLAIM = env.str("OIDC_SUBJECT_CLAIM", default="sub")
OIDC_STAFF_GROUPS = env.list("OIDC_STAFF_GROUPS", default=[])
OIDC_SUPERUSER_GROUPS = env.list("OIDC_SUPERUSER_GROUPS", default=[])
# "idp-group=Django group,other-idp-group=Other group"; Django groups are created if missing.
OIDC_GROUP_MAP = env.str("OIDC_GROUP_MAP", default="")
OIDC_LOGOUT_AT_IDP = env.bool("OIDC_LOGOUT_AT_IDP", default=True)
OIDC_API_AUDIENCE = env.str("OIDC_API_AUDIENCE", default="")
OIDC_API_LEEWAY_SECONDS = env.int("OIDC_API_LEEWAY_SECONDS", default=30)
OIDC_API_ACCEPT_OPAQUE_TOKENS = env.bool("OIDC_API_ACCEPT_OPAQUE_TOKENS", default=True)
OIDC_USERINFO_CACHE_SECONDS = env.int("OIDC_USERINFO_CACHE_SECONDS", default=60)
OIDC_JWKS_CACHE_SECONDS = env.int("OIDC_JWKS_CACHE_SECONDS", default=3600)
OIDC_JWKS_MIN_REFRESH_SECONDS = env.int("OIDC_JWKS_MIN_REFRESH_SECONDS", default=30)
OIDC_DISCOVERY_CACHE_SECONDS = env.int("OIDC_DISCOVERY_CACHE_SECONDS", default=86400)
# Calls to the IdP: connect and read timeouts (s); after a failure, requests that need the IdP
# get a 503 at once for this long instead of each waiting for it.
OIDC_HTTP_CONNECT_TIMEOUT = env.float("OIDC_HTTP_CONNECT_TIMEOUT", default=2.0)
OIDC_HTTP_TIMEOUT = env.float("OIDC_HTTP_TIMEOUT", default=5.0)
OIDC_IDP_FAILURE_BACKOFF_SECONDS = env.float("OIDC_IDP_FAILURE_BACKOFF_SECONDS", default=10.0)
# Userinfo calls for opaque tokens not seen before, per client address
# (apps/security/client_address.py), in DRF's rate syntax; empty = no limit.
OIDC_UNKNOWN_TOKEN_RATE = env.str("OIDC_UNKNOWN_TOKEN_RATE", default="30/minute")
# mozilla-django-oidc: its DRF class reads the header and calls our backend; its backend's
# constructor reads these (endpoints empty = from the IdP's discovery document). It stays out of
# AUTHENTICATION_BACKENDS because allauth owns sessions (and the code flow: the token endpoint
# and client are read but not used).
OIDC_DRF_AUTH_BACKEND = "apps.accounts.bearer.BearerTokenBackend"
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_RP_CLIENT_ID = OIDC_CLIENT_ID
OIDC_RP_CLIENT_SECRET = OIDC_CLIENT_SECRET

# allauth's backend (it also answers permission checks), with password login behind
# LOCAL_LOGIN_ENABLED.
AUTHENTICATION_BACKENDS = [
    # First: refuses any password attempt while a username or address is locked out.
    "axes.backends.AxesStandaloneBackend",
    "apps.accounts.backends.AccountBackend",
]
# No local sign-up: people come from the IdP, break-glass superusers are made by operators.
SOCIALACCOUNT_ONLY = True
ACCOUNT_EMAIL_VERIFICATION = "none"
# Identities are matched by the IdP subject only: an email address never links or merges users,
# and two people may share one (aliases, shared mailboxes).
ACCOUNT_UNIQUE_EMAIL = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_ADAPTER = "apps.accounts.adapters.SocialAccountAdapter"
ACCOUNT_ADAPTER = "apps.accounts.adapters.AccountAdapter"
ACCOUNT_LOGOUT_REDIRECT_URL = "admin:login"
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": OIDC_PROVIDER_ID,
                "name": OIDC_PROVIDER_NAME,
                "client_id": OIDC_CLIENT_ID,
                "secret": OIDC_CLIENT_SECRET,
                "settings": {
                    "server_url": OIDC_ISSUER.rstrip("/"),
                    "scope": OIDC_SCOPES,
                    "oauth_pkce_enabled": True,
                    "uid_field": OIDC_SUBJECT_CLAIM,
                },
            }
        ]
        if OIDC_ISSUER
        else [],
    }
}

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"sensitive": {"()": "apps.observability.masking.SensitiveDataFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["sensitive"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

UNFOLD = {
    "SITE_TITLE": "CustOrder back office",
    "SITE_HEADER": "CustOrder",
    "SITE_SUBHEADER": "Customers, items and orders",
    "SITE_SYMBOL": "storefront",
    "SITE_FAVICONS": [
        {
            "rel": "icon",
            "type": "image/svg+xml",
            "href": "backoffice.admin_site.favicon_url",
        }
    ],
    "ENVIRONMENT": "backoffice.admin_site.environment_callback",
    "DASHBOARD_CALLBACK": "backoffice.dashboard.dashboard_callback",
    "ENVIRONMENT_TITLE_PREFIX": "backoffice.admin_site.environment_title_prefix_callback",
    "SHOW_HISTORY": True,
    # Loaded before Alpine starts: its expressions compiled ahead of time and an evaluator that
    # uses them, so the admin needs no CSP 'unsafe-eval' (apps/admin_toolkit/alpine_csp.py).
    "SCRIPTS": [
        "backoffice.admin_site.alpine_expressions_script",
        "backoffice.admin_site.alpine_csp_script",
        # Every admin form asks before the page is left with unsaved changes.
        "backoffice.admin_site.unsaved_changes_script",
    ],
    "SHOW_VIEW_ON_SITE": False,
    # Ctrl+K finds records through each admin's own search (apps/admin_toolkit/command.py).
    "COMMAND": {"search_callback": "apps.admin_toolkit.command.command_search"},
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "backoffice.admin_site.sidebar_navigation",
    },
}

# The /v1 API (docs/api.md)
API_AUTHENTICATION_CLASSES = env.list(
    "API_AUTHENTICATION_CLASSES",
    default=[
        # First: its WWW-Authenticate header is the one every 401 carries.
        "apps.accounts.authentication.OIDCBearerAuthentication",
        # For the browsable API and the docs pages, signed in through the admin.
        "rest_framework.authentication.SessionAuthentication",
    ],
)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": API_AUTHENTICATION_CLASSES,
    # The one access rule (active staff, or a service account) before any view's own checks.
    "DEFAULT_PERMISSION_CLASSES": ["apps.accounts.permissions.BackOfficeAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.api_toolkit.throttling.UserThrottle"],
    # Counted in the shared cache (CACHE_URL) by every process of every task.
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_THROTTLE_USER_RATE", default="1200/minute")},
    # JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE bytes and API_JSON_MAX_DEPTH levels.
    "DEFAULT_PARSER_CLASSES": ["apps.api_toolkit.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "apps.api_toolkit.renderers.OrjsonRenderer",
        *(
            ["rest_framework.renderers.BrowsableAPIRenderer"]
            if env.bool("API_BROWSABLE", default=True)
            else []
        ),
    ],
    "EXCEPTION_HANDLER": "apps.api_toolkit.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apps.api_toolkit.schema.ApiAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Retries and concurrent edits (docs/api.md): how long an Idempotency-Key's answer is kept; the
# operations ("order.create", "*" for every POST) that refuse a POST without a key; whether
# PATCH and DELETE need If-Match (428 without it).
API_IDEMPOTENCY_KEY_TTL_HOURS = env.int("API_IDEMPOTENCY_KEY_TTL_HOURS", default=24)
API_IDEMPOTENCY_KEY_REQUIRED = env.list("API_IDEMPOTENCY_KEY_REQUIRED", default=[])
# Per user, among the keys not yet expired: how many, and how many bytes their records hold
# (429 idempotency_quota_exceeded beyond); the largest answer body kept for a replay.
API_IDEMPOTENCY_MAX_KEYS_PER_USER = env.int("API_IDEMPOTENCY_MAX_KEYS_PER_USER", default=10_000)
API_IDEMPOTENCY_MAX_BYTES_PER_USER = env.int(
    "API_IDEMPOTENCY_MAX_BYTES_PER_USER", default=32 * 1024 * 1024
)
API_IDEMPOTENCY_MAX_RESPONSE_BYTES = env.int(
    "API_IDEMPOTENCY_MAX_RESPONSE_BYTES", default=64 * 1024
)
API_REQUIRE_IF_MATCH = env.bool("API_REQUIRE_IF_MATCH", default=False)
# Bounded work per request: JSON nesting depth, and the words and characters of ?search=.
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)
SEARCH_MAX_TERMS = env.int("SEARCH_MAX_TERMS", default=8)
SEARCH_MAX_CHARS = env.int("SEARCH_MAX_CHARS", default=200)
# The records the command palette (Ctrl+K) searches, in the order it shows them.
ADMIN_COMMAND_SEARCH_MODELS = ["orders.order", "customers.customer", "items.item"]
# How long a list's saved views stay cached between their changes (each change drops them).
SAVED_VIEWS_CACHE_SECONDS = env.int("SAVED_VIEWS_CACHE_SECONDS", default=60)
SPECTACULAR_SETTINGS = {
    "TITLE": "CustOrder API",
    "DESCRIPTION": (
        "Customers, items and orders of the CustOrder back office. Every error answers "
        "`{status, code, detail, errors}`; lists are cursor-paged `{next, previous, results}`. "
        "See docs/api.md."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["apps.accounts.permissions.BackOfficeAccess"],
    "SCHEMA_PATH_PREFIX": "/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SizeEnum": "apps.items.models.Size",
        "OrderStatusEnum": "apps.orders.models.OrderStatus",
    },
    # Served from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
DASHBOARD_HISTORY_CACHE_SECONDS = env.int("DASHBOARD_HISTORY_CACHE_SECONDS", default=300)

# Order workflow (README "Orders"): which status changes text the customer, and with what.
# ``placed`` uses SMS_CONFIRMATION_TEMPLATE; the others their own template below. Templates take
# the confirmation's fields; checked at start-up (apps/orders/checks.py).
SMS_NOTIFY_STATUSES = env.list("SMS_NOTIFY_STATUSES", default=["placed", "dispatched", "cancelled"])
SMS_STATUS_TEMPLATES = {
    "confirmed": env.str(
        "SMS_TEMPLATE_CONFIRMED",
        default="Hi {first_name}, we are preparing your order {number}: {quantity} x {item}.",
    ),
    "dispatched": env.str(
        "SMS_TEMPLATE_DISPATCHED",
        default="Hi {first_name}, your order {number} ({quantity} x {item}) is on its way.",
    ),
    "delivered": env.str(
        "SMS_TEMPLATE_DELIVERED",
        default="Hi {first_name}, your order {number} has been delivered. Thank you!",
    ),
    "cancelled": env.str(
        "SMS_TEMPLATE_CANCELLED",
        default=(
            "Hi {first_name}, your order {number} ({quantity} x {item}, {total}) has been "
            "cancelled. Please contact us with any questions."
        ),
    ),
}
# Why an order may be cancelled: "code=Label" pairs (codes are stored, labels shown); "other"
# (with words saying why) is always offered after them (apps/orders/rules.py).
ORDER_CANCEL_REASONS = env.list(
    "ORDER_CANCEL_REASONS",
    default=[
        "customer_request=Customer asked to cancel",
        "out_of_stock=Out of stock",
        "payment_failed=Payment failed",
        "duplicate=Duplicate order",
        "unreachable=Customer unreachable",
    ],
)
# Most orders one admin action may move at once (the work runs inside the request).
ORDERS_BULK_ACTION_MAX = env.int("ORDERS_BULK_ACTION_MAX", default=500)
# Larger list moves run on the worker as a job (progress, cancel, a report), up to this many
# orders per job, in batches of ORDERS_MOVE_JOB_BATCH (one transaction each).
ORDERS_MOVE_JOB_MAX = env.int("ORDERS_MOVE_JOB_MAX", default=200_000)
ORDERS_MOVE_JOB_BATCH = env.int("ORDERS_MOVE_JOB_BATCH", default=200)
# A running bulk move whose worker has not reported for this long is marked failed (housekeeping).
ORDERS_MOVE_JOB_HEARTBEAT_TIMEOUT_SECONDS = env.int(
    "ORDERS_MOVE_JOB_HEARTBEAT_TIMEOUT_SECONDS", default=300
)

# Audit history (django-simple-history): who changed what, and through which path.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
SIMPLE_HISTORY_REVERT_DISABLED = True

# Browser security headers. No inline scripts anywhere; unfold and ReDoc set inline styles,
# hence style-src. No 'unsafe-eval' either: unfold's Alpine.js expressions are compiled ahead of
# time (apps/admin_toolkit/alpine_csp.py). Forms may post to the IdP (an SSO redirect after a
# POST counts as form navigation).
from csp.constants import NONE, SELF, UNSAFE_INLINE  # noqa: E402


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [
            SELF,
            *[o for o in [_origin(env.str("OIDC_ISSUER", default=""))] if o],
        ],
    }
}
# Escape hatch, off by default: 'unsafe-eval' on admin pages only, for a release whose unfold
# upgrade brings Alpine expressions `make alpine` cannot compile yet (README, Security).
ADMIN_CSP_ALLOW_UNSAFE_EVAL = env.bool("ADMIN_CSP_ALLOW_UNSAFE_EVAL", default=False)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Optional error reporting: nothing is initialised without SENTRY_DSN; no personal data is sent
# (no user, IP, cookies or request bodies) unless SENTRY_SEND_DEFAULT_PII is set.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration()],
        environment=APP_ENVIRONMENT,
        send_default_pii=env.bool("SENTRY_SEND_DEFAULT_PII", default=False),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        max_request_body_size="never",
    )

# Brute-force protection for the break-glass password form (django-axes). SSO sign-ins never
# go through password authentication and are not counted. Locks apply per username and,
# separately, per client address; a superuser lifts them in the admin (Access attempts) or
# with `manage.py axes_reset`.
from datetime import timedelta  # noqa: E402

AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
# One client address for the lockout, the throttles and the bearer caps: X-Forwarded-For read
# with the number of proxies in front of us (1 behind the load balancer).
# (AXES_PROXY_COUNT was this setting's earlier name and is still read.)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=env.int("AXES_PROXY_COUNT", default=0))
AXES_CLIENT_IP_CALLABLE = "apps.security.client_address.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password"]
