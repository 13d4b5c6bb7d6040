from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from apps.core.querying import lookups_q, search_q

from .models import Customer


def customer_list(*, with_order_count: bool = False) -> QuerySet[Customer]:
    qs = Customer.objects.all()
    if with_order_count:
        from apps.orders.models import Order

        # A correlated subquery (index on orders.customer_id) is evaluated only for the page
        # of rows shown, unlike a JOIN + GROUP BY over the whole orders table.
        counts = (
            Order.objects.filter(customer=OuterRef("pk"))
            .order_by()
            .values("customer")
            .annotate(n=Count("pk"))
            .values("n")
        )
        qs = qs.annotate(order_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0))
    return qs


def customer_get(*, uuid: UUID | str) -> Customer | None:
    return Customer.objects.filter(uuid=uuid).first()


@dataclass(frozen=True)
class CustomerOrderSummary:
    orders: int
    cancelled: int
    #: What the customer's orders are worth, cancelled ones left out.
    lifetime_value: Decimal
    last_order_at: datetime | None


def customer_order_summary(*, customer: Customer) -> CustomerOrderSummary:
    """Order count, cancelled count, lifetime value (not cancelled) and last order date, in one
    aggregate query over the customer's orders (index on customer, date)."""
    from apps.orders.models import Order, OrderStatus

    row = Order.objects.filter(customer=customer).aggregate(
        orders=Count("pk"),
        cancelled=Count("pk", filter=Q(status=OrderStatus.CANCELLED)),
        value=Sum(
            F("unit_price") * F("quantity"),
            filter=~Q(status=OrderStatus.CANCELLED),
            output_field=DecimalField(max_digits=20, decimal_places=2),
        ),
        last=Max("date_created"),
    )
    return CustomerOrderSummary(
        orders=row["orders"],
        cancelled=row["cancelled"],
        lifetime_value=Decimal(row["value"] or 0).quantize(Decimal("0.01")),
        last_order_at=row["last"],
    )


def customer_export_list(
    *,
    filters: Mapping[str, Sequence[str]] | None = None,
    search: str = "",
    search_fields: Sequence[str] = (),
    ordering: Sequence[str] = (),
) -> QuerySet[Customer]:
    """The customers an export writes, in the list's order.

    ``filters``: field lookups to the values any of which must match (a list's filters);
    ``search``: words each found in one of ``search_fields`` (a list's search box);
    ``ordering``: the list's sort. Plain data, so an export job stores them
    (``apps/core/querying.py``).
    """
    qs = customer_list().filter(lookups_q(filters or {}))
    if search and search_fields:
        qs = qs.filter(search_q(search, search_fields))
    return qs.order_by(*ordering) if ordering else qs
