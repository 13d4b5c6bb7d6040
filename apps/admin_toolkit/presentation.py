"""How the admin shows money and times: one helper each, so every page reads alike.

Money never wraps between the currency and the amount (``money_html``); times use the one
configured format (``core.dates``). The template filters ``when`` and ``money`` (``{% load
presentation %}``) are the same functions for templates.
"""

from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.money import format_money


def money_html(value: Decimal | int | float | None) -> SafeString:
    """``KES 2,400.00`` on one line whatever the column's width."""
    return format_html('<span class="whitespace-nowrap">{}</span>', format_money(value))
