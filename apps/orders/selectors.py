from collections.abc import Mapping
from typing import Any
from uuid import UUID

from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet

from apps.notifications.selectors import sms_latest_status

from .models import Order

TOTAL = ExpressionWrapper(
    F("unit_price") * F("quantity"), output_field=DecimalField(max_digits=20, decimal_places=2)
)


def order_list(
    *, filters: Mapping[str, Any] | None = None, with_sms_status: bool = False
) -> QuerySet[Order]:
    """Orders with customer and item joined and ``total`` computed in SQL.

    ``with_sms_status`` adds ``sms_status``, the status of the latest SMS (same query).
    """
    qs = Order.objects.select_related("customer", "item").annotate(total=TOTAL)
    if with_sms_status:
        qs = qs.annotate(sms_status=sms_latest_status())
    if filters:
        qs = qs.filter(**filters)
    return qs


def order_get(*, uuid: UUID | str) -> Order | None:
    return order_list().filter(uuid=uuid).first()
