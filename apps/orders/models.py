import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from apps.core.audit import AuditedHistory
from apps.core.sequences import SequenceField
from apps.core.versions import version_field


class OrderStatus(models.TextChoices):
    """Where an order is in its life; the moves between them: ``rules.TRANSITIONS``."""

    PLACED = "placed", "placed"
    CONFIRMED = "confirmed", "confirmed"
    DISPATCHED = "dispatched", "dispatched"
    DELIVERED = "delivered", "delivered"
    CANCELLED = "cancelled", "cancelled"


#: The order-number sequence and the first number it gives (``core.sequences``).
ORDER_NUMBER_SEQUENCE = "orders_order_number_seq"
ORDER_NUMBER_START = 100001
EXTERNAL_REFERENCE_MAX_LENGTH = 100


class Order(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    number = SequenceField(
        "number",
        sequence=ORDER_NUMBER_SEQUENCE,
        start=ORDER_NUMBER_START,
        help_text="The order's name: short, unique, allocated by the database, never reused.",
    )
    external_reference = models.CharField(
        "external reference",
        max_length=EXTERNAL_REFERENCE_MAX_LENGTH,
        blank=True,
        default="",
        db_default="",
        help_text="The sender's own id for this order (optional; unique when set).",
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="orders"
    )
    item = models.ForeignKey("items.Item", on_delete=models.PROTECT, related_name="orders")
    quantity = models.PositiveIntegerField(
        "quantity",
        validators=[MinValueValidator(1, message="Quantity must be at least 1.")],
    )
    unit_price = models.DecimalField(
        "unit price",
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="The item's price when the order was created.",
    )
    # Changed only by ``transitions.order_transition``. The database default makes adding the
    # column to a large table a catalogue change (no rewrite) and covers rows written without it.
    status = models.CharField(
        "status",
        max_length=16,
        choices=OrderStatus.choices,
        default=OrderStatus.PLACED,
        db_default=OrderStatus.PLACED,
        editable=False,
    )
    status_changed_at = models.DateTimeField(
        "status changed at",
        null=True,
        blank=True,
        editable=False,
        help_text="When the order last moved; empty while it is still as it was placed "
        "(then its creation time is when it entered its status).",
    )
    # Set by ``transitions.order_transition`` when the order is cancelled: one of
    # ``rules.cancel_reasons()`` (configured codes, or "other" with words saying why).
    cancel_reason = models.CharField(
        "cancellation reason",
        max_length=32,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )
    cancel_reason_text = models.TextField(
        "cancellation words", blank=True, default="", db_default="", editable=False
    )
    date_created = models.DateTimeField("date created", default=timezone.now, editable=False)
    date_modified = models.DateTimeField("date modified", auto_now=True)
    version = version_field()

    history = HistoricalRecords(
        excluded_fields=["date_modified"], cascade_delete_history=False, bases=[AuditedHistory]
    )

    class Meta:
        ordering = ["-date_created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="order_number_unique"),
            models.UniqueConstraint(
                fields=["external_reference"],
                condition=~models.Q(external_reference=""),
                name="order_external_reference_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="order_quantity_min_1"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="order_unit_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["-date_created", "-id"], name="order_created_idx"),
            models.Index(fields=["customer", "-date_created"], name="order_customer_created_idx"),
            models.Index(fields=["item", "-date_created"], name="order_item_created_idx"),
            models.Index(models.F("unit_price") * models.F("quantity"), name="order_total_idx"),
            models.Index(fields=["status", "date_created"], name="order_status_created_idx"),
            models.Index(
                fields=["cancel_reason", "-date_created"],
                condition=~models.Q(cancel_reason=""),
                name="order_cancel_reason_idx",
            ),
        ]
        permissions = [
            ("import_order", "Can import orders from a spreadsheet"),
            ("export_order", "Can export orders to a spreadsheet"),
            ("confirm_order", "Can confirm orders"),
            ("dispatch_order", "Can mark orders dispatched"),
            ("deliver_order", "Can mark orders delivered"),
            ("cancel_order", "Can cancel orders"),
            ("note_order", "Can add internal notes to orders"),
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"


class OrderEventKind(models.TextChoices):
    CREATED = "created", "created"
    STATUS = "status", "status changed"
    NOTE = "note", "note"


class OrderEvent(models.Model):
    """Something that happened to an order, written by the service that made it happen.

    ``created`` (with the path: ``admin``, ``api``, ``system``), ``status`` (``from_status`` →
    ``to_status``, the reason in ``text``, a cancellation's reason code in ``reason_code``) and
    ``note`` (an internal note in ``text``, never sent to the customer). Field changes come from
    the order's history and messages from ``SmsMessage``; ``timeline.py`` merges the three.
    Orders written in bulk (imports) have no ``created`` event: their history's creation record
    (channel ``import``, the file as its reason) stands in.
    """

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("kind", max_length=16, choices=OrderEventKind.choices)
    at = models.DateTimeField("at", default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who did it; empty for the system.",
    )
    channel = models.CharField(
        "path", max_length=255, blank=True, help_text="admin, api or system."
    )
    from_status = models.CharField("from", max_length=16, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField("to", max_length=16, choices=OrderStatus.choices, blank=True)
    reason_code = models.CharField(
        "reason code",
        max_length=32,
        blank=True,
        default="",
        db_default="",
        help_text="Why an order was cancelled (rules.cancel_reasons()).",
    )
    text = models.TextField("text", blank=True, help_text="The reason of a move, or the note.")

    class Meta:
        verbose_name = "order event"
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=OrderEventKind.values), name="order_event_kind_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=OrderEventKind.STATUS)
                | (models.Q(to_status__in=OrderStatus.values) & ~models.Q(from_status="")),
                name="order_event_status_has_moves",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=OrderEventKind.NOTE) | ~models.Q(text=""),
                name="order_event_note_has_text",
            ),
            models.CheckConstraint(
                condition=~models.Q(to_status=OrderStatus.CANCELLED)
                | ~models.Q(text="")
                | ~models.Q(reason_code=""),
                name="order_event_cancel_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["order", "-at", "-uuid"], name="order_event_order_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


# Bulk moves run by the worker (their own module; registered with the app here).
from .move_job_models import MoveJobStatus, OrderMoveJob, OrderMoveJobOrder  # noqa: E402, F401
