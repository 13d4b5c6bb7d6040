"""System checks: an SSO configuration that cannot work is refused at start-up, not at login."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from apps.api_toolkit.throttling import rate_problem

from .services import parse_group_map


@register()
def sso_settings_check(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if not settings.OIDC_ISSUER:
        return []
    problems: list[Any] = []
    for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"):
        if not getattr(settings, name):
            problems.append(Error(f"OIDC_ISSUER is set but {name} is empty.", id="accounts.E001"))
    try:
        parse_group_map(settings.OIDC_GROUP_MAP)
    except ValueError as exc:
        problems.append(Error(str(exc), id="accounts.E002"))
    if settings.OIDC_UNKNOWN_TOKEN_RATE:
        problem = rate_problem(settings.OIDC_UNKNOWN_TOKEN_RATE)
        if problem is not None:
            problems.append(Error(f"OIDC_UNKNOWN_TOKEN_RATE: {problem}.", id="accounts.E003"))
    if not settings.DEBUG and not settings.OIDC_ISSUER.startswith("https://"):
        problems.append(
            Warning(
                "OIDC_ISSUER is not an https:// URL: tokens and keys would travel in clear.",
                id="accounts.W001",
            )
        )
    if not settings.OIDC_STAFF_GROUPS and not settings.OIDC_SUPERUSER_GROUPS:
        problems.append(
            Warning(
                "SSO is on but OIDC_STAFF_GROUPS and OIDC_SUPERUSER_GROUPS are empty: "
                "nobody signing in by SSO can enter the admin.",
                id="accounts.W002",
            )
        )
    return problems


@register()
def sign_in_age_check(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if settings.SIGN_IN_MAX_AGE_SECONDS < 300:
        return [
            Error(
                "SIGN_IN_MAX_AGE_SECONDS is under 300: people would be signed out while they work.",
                id="accounts.E004",
            )
        ]
    return []
