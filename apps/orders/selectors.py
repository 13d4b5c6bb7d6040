from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Q, QuerySet, Sum

from apps.core.querying import lookups_q
from apps.core.search_filter import SearchSpec, search_queryset
from apps.customers.models import Customer
from apps.notifications.selectors import sms_latest_status

from .models import Order
from .rules import REVENUE_EXCLUDED

#: What the order searches read (admin list, ``/v1/orders?search=``, the command palette).
ORDER_SEARCH = SearchSpec(
    number="number",
    uuid="uuid",
    phones=("customer__phone_number",),
    words=("customer__first_name", "customer__last_name", "item__name"),
    exact=("external_reference",),
    help_text=(
        "Order number (#100234), the reference texted to the customer (DF703017) or the whole "
        "id, the customer's phone in any form (0722 555 101), words of the customer's or the "
        "item's name, or an external reference."
    ),
)

TOTAL = ExpressionWrapper(
    F("unit_price") * F("quantity"), output_field=DecimalField(max_digits=20, decimal_places=2)
)


def order_list(
    *, filters: Mapping[str, Any] | None = None, with_sms_status: bool = False
) -> QuerySet[Order]:
    """Orders with customer and item joined and ``total`` computed in SQL.

    ``with_sms_status`` adds ``sms_status``, the status of the latest SMS (same query).
    """
    qs = Order.objects.select_related("customer", "item").annotate(total=TOTAL)
    if with_sms_status:
        qs = qs.annotate(sms_status=sms_latest_status())
    if filters:
        qs = qs.filter(**filters)
    return qs


def order_export_list(
    *,
    filters: Mapping[str, Sequence[str]] | None = None,
    search: str = "",
    ordering: Sequence[str] = (),
) -> QuerySet[Order]:
    """The orders an export writes (with ``total``), newest first.

    ``filters``: field lookups to the values any of which must match (a list's filters);
    ``search``: the list's search box, read as the list reads it (``ORDER_SEARCH``);
    ``ordering``: the list's sort. Plain data, so an export job stores them
    (``apps/core/querying.py``).
    """
    qs = order_list().filter(lookups_q(filters or {}))
    qs = search_queryset(qs, ORDER_SEARCH, search)
    return qs.order_by(*ordering) if ordering else qs


def order_get(*, uuid: UUID | str) -> Order | None:
    return order_list().filter(uuid=uuid).first()


@dataclass(frozen=True)
class CustomerOrderSummary:
    orders: int
    cancelled: int
    #: What the customer's orders are worth, cancelled ones left out.
    lifetime_value: Decimal
    last_order_at: datetime | None


def order_summary_for_customer(*, customer: Customer) -> CustomerOrderSummary:
    """Order count, cancelled count, lifetime value (not cancelled) and last order date, in one
    aggregate query over the customer's orders (index on customer, date)."""
    row = Order.objects.filter(customer=customer).aggregate(
        orders=Count("pk"),
        cancelled=Count("pk", filter=Q(status__in=REVENUE_EXCLUDED)),
        value=Sum(TOTAL, filter=~Q(status__in=REVENUE_EXCLUDED)),
        last=Max("date_created"),
    )
    return CustomerOrderSummary(
        orders=row["orders"],
        cancelled=row["cancelled"],
        lifetime_value=Decimal(row["value"] or 0).quantize(Decimal("0.01")),
        last_order_at=row["last"],
    )
