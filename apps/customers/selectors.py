from uuid import UUID

from django.db.models import QuerySet

from .models import Customer


def customer_list() -> QuerySet[Customer]:
    """Customers with their order figures (stored columns: ``orders_count``,
    ``lifetime_value``, ``last_order_at``; sortable through their indexes)."""
    return Customer.objects.all()


def customer_get(*, uuid: UUID | str) -> Customer | None:
    return Customer.objects.filter(uuid=uuid).first()
