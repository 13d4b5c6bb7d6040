"""Configuration that looks healthy but is not: refused at start-up, reported by ``/readyz``.

One set of rules, two callers. ``backoffice/settings/production.py`` calls
:func:`configuration_problems` with its own values and refuses to start on any problem (a
WSGI server runs no system checks). :func:`deployment_configuration_check` is a Django system
check (tag ``configuration``) applying the same rules to the running settings, so
``manage.py check`` and ``/readyz`` report them under any settings module; the rules that only
make sense for a deployment (no console SMS backend, a delivery-report secret) apply when
``APP_ENVIRONMENT`` is ``staging`` or ``production``.

Nothing here reads settings at import time: production settings import this module.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core import checks

CONFIGURATION_TAG = "configuration"
DEPLOYED_ENVIRONMENTS = frozenset({"staging", "production"})
MIN_DELIVERY_SECRET_CHARS = 16
# What a path segment carries unchanged (the secret is matched as ``<str:secret>``).
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")


@dataclass(frozen=True)
class ConfigurationProblem:
    id: str
    message: str
    hint: str


def configuration_problems(
    *,
    deployed: bool,
    debug: bool,
    allowed_hosts: Sequence[str],
    sms_backend: str,
    sms_console_allowed: bool,
    delivery_reports: bool,
    delivery_secret: str,
    delivery_auth: str,
) -> list[ConfigurationProblem]:
    """What is wrong with these settings; empty when nothing is."""
    problems: list[ConfigurationProblem] = []
    if not debug and not [host for host in allowed_hosts if host.strip()]:
        problems.append(
            ConfigurationProblem(
                "security.E101",
                "DJANGO_ALLOWED_HOSTS is empty: every request would be refused (400) while the "
                "probes, which bypass it, answer 200.",
                "Set DJANGO_ALLOWED_HOSTS to the public host name(s), comma-separated.",
            )
        )
    if not deployed:
        return problems
    if sms_backend == "console" and not sms_console_allowed:
        problems.append(
            ConfigurationProblem(
                "security.E102",
                "SMS_BACKEND=console: confirmations would be marked sent but only written to "
                "the log.",
                "Set SMS_BACKEND=africastalking, or SMS_ALLOW_CONSOLE_BACKEND=true for an "
                "environment that must not send SMS.",
            )
        )
    if delivery_reports and sms_backend == "africastalking":
        if len(delivery_secret) < MIN_DELIVERY_SECRET_CHARS:
            problems.append(
                ConfigurationProblem(
                    "security.E103",
                    "SMS_DELIVERY_REPORT_SECRET is "
                    + ("missing" if not delivery_secret else "too short")
                    + f" (at least {MIN_DELIVERY_SECRET_CHARS} characters): every delivery "
                    "report would be refused and no message would ever show delivered.",
                    "Set SMS_DELIVERY_REPORT_SECRET (e.g. python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'), or SMS_DELIVERY_REPORTS=false.",
                )
            )
        elif delivery_auth == "url" and not _URL_SAFE.fullmatch(delivery_secret):
            problems.append(
                ConfigurationProblem(
                    "security.E104",
                    "SMS_DELIVERY_REPORT_SECRET has characters that do not survive in a URL "
                    "path: the callback URL would never match it.",
                    "Use letters, digits and . _ ~ - only (token_urlsafe), or "
                    "SMS_DELIVERY_REPORT_AUTH=basic.",
                )
            )
    return problems


def settings_problems(settings: Any) -> list[ConfigurationProblem]:
    """:func:`configuration_problems` for a settings object (or module)."""
    return configuration_problems(
        deployed=getattr(settings, "APP_ENVIRONMENT", "local") in DEPLOYED_ENVIRONMENTS,
        debug=bool(getattr(settings, "DEBUG", False)),
        allowed_hosts=list(getattr(settings, "ALLOWED_HOSTS", [])),
        sms_backend=str(getattr(settings, "SMS_BACKEND", "console")),
        sms_console_allowed=bool(getattr(settings, "SMS_ALLOW_CONSOLE_BACKEND", False)),
        delivery_reports=bool(getattr(settings, "SMS_DELIVERY_REPORTS_ENABLED", True)),
        delivery_secret=str(getattr(settings, "SMS_DELIVERY_REPORT_SECRET", "") or ""),
        delivery_auth=str(getattr(settings, "SMS_DELIVERY_REPORT_AUTH", "url")),
    )


@checks.register(CONFIGURATION_TAG)
def deployment_configuration_check(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    from django.conf import settings

    return [
        checks.Error(problem.message, hint=problem.hint, id=problem.id)
        for problem in settings_problems(settings)
    ]
