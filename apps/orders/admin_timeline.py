"""The timeline on the order page (and on the customer page, through its orders panel), and
internal notes (their own form and POST, under the order's form)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.views.decorators.http import require_POST
from unfold.widgets import UnfoldAdminTextareaWidget

from apps.admin_toolkit.errors import (
    ADMIN_MAPPED_ERRORS,
    admin_error_message,
    admin_form_submit,
)
from apps.core.actors import Channel

from .models import Order
from .rules import MAX_NOTE_LENGTH
from .services import order_note_add
from .timeline import (
    InvalidCursorError,
    TimelinePage,
    order_timeline,
    timeline_cursor_decode,
    timeline_cursor_encode,
)
from .timeline_sources import TimelineEntry

TIMELINE_PAGE_SIZE = 50
TIMELINE_COLOURS: dict[str, str] = {
    "created": "info",
    "status": "primary",
    "note": "warning",
    "change": "",
    "sms": "success",
}


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Internal note",
        max_length=MAX_NOTE_LENGTH,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text="Seen by staff only; never sent to the customer.",
    )


def timeline_rows(entries: list[TimelineEntry]) -> list[tuple[TimelineEntry, str]]:
    """Entries with the colour of their badge, as ``admin/orders/timeline_table.html`` shows
    them."""
    return [(entry, TIMELINE_COLOURS.get(entry.kind, "")) for entry in entries]


def timeline_cursor_from(request: HttpRequest) -> tuple[Any, bool]:
    """The cursor of ``?timeline=`` (newest first when absent or broken, with a warning)."""
    token = request.GET.get("timeline", "")
    if token:
        try:
            return timeline_cursor_decode(token)
        except InvalidCursorError:
            messages.warning(request, "That timeline page link is not valid: newest first.")
    return None, False


def timeline_page_context(base: str, page: TimelinePage) -> dict[str, Any]:
    """A timeline page's rows and its older/newer links, on the page at ``base`` (the order's
    or the customer's)."""
    return {
        "timeline": timeline_rows(page.entries),
        "timeline_older_url": (
            f"{base}?timeline={timeline_cursor_encode(page.next)}#timeline" if page.next else None
        ),
        "timeline_newer_url": (
            f"{base}?timeline={timeline_cursor_encode(page.previous, reverse=True)}#timeline"
            if page.previous
            else None
        ),
    }


class OrderTimelineAdminMixin:
    """The order page's timeline and its note form (``change_form_outer_after_template``)."""

    change_form_outer_after_template = "admin/orders/order/timeline.html"
    # The history page leads with the same timeline in words (moves with their reasons, notes,
    # field changes, SMS), then the audit records, each with what changed from → to.
    object_history_template = "admin/orders/order/object_history.html"

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]  # the host ModelAdmin's
        context = dict(extra_context or {})
        if order is not None:
            context.update(self.timeline_context(request, order), note_form=None)
        return super().history_view(request, object_id, extra_context=context)  # type: ignore[misc]  # SimpleHistoryAdmin's

    def has_note_order_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("orders.note_order")

    def get_urls(self) -> list:
        urls = super().get_urls()  # type: ignore[misc]  # the host ModelAdmin's
        view = self.admin_site.admin_view(require_POST(self.add_note_view))  # type: ignore[attr-defined]  # the host ModelAdmin's
        return [path("<path:object_id>/notes/", view, name="orders_order_add_note"), *urls]

    def add_note_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]  # the host ModelAdmin's
        if order is None or not self.has_view_permission(request, order):  # type: ignore[attr-defined]  # the host ModelAdmin's
            raise Http404("No such order.")
        if not self.has_note_order_permission(request):
            raise PermissionDenied
        form = NoteForm(request.POST)
        if request.headers.get("X-Requested-With") == "fetch":
            return self.add_note_in_place(request, order, form)
        admin_form_submit(
            request,
            form,
            lambda data: order_note_add(
                order=order, text=data["text"], actor=request.user, channel=Channel.ADMIN
            ),
            failure_prefix="Note not added: ",
            success=f"Note added to {order}.",
        )
        return HttpResponseRedirect(self.order_url(order) + "#timeline")

    def add_note_in_place(self, request: HttpRequest, order: Order, form: NoteForm) -> JsonResponse:
        """The note box's own request (``orders/js/note-form.js``): the page is not left, so
        nothing else typed on it is lost. Answers the outcome and the timeline's first page."""
        errors: list[str] = [str(e) for field in form.errors.values() for e in field]
        if not errors:
            try:
                with transaction.atomic():
                    order_note_add(
                        order=order,
                        text=form.cleaned_data["text"],
                        actor=request.user,
                        channel=Channel.ADMIN,
                    )
            except ADMIN_MAPPED_ERRORS as exc:
                errors = [admin_error_message(exc)]
        if errors:
            return JsonResponse({"errors": [f"Note not added: {e}" for e in errors]}, status=400)
        page = order_timeline(order=order, page_size=TIMELINE_PAGE_SIZE)
        timeline = render_to_string(
            "admin/orders/timeline_table.html",
            {"entries": timeline_rows(page.entries), "show_order": False},
            request=request,
        )
        return JsonResponse({"message": f"Note added to {order}.", "timeline": timeline})

    def order_url(self, order: Order) -> str:
        return reverse("admin:orders_order_change", args=[order.pk])

    def timeline_context(self, request: HttpRequest, order: Order) -> dict[str, Any]:
        """The timeline page the order page shows (``?timeline=<cursor>`` pages through it)."""
        cursor, backwards = timeline_cursor_from(request)
        page = order_timeline(
            order=order, page_size=TIMELINE_PAGE_SIZE, cursor=cursor, reverse=backwards
        )
        return {
            **timeline_page_context(self.order_url(order), page),
            "note_form": NoteForm() if self.has_note_order_permission(request) else None,
            "note_url": reverse("admin:orders_order_add_note", args=[order.pk]),
        }
