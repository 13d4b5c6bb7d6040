"""The customer page's orders panel: figures, latest orders and the timeline across their
orders (registered with ``customers.panels`` in ``OrdersConfig.ready``)."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from apps.admin_toolkit.presentation import money_html
from apps.customers.models import Customer
from apps.customers.panels import CustomerPanel

from .admin_moves import STATUS_COLOURS
from .admin_timeline import TIMELINE_PAGE_SIZE, timeline_cursor_from, timeline_page_context
from .selectors import order_list, order_summary_for_customer
from .timeline import customer_timeline

LATEST_ORDERS = 20


def orders_panel_context(request: HttpRequest, customer: Customer) -> dict[str, Any] | None:
    if not request.user.has_perm("orders.view_order"):
        return None
    summary = order_summary_for_customer(customer=customer)
    latest = order_list(filters={"customer": customer}).order_by("-date_created", "-id")[
        :LATEST_ORDERS
    ]
    cursor, backwards = timeline_cursor_from(request)
    page = customer_timeline(
        customer=customer, page_size=TIMELINE_PAGE_SIZE, cursor=cursor, reverse=backwards
    )
    base = reverse("admin:customers_customer_change", args=[customer.pk])
    return {
        "order_summary": summary,
        "lifetime_value": money_html(summary.lifetime_value),
        "latest_orders": [
            {
                "order": o,
                "url": reverse("admin:orders_order_change", args=[o.pk]),
                "colour": STATUS_COLOURS.get(o.status, ""),
                "total": money_html(o.total),  # type: ignore[attr-defined]  # annotated by order_list
            }
            for o in latest
        ],
        "orders_url": reverse("admin:orders_order_changelist")
        + f"?customer__id__exact={customer.pk}",
        **timeline_page_context(base, page),
    }


ORDERS_PANEL = CustomerPanel(
    template="admin/orders/customer_orders_panel.html", context=orders_panel_context
)
