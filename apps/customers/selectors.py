from collections.abc import Mapping, Sequence
from uuid import UUID

from django.db.models import QuerySet

from apps.core.querying import lookups_q
from apps.core.search_filter import SearchSpec, search_queryset

from .models import Customer

#: What the customer searches read (admin list, the order form's customer picker,
#: ``/v1/customers?search=``, the command palette).
CUSTOMER_SEARCH = SearchSpec(
    uuid="uuid",
    phones=("phone_number",),
    words=("first_name", "last_name"),
    help_text="Words of the name, the phone in any form (0722 555 101, +254 722…) or the id.",
)


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
    ordering: Sequence[str] = (),
) -> QuerySet[Customer]:
    """The customers an export writes, in the list's order.

    ``filters``: field lookups to the values any of which must match (a list's filters);
    ``search``: the list's search box, read as the list reads it (``CUSTOMER_SEARCH``);
    ``ordering``: the list's sort. Plain data, so an export job stores them
    (``apps/core/querying.py``).
    """
    qs = customer_list().filter(lookups_q(filters or {}))
    qs = search_queryset(qs, CUSTOMER_SEARCH, search)
    return qs.order_by(*ordering) if ordering else qs
