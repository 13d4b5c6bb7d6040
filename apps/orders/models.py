import uuid
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from apps.core.versions import version_field


class Order(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
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
    date_created = models.DateTimeField("date created", default=timezone.now, editable=False)
    date_modified = models.DateTimeField("date modified", auto_now=True)
    version = version_field()

    history = HistoricalRecords(excluded_fields=["date_modified"], cascade_delete_history=False)

    class Meta:
        ordering = ["-date_created", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="order_quantity_min_1"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="order_unit_price_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["-date_created", "-id"], name="order_created_idx"),
            models.Index(fields=["customer", "-date_created"], name="order_customer_created_idx"),
            models.Index(fields=["item", "-date_created"], name="order_item_created_idx"),
            models.Index(models.F("unit_price") * models.F("quantity"), name="order_total_idx"),
        ]
        permissions = [
            ("import_order", "Can import orders from a spreadsheet"),
            ("export_order", "Can export orders to a spreadsheet"),
        ]

    def __str__(self) -> str:
        return f"Order {self.reference}"

    @property
    def reference(self) -> str:
        """Short human reference used in messages and SMS (first 8 hex digits of the uuid)."""
        return str(self.uuid).split("-")[0].upper()
