from collections.abc import Mapping
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet

from .models import Order

TOTAL = ExpressionWrapper(
    F("unit_price") * F("quantity"), output_field=DecimalField(max_digits=20, decimal_places=2)
)


def order_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Order]:
    """Orders with customer and item joined and ``total`` computed in SQL."""
    qs = Order.objects.select_related("customer", "item").annotate(total=TOTAL)
    if filters:
        qs = qs.filter(**filters)
    return qs


def order_get(*, uuid: object) -> Order | None:
    return order_list().filter(uuid=uuid).first()
