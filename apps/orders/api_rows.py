"""The API's view of orders as rows (dicts, not model instances: on a page of 50 orders,
instances, phone parsing and the generic field machinery cost more than the query) and their
entity tags."""

from typing import Any

from django.db.models import CharField, ExpressionWrapper, F, QuerySet
from django.db.models.functions import Coalesce

from apps.api_toolkit.conditional import etag

from .models import Order

ORDER_ROW_FIELDS = (
    "uuid",
    "number",
    "external_reference",
    "customer__uuid",
    "customer__first_name",
    "customer__last_name",
    "item__uuid",
    "item__name",
    "item__size",
    "quantity",
    "unit_price",
    "total",
    "status",
    "date_created",
    "date_modified",
    "sms_status",
    # ordering keys the cursor reads from each row
    "customer_last_name",
    "item_name",
)


# What an order's ETag covers besides its own version: the embedded customer and item summaries
# and the SMS status (``order_etag``). Read for single orders only, not for list pages.
ORDER_VERSION_FIELDS = ("version", "customer__version", "item__version")


def order_rows(queryset: QuerySet[Order], *, versions: bool = False) -> QuerySet:
    """The API's view of ``queryset`` as dicts, for ``OrderOutputSerializer``."""
    return queryset.values(
        *ORDER_ROW_FIELDS,
        *(ORDER_VERSION_FIELDS if versions else ()),
        # Stored in E.164 (a check constraint holds it); read as text, not re-parsed per row.
        customer_phone=ExpressionWrapper(F("customer__phone_number"), output_field=CharField()),
        # Empty until the order first moves: it has been in its status since it was created.
        status_since=Coalesce("status_changed_at", "date_created"),
    )


def order_etag(order: Order | dict[str, Any]) -> str:
    """The order's entity tag: its version, and what else its body shows that may change."""
    if isinstance(order, dict):
        return etag(
            order["version"],
            order["customer__version"],
            order["item__version"],
            order["sms_status"],
        )
    return etag(
        order.version,
        order.customer.version,
        order.item.version,
        getattr(order, "sms_status", None),
    )
