import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.actors import Channel


class SmsStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    SENDING = "sending", "sending"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"
    DELIVERED = "delivered", "delivered"
    REJECTED = "rejected", "rejected"


class SmsKind(models.TextChoices):
    """What a message tells the customer: the order confirmation (sent when it is placed, and
    on resend) or the order moving to another status."""

    CONFIRMATION = "confirmation", "confirmation"
    CONFIRMED = "confirmed", "order confirmed"
    DISPATCHED = "dispatched", "order dispatched"
    DELIVERED = "delivered", "order delivered"
    CANCELLED = "cancelled", "order cancelled"


class SmsMessage(models.Model):
    """One SMS to one phone number; a resend is a new row, never a second send of this one.

    Life cycle: ``queued`` -> ``sending`` (claimed by one worker, ``attempts`` + 1) -> ``sent``
    (provider accepted it) -> ``delivered``/``failed``/``rejected`` (delivery report). A
    transient failure puts the row back to ``queued`` with ``next_attempt_at``; a permanent one
    ends in ``failed`` or ``rejected`` with ``error``.
    """

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="sms_messages")
    # The database default keeps adding the column to a large table a catalogue change.
    kind = models.CharField(
        "kind",
        max_length=16,
        choices=SmsKind.choices,
        default=SmsKind.CONFIRMATION,
        db_default=SmsKind.CONFIRMATION,
    )
    phone = models.CharField("phone", max_length=32, help_text="E.164, copied when queued.")
    text = models.TextField("text")
    status = models.CharField(
        "status", max_length=16, choices=SmsStatus.choices, default=SmsStatus.QUEUED
    )
    provider_message_id = models.CharField("provider message id", max_length=100, blank=True)
    provider_status_code = models.CharField("provider status code", max_length=16, blank=True)
    delivery_status = models.CharField(
        "delivery status", max_length=32, blank=True, help_text="As reported by the provider."
    )
    network_code = models.CharField("network code", max_length=16, blank=True)
    cost = models.CharField("cost", max_length=32, blank=True, help_text="As reported.")
    error = models.TextField("error", blank=True)
    attempts = models.PositiveIntegerField("attempts", default=0)
    next_attempt_at = models.DateTimeField("next attempt at", null=True, blank=True)
    claimed_at = models.DateTimeField("claimed at", null=True, blank=True)
    sent_at = models.DateTimeField("sent at", null=True, blank=True)
    delivered_at = models.DateTimeField("delivered at", null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who asked for a resend; empty for automatic messages.",
    )
    channel = models.CharField(
        "channel",
        max_length=16,
        choices=Channel.choices,
        default=Channel.SYSTEM,
        db_default=Channel.SYSTEM,
        help_text="How the write that queued it came in (admin, api, import, worker…).",
    )
    date_created = models.DateTimeField("date created", default=timezone.now, editable=False)
    date_modified = models.DateTimeField("date modified", default=timezone.now)

    class Meta:
        verbose_name = "SMS message"
        verbose_name_plural = "SMS messages"
        ordering = ["-date_created", "-id"]
        permissions = [("resend_sms", "Can resend SMS confirmations")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=SmsStatus.values), name="sms_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=SmsKind.values), name="sms_kind_valid"
            ),
            models.UniqueConstraint(
                fields=["provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="sms_provider_message_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["order", "-date_created", "-id"], name="sms_order_created_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="sms_status_next_idx"),
            models.Index(fields=["-date_created", "-id"], name="sms_created_idx"),
        ]

    def __str__(self) -> str:
        return f"SMS to {self.phone} ({self.status})"


class DeliveryReportOutcome(models.TextChoices):
    APPLIED = "applied", "applied"
    DUPLICATE = "duplicate", "ignored: a replay of a report already applied"
    STALE = "stale", "ignored: older than the message's current status"
    UNMATCHED = "unmatched", "no message with this id yet"


class SmsDeliveryReport(models.Model):
    """One delivery report as the provider sent it, and what it did to its message.

    Every authenticated report is kept, applied or not, so an operator can see why a message has
    its status: a message's status only moves forward (``queued`` < ``sending`` < ``sent`` <
    final), and a replay or a report older than the current status is recorded and ignored. A
    report for an id no message has yet (it may arrive before the worker stored the provider's
    id) is kept as ``unmatched`` and applied when the id is stored.
    """

    message = models.ForeignKey(
        SmsMessage,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="delivery_reports",
        db_index=False,  # the (message, received_at) index below serves it
    )
    provider_message_id = models.CharField("provider message id", max_length=100)
    status = models.CharField("reported status", max_length=32)
    network_code = models.CharField("network code", max_length=16, blank=True)
    failure_reason = models.CharField("failure reason", max_length=100, blank=True)
    retry_count = models.CharField("retry count", max_length=16, blank=True)
    outcome = models.CharField("outcome", max_length=16, choices=DeliveryReportOutcome.choices)
    received_at = models.DateTimeField("received at", default=timezone.now, editable=False)

    class Meta:
        verbose_name = "SMS delivery report"
        verbose_name_plural = "SMS delivery reports"
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=DeliveryReportOutcome.values),
                name="sms_delivery_report_outcome_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["provider_message_id", "received_at"], name="sms_report_provider_idx"
            ),
            models.Index(fields=["message", "received_at"], name="sms_report_message_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.status} for {self.provider_message_id} ({self.outcome})"
