"""SMS history (read-only) and the order-admin pieces: status badge, inline, resend actions."""

import functools
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import SafeString
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator
from unfold.utils import display_for_label

from apps.admin_toolkit.filters import DayRangeFilter
from apps.core.errors import DomainError
from apps.orders.models import Order

from .models import DeliveryReportOutcome, SmsDeliveryReport, SmsMessage, SmsStatus
from .selectors import sms_list
from .services import RESEND_PERMISSION, sms_resend, sms_resend_bulk

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

    @display(description="order", ordering="order__uuid")
    def order_display(self, obj: SmsMessage) -> str:
        return obj.order.reference

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
    )
    readonly_fields = fields
    ordering = ("-date_created", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[SmsMessage]:
        return super().get_queryset(request).select_related("requested_by")

    @display(description="status", label=STATUS_COLOURS)
    def status_display(self, obj: SmsMessage) -> str:
        return obj.status


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class OrderSmsAdminMixin:
    """Added to the order admin: SMS badge column, history inline and resend actions.

    The list must be annotated with ``sms_status`` (``order_list(with_sms_status=True)``).
    """

    inlines = (SmsMessageInline,)
    actions: tuple[str, ...] = ("resend_sms_confirmation",)
    actions_detail: tuple[str, ...] = ("resend_sms_detail",)
    actions_row: tuple[str, ...] = ("resend_sms_row",)

    def has_resend_sms_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(RESEND_PERMISSION)

    @display(description="SMS", ordering="sms_status")
    def sms_status_display(self, obj: Order) -> SafeString | None:
        status = getattr(obj, "sms_status", None)
        return sms_status_badge(status) if status else None

    @action(description="Resend SMS confirmation", permissions=["resend_sms"])
    def resend_sms_confirmation(
        self, request: HttpRequest, queryset: QuerySet[Order]
    ) -> HttpResponse | None:
        count = queryset.count()
        if request.POST.get("post") != "yes":
            opts = Order._meta
            context = {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "title": "Resend SMS confirmation",
                "subtitle": None,
                "opts": opts,
                "queryset": queryset,
                "count": count,
                "orders_label": _plural(count, "order"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "action_name": "resend_sms_confirmation",
            }
            return TemplateResponse(
                request, "admin/notifications/resend_sms_confirmation.html", context
            )
        try:
            queued = sms_resend_bulk(orders=queryset, actor=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)  # type: ignore[attr-defined]
            return None
        self.message_user(  # type: ignore[attr-defined]
            request, f"Queued {_plural(queued, 'SMS confirmation')}.", messages.SUCCESS
        )
        return None

    def _resend_one(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if order is None:
            raise Http404("No such order.")
        try:
            message = sms_resend(order=order, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"Queued 1 SMS confirmation for order {order.reference} to {message.phone}.",
            )
        url = reverse("admin:orders_order_change", args=[order.pk])
        if request.headers.get("HX-Request"):
            return HttpResponse(headers={"HX-Redirect": url})
        return HttpResponseRedirect(url)

    _dialog = {
        "title": "Resend SMS confirmation",
        "description": "A new confirmation SMS will be sent to the customer's current number.",
        "form_submit_text": "Send 1 SMS",
    }

    @action(
        description="Resend SMS confirmation",
        permissions=["resend_sms"],
        url_path="resend-sms",
        icon="sms",
        dialog=_dialog,
    )
    def resend_sms_detail(self, request: HttpRequest, form: Any, object_id: str) -> HttpResponse:
        return self._resend_one(request, object_id)

    @action(
        description="Resend SMS confirmation",
        permissions=["resend_sms"],
        url_path="resend-sms-row",
        icon="sms",
        dialog=_dialog,
    )
    def resend_sms_row(self, request: HttpRequest, form: Any, object_id: str) -> HttpResponse:
        return self._resend_one(request, object_id)
