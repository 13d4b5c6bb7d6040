from collections.abc import Mapping, Sequence
from uuid import UUID

from django.db.models import QuerySet

from apps.core.querying import lookups_q, search_q

from .models import Customer


def customer_list() -> QuerySet[Customer]:
    """Customers with their order figures (stored columns: ``orders_count``,
    ``lifetime_value``, ``last_order_at``; sortable through their indexes)."""
    return Customer.objects.all()


def customer_get(*, uuid: UUID | str) -> Customer | None:
    return Customer.objects.filter(uuid=uuid).first()


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
