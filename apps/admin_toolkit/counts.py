"""Counting what a filtered list shows without counting the whole table.

``bounded_count(queryset, bound=10_000)`` counts at most ``bound + 1`` rows (``SELECT count(*)
FROM (SELECT 1 … LIMIT bound + 1)``): exact up to the bound, "more than <bound>" beyond it, so a
list over ten million orders never runs a full ``COUNT(*)`` on a page view. The selection and
the list's figures use it alike.
"""

from dataclasses import dataclass

from django.db.models import QuerySet

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
