"""Panels that apps above this one add to the customer's page.

The customers app knows nothing of orders; the orders app adds the customer's order figures,
latest orders and timeline by registering a panel in its ``AppConfig.ready()``::

    customer_panel_register(CustomerPanel(template="admin/orders/customer_orders_panel.html",
                                          context=orders_panel_context))

``context(request, customer)`` returns what the template shows, or ``None`` to show nothing
(the user may not see orders). A panel whose timeline shows the customer's internal notes says
so (``shows_notes``); without one, the customer page lists the latest notes itself.
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
    #: Whether the panel shows the customer's notes (``CustomerNote``), e.g. in a timeline.
    shows_notes: bool = False


@dataclass(frozen=True)
class ShownPanel:
    template: str
    context: dict[str, Any]
    shows_notes: bool


_panels: list[CustomerPanel] = []


def customer_panel_register(panel: CustomerPanel) -> None:
    if panel not in _panels:
        _panels.append(panel)


def customer_panels(request: HttpRequest, customer: Customer) -> list[ShownPanel]:
    """The panels to show on ``customer``'s page, with their context, in registration order."""
    shown = []
    for panel in _panels:
        context = panel.context(request, customer)
        if context is not None:
            shown.append(ShownPanel(panel.template, context, panel.shows_notes))
    return shown
