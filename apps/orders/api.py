"""/v1/orders: serializers and the viewset (writes through services, reads through selectors)."""

from typing import Any

import django_filters
from django.db.models import CharField, ExpressionWrapper, F, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api_toolkit.conditional import etag
from apps.api_toolkit.fields import UUIDRelatedField
from apps.api_toolkit.filters import UTCDateTimeFilter
from apps.api_toolkit.formats import iso, money
from apps.api_toolkit.schema import crud_schema
from apps.api_toolkit.viewsets import ApiViewSetMixin
from apps.customers.selectors import customer_get
from apps.items.models import Size
from apps.items.selectors import item_get
from apps.notifications.models import SmsStatus
from apps.notifications.selectors import sms_latest_status
from apps.notifications.services import sms_resend

from .models import Order
from .selectors import order_list
from .services import order_create, order_delete, order_update

# PostgreSQL's integer column; larger quantities would fail in the database, not in validation.
MAX_QUANTITY = 2_147_483_647


class OrderCustomerSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    phone_number = serializers.CharField(help_text="E.164.")


class OrderItemSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    size = serializers.ChoiceField(choices=Size.choices)


class OrderOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    customer = OrderCustomerSerializer(read_only=True)
    item = OrderItemSerializer(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    unit_price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        read_only=True,
        help_text="The item's price when the order was created.",
    )
    total = serializers.DecimalField(
        max_digits=20, decimal_places=2, read_only=True, help_text="unit_price x quantity."
    )
    date_created = serializers.DateTimeField(read_only=True)
    date_modified = serializers.DateTimeField(read_only=True)
    sms_status = serializers.ChoiceField(
        choices=SmsStatus.choices,
        allow_null=True,
        read_only=True,
        help_text="Status of the latest SMS confirmation for this order; null if none was sent.",
    )

    def to_representation(self, row: dict[str, Any]) -> dict[str, Any]:
        # ``row`` is a dict from ``order_rows()``: on a page of 50 orders, model instances,
        # phone parsing and the generic field machinery cost more than the query itself.
        return {
            "id": str(row["uuid"]),
            "customer": {
                "id": str(row["customer__uuid"]),
                "first_name": row["customer__first_name"],
                "last_name": row["customer__last_name"],
                "phone_number": row["customer_phone"],
            },
            "item": {
                "id": str(row["item__uuid"]),
                "name": row["item__name"],
                "size": row["item__size"],
            },
            "quantity": row["quantity"],
            "unit_price": money(row["unit_price"]),
            "total": money(row["total"]),
            "date_created": iso(row["date_created"]),
            "date_modified": iso(row["date_modified"]),
            "sms_status": row["sms_status"],
        }


ORDER_ROW_FIELDS = (
    "uuid",
    "customer__uuid",
    "customer__first_name",
    "customer__last_name",
    "item__uuid",
    "item__name",
    "item__size",
    "quantity",
    "unit_price",
    "total",
    "date_created",
    "date_modified",
    "sms_status",
    # ordering keys the cursor reads from each row
    "customer_last_name",
    "item_name",
)


# What an order's ETag covers besides its own version: the embedded customer and item summaries
# and the SMS status (``order_etag``). Read for single orders only, not for list pages.
ORDER_VERSION_FIELDS = ("version", "customer__version", "item__version")


def order_rows(queryset: QuerySet[Order], *, versions: bool = False) -> QuerySet:
    """The API's view of ``queryset`` as dicts, for ``OrderOutputSerializer``."""
    return queryset.values(
        *ORDER_ROW_FIELDS,
        *(ORDER_VERSION_FIELDS if versions else ()),
        # Stored in E.164 (a check constraint holds it); read as text, not re-parsed per row.
        customer_phone=ExpressionWrapper(F("customer__phone_number"), output_field=CharField()),
    )


def order_etag(order: Order | dict[str, Any]) -> str:
    """The order's entity tag: its version, and what else its body shows that may change."""
    if isinstance(order, dict):
        return etag(
            order["version"],
            order["customer__version"],
            order["item__version"],
            order["sms_status"],
        )
    return etag(
        order.version,
        order.customer.version,
        order.item.version,
        getattr(order, "sms_status", None),
    )


