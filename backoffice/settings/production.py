"""Production: every secret comes from the environment and the process refuses to start without."""

from django.core.exceptions import ImproperlyConfigured

from apps.observability.logs import json_logging_config
from apps.security.checks import configuration_problems

from .base import *  # noqa: F403
from .base import (
    LOGGING,
    SMS_ALLOW_CONSOLE_BACKEND,
    SMS_BACKEND,
    SMS_DELIVERY_REPORT_AUTH,
    SMS_DELIVERY_REPORT_SECRET,
    SMS_DELIVERY_REPORTS_ENABLED,
    add_jobs_connection,
    add_replica_connection,
    env,
    sqlite_one_writer,
)

DEBUG = False
if env.bool("DJANGO_DEBUG", default=False):
    raise ImproperlyConfigured("DJANGO_DEBUG cannot be on with production settings.")

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = [host.strip() for host in env.list("DJANGO_ALLOWED_HOSTS") if host.strip()]
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
if env.str("DATABASE_URL", default="") or not env.str("DB_HOST", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    # On AWS the password is injected from Secrets Manager on its own: composing a URL would
    # need escaping, so the parts are used as they are (see docs/deployment.md).
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": env.str("DB_HOST"),
            "PORT": env.int("DB_PORT", default=5432),
            "NAME": env.str("DB_NAME"),
            "USER": env.str("DB_USER"),
            "PASSWORD": env.str("DB_PASSWORD"),
            "OPTIONS": {"sslmode": env.str("DB_SSLMODE", default="require")},
        }
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
add_jobs_connection(DATABASES)
# The read replica: DATABASE_REPLICA_URL, or on AWS the RDS replica's host with the primary's
# name, user and password (DB_REPLICA_HOST).
if env.str("DATABASE_REPLICA_URL", default=""):
    add_replica_connection(DATABASES, env.db_url_config(env.str("DATABASE_REPLICA_URL")))
elif env.str("DB_REPLICA_HOST", default=""):
    add_replica_connection(
        DATABASES,
        {
            **DATABASES["default"],
            "HOST": env.str("DB_REPLICA_HOST"),
            "PORT": env.int("DB_REPLICA_PORT", default=DATABASES["default"].get("PORT") or 5432),
        },
    )
sqlite_one_writer(DATABASES["default"])

if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters.")

# A configuration that would run but not work (no host accepted, SMS only logged, delivery
# reports all refused) stops the process here: gunicorn runs no system checks.
_problems = configuration_problems(
    deployed=True,
    debug=False,
    allowed_hosts=ALLOWED_HOSTS,
    sms_backend=SMS_BACKEND,
    sms_console_allowed=SMS_ALLOW_CONSOLE_BACKEND,
    delivery_reports=SMS_DELIVERY_REPORTS_ENABLED,
    delivery_secret=SMS_DELIVERY_REPORT_SECRET,
    delivery_auth=SMS_DELIVERY_REPORT_AUTH,
)
if _problems:
    raise ImproperlyConfigured(
        "Production settings refuse to start: "
        + " ".join(f"[{p.id}] {p.message} {p.hint}" for p in _problems)
    )

LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=False)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# Preloading is decided for the registrable domain, not by this app on its subdomain; the
# switch above exists for whoever owns that decision.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# One JSON object per line on stderr, with the request id (CloudWatch Logs indexes the fields).
# Per-logger levels set in base.py still apply.
_base_loggers = LOGGING.get("loggers", {})
LOGGING = json_logging_config(env.str("LOG_LEVEL", default="INFO"))
LOGGING["loggers"] = {**_base_loggers, **LOGGING["loggers"]}
