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
            FROM orders_order GROUP BY customer_id
        ) AS s
        WHERE s.customer_id = customers_customer.id
    """  # noqa: S608  (placeholders only; the values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, excluded)
        return cursor.rowcount
