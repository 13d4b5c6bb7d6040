"""The order admin's SMS pieces: the list's SMS column, the SMS history inline, and "Resend SMS"
on a selection, a row and the order page.

A resend sends the message of the order's current state (``sms.order_sms_resend_kind``): the
row menu and the page offer it only where a message applies, with the text it will send.
"""

from collections import Counter
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import SafeString
from unfold.decorators import action, display
from unfold.forms import BaseDialogForm

from apps.admin_toolkit.errors import admin_errors
from apps.core.actors import Channel
from apps.core.text import is_ascii_digits
from apps.notifications.admin import SmsMessageInline, sms_status_badge
from apps.notifications.models import SmsKind
from apps.notifications.services import RESEND_PERMISSION, sms_hourly_room
from apps.notifications.subjects import SmsDraft

from .models import Order
from .services import order_sms_resend, order_sms_resend_many
from .sms import (
    order_sms_draft,
    order_sms_resend_draft,
    order_sms_resend_kind,
    orders_with_relations,
)

PREVIEW_ORDERS = 20


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def sms_preview(draft: SmsDraft | None) -> dict[str, Any]:
    """What ``admin/orders/order/sms_preview.html`` shows of a message about to be sent."""
    if draft is None:
        return {"draft": None}
    return {"draft": draft, "kind": SmsKind(draft.kind).label}


class SmsPreviewDialogForm(BaseDialogForm):
    """A dialog that shows, above its fields, the SMS its action sends for the order: the text,
    the number and the kind (``sms_status``: that status's message when it notifies; ``None``:
    what a resend sends in the order's current status)."""

    form_before_template = "admin/orders/order/sms_preview.html"
    sms_status: str | None = None

    def get_before_template_context(
        self, request: HttpRequest, object_id: int | str | None = None
    ) -> dict[str, Any]:
        pk = unquote(str(object_id or ""))
        order = (
            Order.objects.select_related("customer", "item").filter(pk=pk).first()
            if is_ascii_digits(pk)
            else None
        )
        if order is None:
            return sms_preview(None)
        if self.sms_status is None:
            return sms_preview(order_sms_resend_draft(order))
        if self.sms_status not in settings.SMS_NOTIFY_STATUSES:
            return sms_preview(None)
        return sms_preview(order_sms_draft(order=order, status=self.sms_status))


_dialog = {
    "title": "Resend SMS to the customer?",
    "description": "The customer is sent the message of the order's current status again, to "
    "their current number.",
    "form_submit_text": "Send 1 SMS",
    "form_cancel_text": "Don't send",
    "form_class": SmsPreviewDialogForm,
}


class OrderSmsAdminMixin:
    """SMS column (the list must be annotated with ``sms_status``), history inline, resends."""

    inlines = (SmsMessageInline,)

    def has_resend_sms_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        if not request.user.has_perm(RESEND_PERMISSION):
            return False
        if object_id is None:
            return True
        status = self.order_status(request, object_id)  # type: ignore[attr-defined]  # OrderMovesAdminMixin's
        return status is not None and order_sms_resend_kind(status) is not None

    @display(description="SMS", ordering="sms_status")
    def sms_status_display(self, obj: Order) -> SafeString | None:
        status = getattr(obj, "sms_status", None)
        return sms_status_badge(status) if status else None

    @action(description="Resend SMS…", permissions=["resend_sms"])
    def resend_sms(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        if request.POST.get("post") != "yes":
            by_status = Counter(
                dict(queryset.order_by().values_list("status").annotate(n=Count("pk")))
            )
            count = sum(by_status.values())
            sends = sum(n for st, n in by_status.items() if order_sms_resend_kind(st))
            room = sms_hourly_room()
            sample = orders_with_relations(
                queryset.order_by("-date_created", "-id")[:PREVIEW_ORDERS]
            )
            context = {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]  # the host ModelAdmin's
                "title": "Resend SMS",
                "subtitle": None,
                "opts": Order._meta,
                "queryset": queryset,
                "count": count,
                "sends": sends,
                "skips": count - sends,
                "skipped_by_status": sorted(
                    (st, n) for st, n in by_status.items() if not order_sms_resend_kind(st)
                ),
                "sms_room": room,
                "sms_over_cap": room is not None and sends > room,
                "previews": [(o, sms_preview(order_sms_resend_draft(o))) for o in sample],
                # Across pages the list's filters (in the URL) select, as for moves.
                "select_across": (request.POST.get("select_across", "0") == "1" and "1") or "0",
                "selected_ids": (
                    [o.pk for o in sample]
                    if request.POST.get("select_across") == "1"
                    else list(queryset.values_list("pk", flat=True))
                ),
                "orders_label": _plural(count, "order"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "action_name": "resend_sms",
            }
            return TemplateResponse(request, "admin/orders/order/resend_sms.html", context)
        with admin_errors(request):
            outcome = order_sms_resend_many(
                orders=queryset, actor=request.user, channel=Channel.ADMIN
            )
            text = f"Queued {outcome.queued:,} SMS."
            if outcome.skipped:
                text += (
                    f" Skipped {_plural(len(outcome.skipped), 'order')}: no message applies to "
                    "their status."
                )
            messages.add_message(
                request, messages.SUCCESS if outcome.queued else messages.WARNING, text
            )
        return None

    def _resend_one(self, request: HttpRequest, object_id: str, *, row: bool) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]  # the host ModelAdmin's
        if order is None:
            raise Http404("No such order.")
        with admin_errors(request) as failed:
            message = order_sms_resend(order=order, actor=request.user, channel=Channel.ADMIN)
        if not failed:
            messages.success(
                request,
                f"Queued 1 SMS ({message.get_kind_display()}) for {order} to {message.phone}.",
            )
        url = (
            self.back_to_list(request)  # type: ignore[attr-defined]  # OrderMovesAdminMixin's
            if row
            else reverse("admin:orders_order_change", args=[order.pk])
        )
        if request.headers.get("HX-Request"):
            return HttpResponse(headers={"HX-Redirect": url})
        return HttpResponseRedirect(url)

    @action(
        description="Resend SMS",
        permissions=["resend_sms"],
        url_path="resend-sms",
        icon="sms",
        dialog=_dialog,
    )
    def resend_sms_detail(self, request: HttpRequest, form: Any, object_id: str) -> HttpResponse:
        return self._resend_one(request, object_id, row=False)

    @action(
        description="Resend SMS",
        permissions=["resend_sms"],
        url_path="resend-sms-row",
        icon="sms",
        dialog=_dialog,
    )
    def resend_sms_row(self, request: HttpRequest, form: Any, object_id: str) -> HttpResponse:
        return self._resend_one(request, object_id, row=True)
