import uuid

from django.db import models
from django.db.models.functions import Length
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from apps.core.audit import AuditedHistory
from apps.core.versions import version_field

models.CharField.register_lookup(Length)

#: Columns the orders app keeps (``customer_order_stats_set``), not edited by anyone.
DERIVED_FIELDS = ("orders_count", "lifetime_value", "last_order_at")


class Customer(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    first_name = models.CharField("first name", max_length=250)
    last_name = models.CharField("last name", max_length=250)
    phone_number = PhoneNumberField(
        "phone number",
        unique=True,
        error_messages={"unique": "A customer with this phone number already exists."},
        help_text="International format (+254712345678) or a local number of the default region.",
    )
    date_created = models.DateTimeField("date created", default=timezone.now, editable=False)
    date_modified = models.DateTimeField("date modified", auto_now=True)
    version = version_field()
    # What the customer's orders add up to, kept exact by the orders app's services in the
    # transaction of every order write (``orders.services.customer_order_stats_refresh``).
    # Derived columns: writing them bumps no version and records no history.
    orders_count = models.PositiveIntegerField("orders", default=0, db_default=0, editable=False)
    lifetime_value = models.DecimalField(
        "lifetime value",
        max_digits=14,
        decimal_places=2,
        default=0,
        db_default=0,
        editable=False,
        help_text="What the customer's orders are worth, cancelled orders left out.",
    )
    last_order_at = models.DateTimeField("last order", null=True, blank=True, editable=False)

    history = HistoricalRecords(
        excluded_fields=["date_modified", *DERIVED_FIELDS],
        cascade_delete_history=False,
        bases=[AuditedHistory],
    )

    class Meta:
        ordering = ["-date_created", "-id"]
        permissions = [
            ("import_customer", "Can import customers from a spreadsheet"),
            ("export_customer", "Can export customers to a spreadsheet"),
        ]
        indexes = [
            models.Index(fields=["-date_created", "-id"], name="customer_created_idx"),
            models.Index(fields=["last_name", "first_name"], name="customer_name_idx"),
            models.Index(fields=["orders_count", "id"], name="customer_orders_count_idx"),
            models.Index(fields=["lifetime_value", "id"], name="customer_lifetime_value_idx"),
            models.Index(fields=["last_order_at", "id"], name="customer_last_order_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(first_name__length__gt=0), name="customer_first_name_not_blank"
            ),
            models.CheckConstraint(
                condition=models.Q(last_name__length__gt=0), name="customer_last_name_not_blank"
            ),
            models.CheckConstraint(
                condition=models.Q(phone_number__startswith="+"), name="customer_phone_e164"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.phone_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"
