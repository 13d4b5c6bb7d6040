"""Error reporting is opt-in: settings load without SENTRY_DSN and initialise nothing."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django, sentry_sdk; django.setup(); "
    "client = sentry_sdk.get_client(); "
    "print(client.is_active(), client.options.get('send_default_pii'), "
    "client.options.get('environment'))"
)


def _probe(**env: str) -> str:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    full_env.update({"DJANGO_SETTINGS_MODULE": "backoffice.settings.test", **env})
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_no_dsn_means_no_sentry():
    assert _probe().split()[0] == "False"


def test_dsn_turns_on_sentry_without_pii():
    out = _probe(SENTRY_DSN="http://public@127.0.0.1:9/1", APP_ENVIRONMENT="staging")
    assert out == "True False staging"
