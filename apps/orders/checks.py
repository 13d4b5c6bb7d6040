"""Configuration checks of the order SMS: a broken template or notify list fails at start-up,
not per order, and ``/readyz`` reports it."""

from typing import Any

from django.conf import settings
from django.core import checks

from .models import OrderStatus
from .sms import TEMPLATE_EXAMPLE


def _render_error(variable: str, template: str, check_id: str) -> checks.CheckMessage | None:
    try:
        template.format_map(TEMPLATE_EXAMPLE)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        return checks.Error(
            f"{variable} cannot be rendered: {exc!r}",
            hint=f"Use only these fields: {', '.join(sorted(TEMPLATE_EXAMPLE))}.",
            id=check_id,
        )
    return None


# Tagged "configuration" as well: /readyz reports these checks (backoffice/health.py).
@checks.register("configuration")
def order_sms_settings_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    confirmation = _render_error(
        "SMS_CONFIRMATION_TEMPLATE", str(settings.SMS_CONFIRMATION_TEMPLATE), "orders.E001"
    )
    if confirmation is not None:
        errors.append(confirmation)
    unknown = [s for s in settings.SMS_NOTIFY_STATUSES if s not in OrderStatus.values]
    if unknown:
        errors.append(
            checks.Error(
                f"SMS_NOTIFY_STATUSES names unknown statuses: {', '.join(unknown)}.",
                hint=f"Use some of: {', '.join(OrderStatus.values)}.",
                id="orders.E005",
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
                        id="orders.E006",
                    )
                )
            continue
        error = _render_error(variable, template, "orders.E007")
        if error is not None:
            errors.append(error)
    return errors
