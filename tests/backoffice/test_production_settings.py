"""Production settings: refuse to start without secrets, pass the deployment checklist, log JSON.

Each case runs ``manage.py`` in a fresh process, as the container does.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DELIVERY_SECRET = "dr-secret-Xq7Lm2Vp9Rt4Kw8Zc3Nb"
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "backoffice.settings.production",
    "DJANGO_SECRET_KEY": "dummy-production-secret-for-checks-only-9f3Kq7Zp2Lm8Xv4Rt6Yw1Nc5Hb0",
    "DJANGO_ALLOWED_HOSTS": "backoffice.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://backoffice.example.com",
    "DATABASE_URL": "postgres://custorder:unused@127.0.0.1:1/custorder",
    "APP_ENVIRONMENT": "production",
    "SMS_BACKEND": "africastalking",
    "AFRICASTALKING_USERNAME": "custorder",
    "AFRICASTALKING_API_KEY": "atsk-dummy-key-for-checks-only-0123456789",
    "SMS_DELIVERY_REPORT_SECRET": DELIVERY_SECRET,
}


def _env(**overrides: str | None) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "DB_", "SMS_", "AFRICASTALKING_", "OIDC_"))
        and k not in ("LOG_LEVEL", "APP_ENVIRONMENT")
    }
    env = {**base, **PRODUCTION_ENV, **overrides}
    return {k: v for k, v in env.items() if v is not None}


def _run(*args: str, **overrides: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=_env(**overrides),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean():
    result = _run("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DJANGO_SECRET_KEY": None}, "Set the DJANGO_SECRET_KEY environment variable"),
        ({"DJANGO_ALLOWED_HOSTS": None}, "Set the DJANGO_ALLOWED_HOSTS environment variable"),
        ({"DATABASE_URL": None}, "Set the DATABASE_URL environment variable"),
        ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG cannot be on with production settings"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY must be at least 50 characters"),
    ],
    ids=["no-secret-key", "no-allowed-hosts", "no-database", "debug-on", "short-secret-key"],
)
def test_refuses_to_start_without_its_configuration(overrides, message):
    result = _run("manage.py", "check", **overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


MISCONFIGURED = {
    "console-sms": ({"SMS_BACKEND": "console"}, "[security.E102] SMS_BACKEND=console"),
    "no-report-secret": (
        {"SMS_DELIVERY_REPORT_SECRET": None},
        "[security.E103] SMS_DELIVERY_REPORT_SECRET is missing",
    ),
    "short-report-secret": (
        {"SMS_DELIVERY_REPORT_SECRET": "short"},
        "[security.E103] SMS_DELIVERY_REPORT_SECRET is too short",
    ),
    "unsafe-url-secret": ({"SMS_DELIVERY_REPORT_SECRET": "a/b+c=d?e#f&g%h!i"}, "[security.E104]"),
    "empty-hosts": ({"DJANGO_ALLOWED_HOSTS": ""}, "[security.E101] DJANGO_ALLOWED_HOSTS is empty"),
    "blank-hosts": (
        {"DJANGO_ALLOWED_HOSTS": " , "},
        "[security.E101] DJANGO_ALLOWED_HOSTS is empty",
    ),
    "console-explicitly-allowed": (
        {"SMS_BACKEND": "console", "SMS_ALLOW_CONSOLE_BACKEND": "true"}
        | {"SMS_DELIVERY_REPORT_SECRET": None},
        None,
    ),
    "delivery-reports-off": (
        {"SMS_DELIVERY_REPORTS": "false", "SMS_DELIVERY_REPORT_SECRET": None},
        None,
    ),
    "basic-auth-any-secret": (
        {"SMS_DELIVERY_REPORT_AUTH": "basic", "SMS_DELIVERY_REPORT_SECRET": "a/b+c=d?e#f&g%h!i"},
        None,
    ),
}

# Loads the production settings module afresh for each configuration, in one process (a
# process per case would cost seconds each): what it prints is the refusal, or "started".
LOAD_SETTINGS = """
import json, os, runpy, sys
cases = json.loads(sys.argv[1])
base = dict(os.environ)
for name, overrides in cases.items():
    os.environ.clear()
    os.environ.update(base)
    for key, value in overrides.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    for module in [m for m in sys.modules if m.startswith("backoffice.settings")]:
        del sys.modules[module]
    try:
        runpy.run_module("backoffice.settings.production")
        outcome = "started"
    except Exception as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    print(json.dumps([name, outcome]))
