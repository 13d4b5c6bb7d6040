"""SMS history (read-only), delivery reports, the task queue; the SMS badge and inline that the
admin of the texted objects (orders) shows."""

import functools
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display
from unfold.paginator import InfinitePaginator
from unfold.utils import display_for_label

from apps.admin_toolkit.filters import DayRangeFilter

from .models import DeliveryReportOutcome, SmsDeliveryReport, SmsMessage, SmsStatus
from .selectors import sms_list

STATUS_COLOURS = {
    SmsStatus.QUEUED: "info",
    SmsStatus.SENDING: "warning",
    SmsStatus.SENT: "info",
    SmsStatus.DELIVERED: "success",
    SmsStatus.FAILED: "danger",
    SmsStatus.REJECTED: "danger",
}


@functools.cache
def sms_status_badge(status: str) -> SafeString:
    """The status's badge, rendered once per status and process (the order list shows one per
    row)."""
    return display_for_label(status, "-", STATUS_COLOURS)


READONLY_FIELDS = (
    "uuid",
    "order",
    "kind",
    "phone",
    "text",
    "status",
    "attempts",
    "next_attempt_at",
    "claimed_at",
    "provider_message_id",
    "provider_status_code",
    "cost",
    "error",
    "delivery_status",
    "network_code",
    "sent_at",
    "delivered_at",
    "requested_by",
    "channel",
    "date_created",
    "date_modified",
)


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The task queue's own admin, restyled: operators look here for failed or stuck tasks.
admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(ModelAdmin, DBTaskResultAdmin):
    paginator = InfinitePaginator
    show_full_result_count = False


OUTCOME_COLOURS = {
    DeliveryReportOutcome.APPLIED: "success",
    DeliveryReportOutcome.DUPLICATE: "warning",
    DeliveryReportOutcome.STALE: "warning",
    DeliveryReportOutcome.UNMATCHED: "info",
}
REPORT_FIELDS = (
    "received_at",
    "status",
    "outcome_display",
    "failure_reason",
    "network_code",
    "retry_count",
)


class SmsDeliveryReportInline(_ReadOnly, TabularInline):
    """Every delivery report received for the message, applied or ignored, newest first."""

    model = SmsDeliveryReport
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "Delivery reports"
    fields = REPORT_FIELDS
    readonly_fields = REPORT_FIELDS
    ordering = ("-received_at", "-id")

    @display(description="outcome", label=OUTCOME_COLOURS)
    def outcome_display(self, obj: SmsDeliveryReport) -> str:
        return obj.outcome


@admin.register(SmsDeliveryReport)
class SmsDeliveryReportAdmin(_ReadOnly, ModelAdmin):
    """Delivery reports as received, including those ignored (replays, stale, unknown ids)."""

    list_display = (
        "received_at",
        "provider_message_id",
        "status",
        "outcome_display",
        "message_link",
        "failure_reason",
    )
    list_filter = (("outcome", ChoicesDropdownFilter), ("received_at", DayRangeFilter))
    list_filter_submit = True
    search_fields = ("=provider_message_id",)
    fields = ("message", "provider_message_id", *REPORT_FIELDS)
    readonly_fields = fields
    ordering = ("-received_at", "-id")
    paginator = InfinitePaginator
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[SmsDeliveryReport]:
        return super().get_queryset(request).select_related("message")

    @display(description="outcome", ordering="outcome", label=OUTCOME_COLOURS)
    def outcome_display(self, obj: SmsDeliveryReport) -> str:
        return obj.outcome

    @display(description="message")
    def message_link(self, obj: SmsDeliveryReport) -> str:
        return str(obj.message.uuid) if obj.message is not None else "—"


@admin.register(SmsMessage)
class SmsMessageAdmin(_ReadOnly, ModelAdmin):
    list_display = (
        "date_created",
        "order_display",
        "kind",
        "phone",
        "status_display",
        "attempts",
        "provider_status_code",
        "cost",
        "sent_at",
        "delivered_at",
        "error_display",
    )
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("kind", ChoicesDropdownFilter),
        ("date_created", DayRangeFilter),
    )
    list_filter_submit = True
    search_fields = ("phone", "=provider_message_id", "=order__uuid", "=uuid")
    inlines = (SmsDeliveryReportInline,)
    readonly_fields = READONLY_FIELDS
    fields = READONLY_FIELDS
    ordering = ("-date_created", "-id")
    paginator = InfinitePaginator
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[SmsMessage]:
        return sms_list()

    @display(description="about")
    def order_display(self, obj: SmsMessage) -> str:
        return str(obj.order)

    @display(description="status", ordering="status", label=STATUS_COLOURS)
    def status_display(self, obj: SmsMessage) -> str:
        return obj.status

    @display(description="error")
    def error_display(self, obj: SmsMessage) -> str:
        return obj.error[:80] + ("…" if len(obj.error) > 80 else "")


class SmsMessageInline(_ReadOnly, TabularInline):
    """The order's SMS history, newest first."""

    model = SmsMessage
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "SMS history"
    fields = (
        "date_created",
        "kind",
        "phone",
        "status_display",
        "attempts",
        "provider_status_code",
        "cost",
        "sent_at",
        "delivered_at",
        "error",
        "requested_by",
        "channel",
    )
    readonly_fields = fields
    ordering = ("-date_created", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[SmsMessage]:
        return super().get_queryset(request).select_related("requested_by")

    @display(description="status", label=STATUS_COLOURS)
    def status_display(self, obj: SmsMessage) -> str:
        return obj.status
