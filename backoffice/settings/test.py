"""Test settings: PostgreSQL when DATABASE_URL points at one, else SQLite."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import cache_settings, env

DEBUG = False
SECRET_KEY = "test-only-not-a-secret"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Uploaded files (import previews) on disk, not in memory: a worker subprocess in the tests reads
# them too. One throwaway directory per process (each pytest-xdist worker has its own), removed
# when that process exits.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="custorder-test-media-"))
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=True)
# SMS: the console backend unless a test points the africastalking backend at its fake server;
# retries run without waiting so a worker pass can exercise the whole retry policy.
SMS_BACKEND = "console"
SMS_RETRY_BASE_SECONDS = 0.0
SMS_RETRY_MAX_SECONDS = 0.0
SMS_DELIVERY_REPORT_SECRET = "test-delivery-secret"
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# The shared cache: the redis-server that `make test` starts (scripts/test-services.sh), one
# Redis database per pytest-xdist worker so that one worker's cache.clear() leaves the others'
# counters alone; local memory without it (tests that need Redis skip then).
TEST_REDIS_URL = env.str("TEST_REDIS_URL", default="")
if TEST_REDIS_URL:
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    CACHES = cache_settings(f"{TEST_REDIS_URL}/{1 + int(_worker or 0) % 63}")
# The streaming replica it starts (host and port; the tests name the database): replica tests
# register it as the "replica" connection themselves (tests/replica_fixtures.py).
TEST_DATABASE_REPLICA_URL = env.str("TEST_DATABASE_REPLICA_URL", default="")
