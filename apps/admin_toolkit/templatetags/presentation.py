"""``{{ value|when }}`` (the one date and time format) and ``{{ amount|money }}`` (never wraps)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils.safestring import SafeString

from apps.core.dates import format_date, format_datetime

from ..breadcrumbs import breadcrumb_parts
from ..presentation import money_html

register = template.Library()


@register.filter
def when(value: dt.datetime | dt.date | None) -> str:
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    return format_date(value or None)


@register.filter
def money(value: Decimal | int | float | None) -> SafeString:
    return money_html(value)


@register.inclusion_tag("unfold/helpers/header_title.html", takes_context=True)
def page_breadcrumbs(context: template.Context) -> dict[str, Any]:
    """The header trail of a model's admin page (``admin_toolkit.breadcrumbs``)."""
    return {"parts": breadcrumb_parts(context)}
