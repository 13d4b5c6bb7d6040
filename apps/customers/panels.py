"""Panels that apps above this one add to the customer's page.

The customers app knows nothing of orders; the orders app adds the customer's order figures,
latest orders and timeline by registering a panel in its ``AppConfig.ready()``::

    customer_panel_register(CustomerPanel(template="admin/orders/customer_orders_panel.html",
                                          context=orders_panel_context))

``context(request, customer)`` returns what the template shows, or ``None`` to show nothing
(the user may not see orders).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from .models import Customer


@dataclass(frozen=True)
class CustomerPanel:
    template: str
    context: Callable[[HttpRequest, Customer], dict[str, Any] | None]


_panels: list[CustomerPanel] = []


def customer_panel_register(panel: CustomerPanel) -> None:
    if panel not in _panels:
        _panels.append(panel)


def customer_panels(request: HttpRequest, customer: Customer) -> list[tuple[str, dict[str, Any]]]:
    """The panels to show on ``customer``'s page: (template, its context), in registration
    order."""
    shown = []
    for panel in _panels:
        context = panel.context(request, customer)
        if context is not None:
            shown.append((panel.template, context))
    return shown
