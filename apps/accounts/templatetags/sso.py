from typing import Any

from django import template

from apps.accounts.sso import sso_login_options

register = template.Library()


@register.simple_tag
def sso_options() -> dict[str, Any]:
    return sso_login_options()
