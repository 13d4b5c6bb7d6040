"""Configuration checks: a broken SMS template, notify list or backend name fails at start-up,
not per order, and ``/readyz`` reports it."""

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
    errors.extend(_status_template_errors())
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


def _status_template_errors() -> list[checks.CheckMessage]:
    from apps.orders.models import OrderStatus

    errors: list[checks.CheckMessage] = []
    unknown = [s for s in settings.SMS_NOTIFY_STATUSES if s not in OrderStatus.values]
    if unknown:
        errors.append(
            checks.Error(
                f"SMS_NOTIFY_STATUSES names unknown statuses: {', '.join(unknown)}.",
                hint=f"Use some of: {', '.join(OrderStatus.values)}.",
                id="notifications.E005",
            )
        )
    templates = settings.SMS_STATUS_TEMPLATES
    for status in OrderStatus.values:
        if status == OrderStatus.PLACED:
            continue  # SMS_CONFIRMATION_TEMPLATE, checked above
        variable = f"SMS_TEMPLATE_{status.upper()}"
        template = templates.get(status)
        if not isinstance(template, str) or not template.strip():
            if status in settings.SMS_NOTIFY_STATUSES:
                errors.append(
                    checks.Error(
                        f"{variable} is empty but SMS_NOTIFY_STATUSES includes {status}.",
                        id="notifications.E006",
                    )
                )
            continue
        try:
            template.format_map(TEMPLATE_FIELDS)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            errors.append(
                checks.Error(
                    f"{variable} cannot be rendered: {exc!r}",
                    hint=f"Use only these fields: {', '.join(sorted(TEMPLATE_FIELDS))}.",
                    id="notifications.E007",
                )
            )
    return errors
