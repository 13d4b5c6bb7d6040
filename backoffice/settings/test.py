"""Test settings: PostgreSQL when DATABASE_URL points at one, else SQLite."""

import tempfile

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-not-a-secret"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=True)
# Uploaded files (import previews) in a throwaway directory: a worker subprocess in the tests
# reads them too.
STORAGES["default"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": tempfile.mkdtemp(prefix="custorder-test-media-")},
}
# SMS: the console backend unless a test points the africastalking backend at its fake server;
# retries run without waiting so a worker pass can exercise the whole retry policy.
SMS_BACKEND = "console"
SMS_RETRY_BASE_SECONDS = 0.0
SMS_RETRY_MAX_SECONDS = 0.0
SMS_DELIVERY_REPORT_SECRET = "test-delivery-secret"
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
