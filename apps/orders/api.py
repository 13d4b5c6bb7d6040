"""/v1/orders: serializers and the viewset (writes through services, reads through selectors)."""

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import CharField, ExpressionWrapper, F, QuerySet
from django.db.models.functions import Coalesce
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from apps.api_toolkit.conditional import etag
from apps.api_toolkit.errors import error_body
from apps.api_toolkit.fields import UUIDRelatedField
from apps.api_toolkit.filters import UTCDateTimeFilter
from apps.api_toolkit.formats import iso, money
from apps.api_toolkit.pagination import KeysetCursorPagination
from apps.api_toolkit.schema import ErrorSerializer, crud_schema
from apps.api_toolkit.viewsets import ApiViewSetMixin
from apps.core.text import validate_multiline_text
from apps.customers.selectors import customer_get
from apps.items.models import Size
from apps.items.selectors import item_get
from apps.notifications.models import SmsStatus
from apps.notifications.selectors import sms_latest_status
from apps.notifications.services import sms_resend

from .models import Order, OrderStatus
from .rules import TRANSITION_PERMISSIONS, InvalidTransitionError
from .selectors import order_list
from .services import order_create, order_delete, order_transition, order_update
from .timeline import (
    InvalidCursorError,
    TimelineEntry,
    order_timeline,
    timeline_cursor_decode,
    timeline_cursor_encode,
    timeline_jsonable,
)

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
    status = serializers.ChoiceField(
        choices=OrderStatus.choices,
        read_only=True,
        help_text="placed → confirmed → dispatched → delivered, or cancelled (from placed or "
        "confirmed). Changed only through `POST /v1/orders/{id}/transitions`.",
    )
    status_changed_at = serializers.DateTimeField(
        read_only=True,
        help_text="When the order entered its current status (its creation time while placed).",
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
            "status": row["status"],
            "status_changed_at": iso(row["status_since"]),
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
    "status",
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
        # Empty until the order first moves: it has been in its status since it was created.
        status_since=Coalesce("status_changed_at", "date_created"),
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


STATUS_READ_ONLY = (
    "The status is not changed by PATCH: POST /v1/orders/{id}/transitions with "
    '{"to": "<status>"} (and "reason" to cancel).'
)


class OrderUpdateInputSerializer(OrderCreateInputSerializer):
    """Every field optional. Changing the item re-copies its price; quantity alone keeps it.

    A dispatched, delivered or cancelled order keeps its customer, item and quantity (409
    `order_locked`). `status` is refused here (400): moves go through the transitions endpoint.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if isinstance(self.initial_data, dict) and (
            "status" in self.initial_data or "status_changed_at" in self.initial_data
        ):
            field = "status" if "status" in self.initial_data else "status_changed_at"
            raise serializers.ValidationError({field: [STATUS_READ_ONLY]})
        return attrs


class OrderTransitionInputSerializer(serializers.Serializer):
    to = serializers.ChoiceField(
        choices=OrderStatus.choices, help_text="The status to move the order to."
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        validators=[validate_multiline_text],
        help_text="Why; required to cancel. Recorded on the order's timeline, never sent to the "
        "customer.",
    )


class TransitionConflictSerializer(ErrorSerializer):
    """409 `invalid_transition`: the order's status does not allow the move."""

    code = serializers.CharField(help_text="`invalid_transition`.")
    current = serializers.ChoiceField(
        choices=OrderStatus.choices, help_text="The order's status now."
    )
    allowed = serializers.ListField(
        child=serializers.ChoiceField(choices=OrderStatus.choices),
        help_text="The statuses this order may move to (empty once delivered or cancelled).",
    )


class OrderEventSerializer(serializers.Serializer):
    """One line of the order's timeline."""

    id = serializers.CharField(help_text="Stable id of the entry (also its place in the order).")
    kind = serializers.ChoiceField(
        choices=["created", "status", "note", "change", "sms"],
        help_text="`created` (with its path), `status` (a move, with its reason), `note` "
        "(internal), `change` (customer, item, quantity or price), `sms` (a message and its "
        "current status).",
    )
    at = serializers.DateTimeField()
    actor = serializers.CharField(
        allow_null=True, help_text="User name of who did it; null for the system."
    )
    path = serializers.CharField(
        help_text="Through which path: `admin`, `api`, `import: <file>`, `system`; empty for SMS."
    )
    summary = serializers.CharField(help_text="One line for people.")
    details = serializers.DictField(
        help_text="Per kind: `created` {path}; `status` {from, to, reason}; `note` {text}; "
        "`change` {changes: [{field, from, to}], path}; `sms` {id, kind, status, phone, text, "
        "attempts, sent_at, delivered_at, provider_status_code, error}."
    )

    def to_representation(self, entry: TimelineEntry) -> dict[str, Any]:
        return {
            "id": entry.key,
            "kind": entry.kind,
            "at": iso(entry.at),
            "actor": entry.actor,
            "path": entry.channel,
            "summary": entry.summary,
            "details": timeline_jsonable(entry.details),
        }


class TimelinePagination(KeysetCursorPagination):
    """The toolkit's cursor paging (same parameters, links and body) over the merged timeline,
    which is not one queryset: the cursor holds the last entry's time and key."""

    invalid_cursor_message = "Invalid cursor."

    def paginate_timeline(self, request: Request, order: Order) -> list[TimelineEntry]:
        self.request = request
        self.base_url = request.build_absolute_uri()
        size = self.get_page_size(request)
        token = request.query_params.get(self.cursor_query_param)
        cursor, reverse = None, False
        if token:
            try:
                cursor, reverse = timeline_cursor_decode(token)
            except InvalidCursorError:
                raise exceptions.ValidationError(
                    {self.cursor_query_param: [self.invalid_cursor_message]}
                ) from None
        page = order_timeline(order=order, page_size=size, cursor=cursor, reverse=reverse)
        self.next_link = self._timeline_link(page.next, reverse=False)
        self.previous_link = self._timeline_link(page.previous, reverse=True)
        return page.entries

    def _timeline_link(self, cursor: Any, *, reverse: bool) -> str | None:
        if cursor is None:
            return None
        token = timeline_cursor_encode(cursor, reverse=reverse)
        return replace_query_param(self.base_url, self.cursor_query_param, token)


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


class ResendSmsOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The new SMS message.")
    status = serializers.CharField()
    phone = serializers.CharField()


LOCKED_409 = (
    "`order_locked`: the order is dispatched, delivered or cancelled, so its customer, item and "
    "quantity no longer change (and it cannot be deleted)."
)


@extend_schema_view(
    partial_update=extend_schema(
        summary="Change an order",
        request=OrderUpdateInputSerializer,
        responses={
            200: OrderOutputSerializer,
            409: OpenApiResponse(response=ErrorSerializer, description=LOCKED_409),
        },
    ),
    destroy=extend_schema(
        summary="Delete an order",
        responses={
            204: None,
            409: OpenApiResponse(response=ErrorSerializer, description=LOCKED_409),
        },
    ),
)
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

    # Actions that honour If-Match without requiring it (the schema documents it and the 412).
    conditional_actions = ("transitions",)

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

    @extend_schema(
        summary="Move an order to another status",
        request=OrderTransitionInputSerializer,
        responses={
            200: OrderOutputSerializer,
            409: OpenApiResponse(
                response=TransitionConflictSerializer,
                description="`invalid_transition`: the order's status does not allow the move; "
                "`allowed` lists the moves it does allow.",
            ),
        },
        description=(
            "placed → confirmed → dispatched → delivered; cancelled from placed or confirmed, "
            'with a `reason`. `{"to": "confirmed"}` answers the updated order. Needs '
            "`orders.view_order` and the move's permission: `orders.confirm_order`, "
            "`orders.dispatch_order`, `orders.deliver_order` or `orders.cancel_order` (403 "
            "otherwise). A missing reason to cancel is a 400 on `reason`. The customer's SMS for "
            "the new status is queued as `SMS_NOTIFY_STATUSES` says."
        ),
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="transitions",
        permission_classes=[permissions.IsAuthenticated],
    )
    def transitions(self, request: Request, id: str) -> Response:
        if not request.user.has_perm("orders.view_order"):
            raise exceptions.PermissionDenied("You may not view orders.")
        data = self.validated(OrderTransitionInputSerializer, request)
        to = data["to"]
        permission = TRANSITION_PERMISSIONS.get(to)
        if permission is not None and not request.user.has_perm(permission):
            raise exceptions.PermissionDenied(f"You may not move orders to {to}.")
        order = self.get_object()
        # If-Match is optional here (a move is checked against the order's status anyway):
        # with it, the move happens only if the order is still at that version.
        expected = self.expected_version(request, order) if "If-Match" in request.headers else None
        try:
            order = order_transition(
                order=order,
                to=to,
                actor=request.user,
                reason=data.get("reason"),
                expected_version=expected,
            )
        except InvalidTransitionError as exc:
            body = error_body(
                status_code=status.HTTP_409_CONFLICT, code=exc.code, detail=exc.message
            )
            return Response(
                {**body, "current": exc.current, "allowed": exc.allowed},
                status=status.HTTP_409_CONFLICT,
            )
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc) or None) from None
        return self.object_response(self._fetch(order))

    @extend_schema(
        summary="The order's timeline",
        request=None,
        responses={
            200: OrderEventSerializer(many=True),
            400: OpenApiResponse(response=ErrorSerializer, description="A malformed `cursor`."),
        },
        description=(
            "Newest first: created (and through which path), status moves with their reason, "
            "field changes, SMS messages with their status and the provider's reason, internal "
            "notes — each with who and when. Cursor-paged like every list (`next`, "
            "`previous`, `page_size` up to 200). Needs `orders.view_order`."
        ),
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="events",
        filter_backends=[],
        pagination_class=TimelinePagination,
    )
    def events(self, request: Request, id: str) -> Response:
        order = self.get_object()
        paginator = self.paginator
        assert isinstance(paginator, TimelinePagination)
        entries = paginator.paginate_timeline(request, order)
        serializer = OrderEventSerializer()
        return paginator.get_paginated_response([serializer.to_representation(e) for e in entries])