class OrderCreateInputSerializer(serializers.Serializer):
    customer = UUIDRelatedField(
        getter=customer_get, model_name="customer", help_text="Customer id."
    )
    item = UUIDRelatedField(getter=item_get, model_name="item", help_text="Item id.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class OrderUpdateInputSerializer(OrderCreateInputSerializer):
    """Every field optional. Changing the item re-copies its price; quantity alone keeps it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


class OrderFilter(django_filters.FilterSet):
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

    class Meta:
        model = Order
        fields: list[str] = []


class ResendSmsOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The new SMS message.")
    status = serializers.CharField()
    phone = serializers.CharField()


@crud_schema(
    plural="orders",
    singular="an order",
    output=OrderOutputSerializer,
    create_input=OrderCreateInputSerializer,
    update_input=OrderUpdateInputSerializer,
    create_summary="Create an order (copies the item's price)",
)
class OrderViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """Orders with their customer and item embedded; `total` = `unit_price` times `quantity`."""

    filterset_class = OrderFilter
    search_fields = [
        "customer__first_name",
        "customer__last_name",
        "customer__phone_number",
        "item__name",
    ]
    ordering_fields = [
        "date_created",
        "date_modified",
        "total",
        "quantity",
        "unit_price",
        "customer_last_name",
        "item_name",
    ]
    ordering = "-date_created"
    output_serializer = OrderOutputSerializer
    create_serializer = OrderCreateInputSerializer
    update_serializer = OrderUpdateInputSerializer

    def get_queryset(self) -> QuerySet[Order]:
        # Names are exposed as plain columns so the cursor can key on them; the latest SMS
        # status is a correlated subquery, evaluated for the page of rows only.
        return order_list().annotate(
            customer_last_name=F("customer__last_name"),
            item_name=F("item__name"),
            sms_status=sms_latest_status(),
        )

    def rows(self, queryset: QuerySet[Order]) -> QuerySet:
        return order_rows(queryset)

    def _fetch(self, order: Order) -> dict[str, Any]:
        """The order as lists show it (annotations included), after a write."""
        return order_rows(self.get_queryset(), versions=True).get(pk=order.pk)

    def object_version(self, obj: Order | dict[str, Any]) -> int:
        return obj["version"] if isinstance(obj, dict) else obj.version

    def object_etag(self, obj: Order | dict[str, Any]) -> str:
        return order_etag(obj)

    def object_data(self, obj: Order | dict[str, Any]) -> Any:
        return self.output_serializer(obj if isinstance(obj, dict) else self._fetch(obj)).data

    def current_object(self) -> dict[str, Any]:
        return get_object_or_404(
            order_rows(self.get_queryset(), versions=True), uuid=self.kwargs["id"]
        )

    def list(self, request: Request) -> Response:
        return self.list_response(request)

    def retrieve(self, request: Request, id: str) -> Response:
        return self.retrieve_response(request, self.current_object())

    def create(self, request: Request) -> Response:
        data = self.validated(self.create_serializer, request)
        order = order_create(
            customer=data["customer"],
            item=data["item"],
            quantity=data["quantity"],
            actor=request.user,
        )
        return self.created_response(self._fetch(order), uuid=order.uuid)

    def partial_update(self, request: Request, id: str) -> Response:
        order = self.get_object()
        expected = self.expected_version(request, order)
        data = self.validated(self.update_serializer, request)
        order = order_update(order=order, data=data, actor=request.user, expected_version=expected)
        return self.object_response(self._fetch(order))

    def destroy(self, request: Request, id: str) -> Response:
        order = self.get_object()
        expected = self.expected_version(request, order)
        order_delete(order=order, actor=request.user, expected_version=expected)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={202: ResendSmsOutputSerializer},
        description=(
            "Queue a new SMS confirmation for the order (needs `orders.view_order` and "
            "`notifications.resend_sms`). 429 with `Retry-After` when a cost cap is reached: "
            "`SMS_RESEND_MAX_PER_ORDER_PER_DAY` resends per order, `SMS_MAX_PER_HOUR` in all."
        ),
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="resend-sms",
        permission_classes=[permissions.IsAuthenticated],
    )
    def resend_sms(self, request: Request, id: str) -> Response:
        if not (
            request.user.has_perm("orders.view_order")
            and request.user.has_perm("notifications.resend_sms")
        ):
            raise exceptions.PermissionDenied("You may not resend SMS confirmations.")
        message = sms_resend(order=self.get_object(), actor=request.user)
        return Response(
            ResendSmsOutputSerializer(
                {"id": message.uuid, "status": message.status, "phone": message.phone}
            ).data,
            status=status.HTTP_202_ACCEPTED,
        )
