"""/v1/orders: the serializers (output, inputs, errors, timeline entries)."""

from typing import Any

from rest_framework import serializers

from apps.api_toolkit.fields import UUIDRelatedField
from apps.api_toolkit.formats import iso, money
from apps.api_toolkit.schema import ErrorSerializer
from apps.core.text import validate_multiline_text, validate_text
from apps.customers.selectors import customer_get
from apps.items.models import Size
from apps.items.selectors import item_get
from apps.notifications.models import SmsKind, SmsStatus

from .models import EXTERNAL_REFERENCE_MAX_LENGTH, OrderStatus
from .rules import MAX_QUANTITY, MAX_REASON_LENGTH
from .timeline import timeline_jsonable
from .timeline_sources import TimelineEntry


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
    number = serializers.IntegerField(
        read_only=True, help_text="The order's number: what staff and customers call it."
    )
    external_reference = serializers.CharField(
        read_only=True, help_text='The sender\'s own id for the order ("" when none).'
    )
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
        help_text="Status of the latest SMS for this order; null if none was sent.",
    )
    cancel_reason = serializers.CharField(
        read_only=True,
        help_text="Why a cancelled order was cancelled: a code of `ORDER_CANCEL_REASONS` or "
        '`other` ("" when not cancelled, or cancelled before reasons had codes).',
    )
    cancel_reason_text = serializers.CharField(
        read_only=True, help_text='The words given with the reason ("" when none).'
    )

    def to_representation(self, row: dict[str, Any]) -> dict[str, Any]:
        # ``row`` is a dict from ``order_rows()``: on a page of 50 orders, model instances,
        # phone parsing and the generic field machinery cost more than the query itself.
        return {
            "id": str(row["uuid"]),
            "number": row["number"],
            "external_reference": row["external_reference"],
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
            "cancel_reason": row["cancel_reason"],
            "cancel_reason_text": row["cancel_reason_text"],
        }


class OrderCreateInputSerializer(serializers.Serializer):
    customer = UUIDRelatedField(
        getter=customer_get, model_name="customer", help_text="Customer id."
    )
    item = UUIDRelatedField(getter=item_get, model_name="item", help_text="Item id.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    external_reference = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=EXTERNAL_REFERENCE_MAX_LENGTH,
        validators=[validate_text],
        help_text="Your own id for the order (optional; unique when set): a retry with the same "
        "one is refused (409 `duplicate_external_reference`) instead of making a second order.",
    )


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

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # What the browsable API pre-fills its PATCH form with: the order as the viewset reads
        # it (a row of ``order_rows()``), in this serializer's own fields.
        row = instance if isinstance(instance, dict) else {}
        return {
            "customer": str(row["customer__uuid"]) if "customer__uuid" in row else None,
            "item": str(row["item__uuid"]) if "item__uuid" in row else None,
            "quantity": row.get("quantity"),
            "external_reference": row.get("external_reference", ""),
        }

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
    reason_code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="Why an order is cancelled: one of the codes of `ORDER_CANCEL_REASONS` (by "
        "default `customer_request`, `out_of_stock`, `payment_failed`, `duplicate`, "
        "`unreachable`) or `other` with words in `reason`. Required to cancel (a `reason` "
        "alone counts as `other`); refused for other moves.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_REASON_LENGTH,
        validators=[validate_multiline_text],
        help_text="Why, in words; required with `reason_code` `other`. Recorded on the order's "
        "timeline and the order, never sent to the customer.",
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
        help_text="`created` (with its channel), `status` (a move, with its reason), `note` "
        "(internal), `change` (customer, item, quantity or price), `sms` (a message and its "
        "current status).",
    )
    at = serializers.DateTimeField()
    actor = serializers.CharField(
        help_text="Who did it: the person's name, or `system (<channel>)` for the system."
    )
    channel = serializers.CharField(
        help_text="Through which channel: `admin`, `api`, `import`, `worker`, `command`, `system`."
    )
    order_number = serializers.IntegerField(help_text="The order's number.")
    summary = serializers.CharField(help_text="One line for people.")
    details = serializers.DictField(
        help_text="Per kind: `created` {}; `status` {from, to, reason, reason_code}; `note` "
        "{text}; "
        "`change` {changes: [{field, from, to}]}; `sms` {id, kind, status, phone, text, "
        "attempts, sent_at, delivered_at, provider_status_code, error}."
    )

    def to_representation(self, entry: TimelineEntry) -> dict[str, Any]:
        return {
            "id": entry.key,
            "kind": entry.kind,
            "at": iso(entry.at),
            "actor": entry.actor,
            "channel": entry.channel,
            "order_number": entry.order_number,
            "summary": entry.summary,
            "details": timeline_jsonable(entry.details),
        }


class ResendSmsOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The new SMS message.")
    kind = serializers.ChoiceField(
        choices=SmsKind.choices, help_text="Which message: the one of the order's status."
    )
    status = serializers.CharField()
    phone = serializers.CharField()
