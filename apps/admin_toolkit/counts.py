"""Counting what a filtered list shows without counting the whole table.

``bounded_count(queryset, bound=10_000)`` counts at most ``bound + 1`` rows (``SELECT count(*)
FROM (SELECT 1 … LIMIT bound + 1)``): exact up to the bound, "more than <bound>" beyond it, so a
list over ten million orders never runs a full ``COUNT(*)`` on a page view. The selection and
the list's figures use it alike; :func:`bounded_count_and_sum` adds the sum of a column (the
orders' total) to the same query, and gives no sum beyond the bound.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Expression, F, QuerySet, Sum

DEFAULT_BOUND = 10_000


@dataclass(frozen=True)
class BoundedCount:
    #: The number of rows, or ``bound`` when there are more.
    value: int
    #: Whether ``value`` is the exact number (there are no more than ``bound`` rows).
    exact: bool
    bound: int

    def __str__(self) -> str:
        return f"{self.value:,}" if self.exact else f"more than {self.bound:,}"


def bounded_count(queryset: QuerySet, bound: int = DEFAULT_BOUND) -> BoundedCount:
    n = queryset.order_by()[: bound + 1].count()
    return BoundedCount(value=min(n, bound), exact=n <= bound, bound=bound)


@dataclass(frozen=True)
class BoundedTotal:
    count: BoundedCount
    #: The sum over the rows counted when they are all there (``count.exact``); ``None`` beyond
    #: the bound: a sum of the first rows would pass for the sum of them all.
    total: Decimal | None


def bounded_count_and_sum(
    queryset: QuerySet, *, sum_of: str | Expression, bound: int = DEFAULT_BOUND
) -> BoundedTotal:
    """The rows' count, as :func:`bounded_count` counts it, and the sum of ``sum_of`` (an
    annotation's name or an expression) over them when there are no more than ``bound``: one
    query, ``SELECT count(*), sum(x) FROM (SELECT x … LIMIT bound + 1)``."""
    value = F(sum_of) if isinstance(sum_of, str) else sum_of
    rows = queryset.order_by().annotate(_summed=value).values("_summed")[: bound + 1]
    figures = rows.aggregate(n=Count("*"), total=Sum("_summed"))
    n = figures["n"]
    count = BoundedCount(value=min(n, bound), exact=n <= bound, bound=bound)
    total = Decimal(figures["total"] or 0) if count.exact else None
    return BoundedTotal(count=count, total=total)
