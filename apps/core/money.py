from decimal import Decimal

from django.conf import settings


def format_money(value: Decimal | int | float | None, currency: str | None = None) -> str:
    """``KES 1,234.50``; the currency comes from the ``CURRENCY`` setting."""
    if value is None:
        return "—"
    return f"{currency or settings.CURRENCY} {Decimal(value):,.2f}"
