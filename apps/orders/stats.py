"""The customers' order figures (count, lifetime value, last order), kept by every order write."""

from collections.abc import Iterable
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from apps.customers.services import customer_order_stats_update

from .models import Order
from .rules import REVENUE_EXCLUDED
from .selectors import TOTAL

#: Above this many customers, one grouped pass over their orders refreshes them (an import).
MANY_CUSTOMERS = 200
#: Customers per grouped statement (SQLite takes at most 32,766 parameters).
GROUPED_CHUNK = 5_000


def customer_order_stats_refresh(*, customer_ids: Iterable[int]) -> None:
    """Recompute the customers' order count, lifetime value (cancelled orders left out) and
    last order date from their orders, in the caller's transaction: one ``UPDATE`` with three
    correlated aggregates (index on customer, date).

    Every order write calls it after locking the customers (``customer_lock``): a second writer
    of the same customer waits, then counts the first one's order too, so the columns stay exact
    under concurrency.
    """
    ids = sorted(set(customer_ids))
    if not ids:
        return
    if len(ids) > MANY_CUSTOMERS:
        # An import's thousands of customers: one pass over their orders, grouped, instead of
        # three correlated aggregates per customer.
        for start in range(0, len(ids), GROUPED_CHUNK):
            _refresh_grouped(ids[start : start + GROUPED_CHUNK])
        return
    theirs = Order.objects.filter(customer=OuterRef("pk")).order_by().values("customer")
    customer_order_stats_update(
        customer_ids=ids,
        orders_count=Coalesce(
            Subquery(theirs.annotate(n=Count("pk")).values("n")), 0, output_field=IntegerField()
        ),
        lifetime_value=Coalesce(
            Subquery(
                theirs.filter(~Q(status__in=REVENUE_EXCLUDED)).annotate(v=Sum(TOTAL)).values("v")
            ),
            Value(Decimal("0")),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
        last_order_at=Subquery(theirs.annotate(m=Max("date_created")).values("m")),
    )


def customer_order_stats_rebuild() -> int:
    """Recompute every customer's figures in one statement (after rows were written without
    the services, e.g. synthetic benchmark data); returns how many customers have orders."""
    return _grouped_update("")


def _refresh_grouped(ids: list[int]) -> None:
    """The figures of the customers ``ids`` from one grouped pass over their orders; those left
    without an order get zero (their orders moved to another customer)."""
    marks = ", ".join(["%s"] * len(ids))
    _grouped_update(f"WHERE customer_id IN ({marks})", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_customer SET orders_count = 0, lifetime_value = 0, "  # noqa: S608
            f"last_order_at = NULL WHERE id IN ({marks}) AND NOT EXISTS "
            "(SELECT 1 FROM orders_order WHERE customer_id = customers_customer.id)",
            ids,
        )


def _grouped_update(where: str, params: list[int] | None = None) -> int:
    excluded = sorted(REVENUE_EXCLUDED)
    placeholders = ", ".join(["%s"] * len(excluded))
    sql = f"""
        UPDATE customers_customer SET
            orders_count = s.n, lifetime_value = s.value, last_order_at = s.last
        FROM (
            SELECT customer_id, count(*) AS n,
                   coalesce(sum(CASE WHEN status NOT IN ({placeholders})
                                THEN unit_price * quantity END), 0) AS value,
                   max(date_created) AS last
            FROM orders_order {where} GROUP BY customer_id
        ) AS s
        WHERE s.customer_id = customers_customer.id
    """  # noqa: S608  (placeholders and a fixed filter only; the values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*excluded, *(params or [])])
        return cursor.rowcount
