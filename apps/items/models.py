import uuid
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from apps.core.audit import AuditedHistory
from apps.core.versions import version_field


class Size(models.TextChoices):
    S = "S", "S"
    M = "M", "M"
    L = "L", "L"
    XL = "XL", "XL"
    XXL = "XXL", "XXL"


class Item(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    name = models.CharField("name", max_length=250)
    size = models.CharField("size", max_length=3, choices=Size.choices)
    price = models.DecimalField(
        "price", max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    date_created = models.DateTimeField("date created", default=timezone.now, editable=False)
    date_modified = models.DateTimeField("date modified", auto_now=True)
    version = version_field()

    history = HistoricalRecords(
        excluded_fields=["date_modified"], cascade_delete_history=False, bases=[AuditedHistory]
    )

    class Meta:
        ordering = ["name", "size"]
        permissions = [
            ("import_item", "Can import items from a spreadsheet"),
            ("export_item", "Can export items to a spreadsheet"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "size"],
                name="item_unique_name_size",
                violation_error_message="An item with this name and size already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="item_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(size__in=Size.values), name="item_size_valid"
            ),
            models.CheckConstraint(condition=~models.Q(name=""), name="item_name_not_blank"),
        ]
        indexes = [models.Index(fields=["size"], name="item_size_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.size})"
