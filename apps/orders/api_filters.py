"""/v1/orders: the list's filters."""

import django_filters

from apps.api_toolkit.filters import UTCDateTimeFilter
from apps.items.models import Size

from .models import Order, OrderStatus


class OrderFilter(django_filters.FilterSet):
    number = django_filters.NumberFilter(field_name="number", help_text="The order's number.")
    external_reference = django_filters.CharFilter(
        field_name="external_reference", help_text="The sender's own id, exactly."
    )
    customer = django_filters.UUIDFilter(field_name="customer__uuid", help_text="Customer id.")
    item = django_filters.UUIDFilter(field_name="item__uuid", help_text="Item id.")
    size = django_filters.ChoiceFilter(field_name="item__size", choices=Size.choices)
    created_after = UTCDateTimeFilter(
        field_name="date_created", lookup_expr="gte", help_text="ISO 8601, inclusive."
    )
    created_before = UTCDateTimeFilter(
        field_name="date_created", lookup_expr="lt", help_text="ISO 8601, exclusive."
    )
    total_min = django_filters.NumberFilter(field_name="total", lookup_expr="gte")
    total_max = django_filters.NumberFilter(field_name="total", lookup_expr="lte")
    status = django_filters.MultipleChoiceFilter(
        choices=OrderStatus.choices,
        # A column of the order itself: no join, so no duplicate rows to remove. (The filter's
        # default DISTINCT made PostgreSQL sort every matching order before taking a page.)
        distinct=False,
        help_text="One or more statuses (repeat the parameter: `?status=placed&status=confirmed`).",
    )

    class Meta:
        model = Order
        fields: list[str] = []
