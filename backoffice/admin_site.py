"""Branding callbacks for the unfold admin."""

from django.conf import settings
from django.http import HttpRequest

_BADGE_COLOURS = {"production": "danger", "staging": "warning", "local": "info"}


def environment_callback(request: HttpRequest) -> list[str]:
    name = settings.APP_ENVIRONMENT
    return [name.capitalize(), _BADGE_COLOURS.get(name, "info")]


def environment_title_prefix_callback(request: HttpRequest) -> str | None:
    name = settings.APP_ENVIRONMENT
    return None if name == "production" else f"[{name}]"
