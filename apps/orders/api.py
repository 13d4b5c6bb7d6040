"""/v1/orders: the viewset. Validate (``api_serializers``) → service → output (``api_rows``)."""

from typing import Any

from django.db.models import F, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api_toolkit.permissions import requires
from apps.api_toolkit.schema import ErrorSerializer, crud_schema
from apps.api_toolkit.viewsets import ApiViewSetMixin
from apps.core.actors import Channel
from apps.notifications.selectors import sms_latest_status

from .api_filters import OrderFilter
from .api_rows import order_etag, order_rows
from .api_serializers import (
    OrderCreateInputSerializer,
    OrderEventSerializer,
    OrderOutputSerializer,
    OrderTransitionInputSerializer,
    OrderUpdateInputSerializer,
    ResendSmsOutputSerializer,
    TransitionConflictSerializer,
)
from .api_timeline import TimelinePagination
from .models import Order
from .selectors import ORDER_SEARCH, order_list
from .services import order_create, order_delete, order_sms_resend, order_update
from .transitions import order_transition

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
    search_spec = ORDER_SEARCH
    search_fields = list(ORDER_SEARCH.field_names())
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

    def output_rows(self, queryset: QuerySet[Order]) -> QuerySet:
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
            external_reference=data.get("external_reference"),
            actor=request.user,
            channel=Channel.API,
        )
        return self.created_response(self._fetch(order), uuid=order.uuid)

    def partial_update(self, request: Request, id: str) -> Response:
        order = self.get_object()
        expected = self.expected_version(request, order)
        data = self.validated(self.update_serializer, request)
        order = order_update(
            order=order,
            data=data,
            actor=request.user,
            channel=Channel.API,
            expected_version=expected,
        )
        return self.object_response(self._fetch(order))

    def destroy(self, request: Request, id: str) -> Response:
        order = self.get_object()
        expected = self.expected_version(request, order)
        order_delete(
            order=order, actor=request.user, channel=Channel.API, expected_version=expected
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={
            202: ResendSmsOutputSerializer,
            409: OpenApiResponse(
                response=ErrorSerializer,
                description="`nothing_to_resend`: no message applies to the order's status "
                "(delivered without a delivery template).",
            ),
        },
        description=(
            "Queue the SMS of the order's current status again: the confirmation while placed "
            "or confirmed, the dispatch, delivery or cancellation notice after that (needs "
            "`orders.view_order` and `notifications.resend_sms`). 429 with `Retry-After` when a "
            "cost cap is reached: `SMS_RESEND_MAX_PER_ORDER_PER_DAY` resends per order, "
            "`SMS_MAX_PER_HOUR` in all."
        ),
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="resend-sms",
        permission_classes=[
            requires(
                "orders.view_order",
                "notifications.resend_sms",
                message="You may not resend SMS messages.",
            )
        ],
    )
    def resend_sms(self, request: Request, id: str) -> Response:
        message = order_sms_resend(order=self.get_object(), actor=request.user, channel=Channel.API)
        return Response(
            ResendSmsOutputSerializer(
                {
                    "id": message.uuid,
                    "kind": message.kind,
                    "status": message.status,
                    "phone": message.phone,
                }
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
            'with a `reason_code` (`{"to": "cancelled", "reason_code": "out_of_stock"}`; '
            '`other` with words in `reason`). `{"to": "confirmed"}` answers the updated order. '
            "Needs `orders.view_order` and the move's permission: `orders.confirm_order`, "
            "`orders.dispatch_order`, `orders.deliver_order` or `orders.cancel_order` (403 "
            "otherwise). A missing or unknown reason code to cancel is a 400 on `reason_code`, "
            "`other` without words a 400 on `reason`. The customer's SMS for the new status is "
            "queued as `SMS_NOTIFY_STATUSES` says."
        ),
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="transitions",
        permission_classes=[requires("orders.view_order", message="You may not view orders.")],
    )
    def transitions(self, request: Request, id: str) -> Response:
        data = self.validated(OrderTransitionInputSerializer, request)
        order = self.get_object()
        # If-Match is optional here (a move is checked against the order's status anyway):
        # with it, the move happens only if the order is still at that version. The service
        # refuses a move the user may not make (403) or the status does not allow (409
        # ``invalid_transition`` with ``current`` and ``allowed``).
        expected = self.expected_version(request, order)
        order = order_transition(
            order=order,
            to=data["to"],
            actor=request.user,
            channel=Channel.API,
            reason=data.get("reason"),
            reason_code=data.get("reason_code"),
            expected_version=expected,
        )
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
