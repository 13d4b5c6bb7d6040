from uuid import UUID

from django.db.models import QuerySet

from apps.core.search_filter import SearchSpec

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
