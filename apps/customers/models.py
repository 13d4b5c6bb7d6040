import uuid

from django.db import models
from django.db.models.functions import Length
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from apps.core.versions import version_field

models.CharField.register_lookup(Length)


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

    history = HistoricalRecords(excluded_fields=["date_modified"], cascade_delete_history=False)

    class Meta:
        ordering = ["-date_created", "-id"]
        permissions = [
            ("import_customer", "Can import customers from a spreadsheet"),
            ("export_customer", "Can export customers to a spreadsheet"),
        ]
        indexes = [
            models.Index(fields=["-date_created", "-id"], name="customer_created_idx"),
            models.Index(fields=["last_name", "first_name"], name="customer_name_idx"),
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
