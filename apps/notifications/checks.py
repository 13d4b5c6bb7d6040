"""Configuration checks of the SMS backend: a broken backend name or missing credentials fail at
start-up, and ``/readyz`` reports them. (The texts' templates are the orders app's:
``apps/orders/checks.py``.)"""

from typing import Any

from django.conf import settings
from django.core import checks


# Tagged "configuration" as well: /readyz reports these checks (backoffice/health.py).
@checks.register("configuration")
def sms_settings_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
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
