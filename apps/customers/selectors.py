from uuid import UUID

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

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