"""


def test_refuses_to_start_misconfigured_unless_told_so():
    """Configurations that would start and answer /healthz 200 while nothing works are refused,
    each with what to set; explicit choices (no SMS here, no delivery reports) start."""
    cases = {name: overrides for name, (overrides, _) in MISCONFIGURED.items()}
    result = _run("-c", LOAD_SETTINGS, json.dumps(cases))
    assert result.returncode == 0, result.stderr
    outcomes = dict(json.loads(line) for line in result.stdout.splitlines())
    for name, (_, problem) in MISCONFIGURED.items():
        if problem is None:
            assert outcomes[name] == "started", (name, outcomes[name])
        else:
            assert outcomes[name].startswith(
                "ImproperlyConfigured: Production settings refuse to start:"
            ), (name, outcomes[name])
            assert problem in outcomes[name], (name, outcomes[name])
    assert "SMS_ALLOW_CONSOLE_BACKEND=true" in outcomes["console-sms"]


def test_secrets_never_reach_production_logs():
    """Real log output under production settings: the delivery-report secret in the access
    line's ``path`` and in Django's error line, a secret and a phone number in an exception's
    text, and credentials in an extra field are all masked."""
    script = (
        "import django, logging; django.setup();"
        "from django.test import Client;"
        f"secret = {DELIVERY_SECRET!r};"
        "c = Client(HTTP_HOST='backoffice.example.com', raise_request_exception=False);"
        "r = c.post(f'/sms/delivery-reports/{secret}/', {'id': 'x', 'status': 'Success'},"
        " secure=True);"
        "print(r.status_code);"
        "log = logging.getLogger('apps.notifications');"
        "\ntry:\n raise ValueError(f'provider said no to +254712345678 with {secret}')"
        "\nexcept ValueError:\n log.exception('send failed', extra={'headers': "
        "{'Authorization': 'Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig'}, 'urls': "
        "[f'/sms/delivery-reports/{secret}/']})"
    )
    result = _run("-c", script)
    assert result.returncode == 0, result.stderr
    # The database is unreachable: the report fails, as any request may (a 500 with a traceback).
    assert result.stdout.split() == ["500"]
    assert DELIVERY_SECRET not in result.stderr
    assert "+254712345678" not in result.stderr
    assert "eyJhbGciOiJSUzI1NiJ9" not in result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    access = next(line for line in lines if line["logger"] == "backoffice.access")
    assert access["path"] == "/sms/delivery-reports/[redacted]/"
    assert access["message"] == "POST /sms/delivery-reports/[redacted]/ 500"
    error = next(line for line in lines if line["logger"] == "django.request")
    assert "[redacted]" in error["message"] and "[redacted]" in error["request"]
    failed = next(line for line in lines if line["message"] == "send failed")
    assert "+254*******78 with [redacted]" in failed["exc_info"]
    assert failed["headers"] == {"Authorization": "Bearer [redacted]"}
    assert failed["urls"] == ["/sms/delivery-reports/[redacted]/"]


def test_database_from_separate_parts_keeps_the_password_verbatim():
    script = (
        "import django, json; django.setup();"
        "from django.conf import settings;"
        "d = settings.DATABASES['default'];"
        "print(json.dumps([d['ENGINE'], d['HOST'], d['PORT'], d['NAME'], d['USER'],"
        " d['PASSWORD'], d['OPTIONS']['sslmode']]))"
    )
    result = _run(
        "-c",
        script,
        DATABASE_URL=None,
        DB_HOST="db.internal",
        DB_NAME="custorder",
        DB_USER="custorder",
        DB_PASSWORD="p@ss/w:rd#?",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "django.db.backends.postgresql",
        "db.internal",
        5432,
        "custorder",
        "custorder",
        "p@ss/w:rd#?",
        "require",
    ]


def test_a_partial_set_of_database_parts_is_refused():
    result = _run("manage.py", "check", DATABASE_URL=None, DB_HOST="db.internal")
    assert result.returncode != 0
    assert "Set the DB_NAME environment variable" in result.stderr


def test_logs_are_json_lines_with_the_request_id():
    """A request through the full middleware stack writes one JSON access line to stderr."""
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/no-such-page', headers={'X-Request-ID': 'trace-7'},"
        " HTTP_HOST='backoffice.example.com', secure=True);"
        "print(r.status_code, r['X-Request-ID'])"
    )
    result = _run("-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["404", "trace-7"]
    # Python warnings (e.g. whitenoise's about a missing STATIC_ROOT) are not log records.
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert lines
    access = [line for line in lines if line["logger"] == "backoffice.access"]
    assert len(access) == 1
    assert access[0]["request_id"] == "trace-7"
    assert access[0]["status"] == 404
    assert access[0]["path"] == "/no-such-page"


def test_plain_http_is_redirected_and_unknown_hosts_refused_but_probes_answer():
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "c = Client(HTTP_HOST='backoffice.example.com');"
        "print(c.get('/admin/').status_code, c.get('/admin/')['Location'],"
        " c.get('/healthz').status_code,"
        # Load balancer probes address the task by IP, a host ALLOWED_HOSTS refuses.
        " c.get('/healthz', HTTP_HOST='10.0.3.7:8000').status_code,"
        " c.get('/admin/', HTTP_HOST='10.0.3.7:8000', secure=True).status_code)"
    )
    result = _run("-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "301",
        "https://backoffice.example.com/admin/",
        "200",
        "200",
        "400",
    ]
