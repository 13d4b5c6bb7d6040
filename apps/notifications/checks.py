"""Configuration checks: a broken SMS template or backend name fails at start-up, not per order,
and ``/readyz`` reports it."""

from typing import Any

from django.conf import settings
from django.core import checks

TEMPLATE_FIELDS = {
    "first_name": "Amina",
    "last_name": "Odhiambo",
    "reference": "1A2B3C4D",
    "item": "Tee (M)",
    "item_name": "Tee",
    "size": "M",
    "quantity": 2,
    "total": "KES 200.00",
    "currency": "KES",
}


# Tagged "configuration" as well: /readyz reports these checks (backoffice/health.py).
@checks.register("configuration")
def sms_settings_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    try:
        settings.SMS_CONFIRMATION_TEMPLATE.format_map(TEMPLATE_FIELDS)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        errors.append(
            checks.Error(
                f"SMS_CONFIRMATION_TEMPLATE cannot be rendered: {exc!r}",
                hint=f"Use only these fields: {', '.join(sorted(TEMPLATE_FIELDS))}.",
                id="notifications.E001",
            )
        )
    if settings.SMS_BACKEND not in ("console", "africastalking"):
        errors.append(
            checks.Error(
                f"SMS_BACKEND={settings.SMS_BACKEND!r} is not console or africastalking.",
                id="notifications.E002",
            )
        )
    if settings.SMS_BACKEND == "africastalking" and not settings.AFRICASTALKING_API_KEY:
        errors.append(
            checks.Error(
                "SMS_BACKEND=africastalking needs AFRICASTALKING_API_KEY.",
                id="notifications.E003",
            )
        )
    if settings.SMS_DELIVERY_REPORT_AUTH not in ("url", "basic"):
        errors.append(
            checks.Error(
                "SMS_DELIVERY_REPORT_AUTH must be 'url' or 'basic'.", id="notifications.E004"
            )
        )
    return errors
