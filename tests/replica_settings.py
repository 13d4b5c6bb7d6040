"""Settings of the replicas that tests/replicas.py starts: the deployed settings (everything
from the environment) with static files served as collected by nobody (no manifest) and the
media folder the environment names, shared by every replica."""

from backoffice.settings.base import *  # noqa: F403
from backoffice.settings.base import MEDIA_ROOT

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The users the tests make are hashed with the test settings' hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
