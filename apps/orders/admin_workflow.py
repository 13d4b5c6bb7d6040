"""The order admin's workflow pieces: status badge, the move actions, notes and the timeline.

Mixed into ``OrderAdmin``. Every move goes through ``services.order_transition`` (one order)
or ``order_transition_many`` (a selection); the actions only ask, report and redirect.

- List actions (selected rows): "Confirm", "Mark dispatched", "Mark delivered" run at once;
  "Cancel…" asks for the reason once for the whole selection. Orders that may not make the
  move are skipped and counted by status. At most ``ORDERS_BULK_ACTION_MAX`` orders at a time.
- Row and page actions: the same moves for one order, each behind a dialog (a POST, never a
  link that writes). The order page shows only the moves its status allows.
- Each move needs its own permission (``orders.confirm_order`` …, ``rules.TRANSITION_PERMISSIONS``).
"""

import functools
import re
from collections.abc import Callable, Sequence
from copy import deepcopy
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST
from unfold.decorators import action, display
from unfold.forms import BaseDialogForm
from unfold.utils import display_for_label
from unfold.widgets import UnfoldAdminTextareaWidget

from apps.admin_toolkit.mixins import ROW_VERSION_PREFIX, row_versions_posted
from apps.core.errors import DomainError

from .models import Order, OrderStatus
from .rules import (
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    TRANSITION_PERMISSIONS,
    TRANSITIONS,
    order_transition_allowed,
)
from .services import TransitionOutcome, order_note_add, order_transition, order_transition_many
from .timeline import (
    InvalidCursorError,
    TimelineEntry,
    TimelinePage,
    order_timeline,
    timeline_cursor_decode,
    timeline_cursor_encode,
)

STATUS_COLOURS: dict[str, str] = {
    OrderStatus.PLACED: "info",
    OrderStatus.CONFIRMED: "primary",
    OrderStatus.DISPATCHED: "warning",
    OrderStatus.DELIVERED: "success",
    OrderStatus.CANCELLED: "danger",
}
TIMELINE_COLOURS: dict[str, str] = {
    "created": "info",
    "status": "primary",
    "note": "warning",
    "change": "",
    "sms": "success",
}
#: What each move is called on a button, and in the message after it.
MOVES = {
    OrderStatus.CONFIRMED: ("Confirm", "Confirmed"),
    OrderStatus.DISPATCHED: ("Mark dispatched", "Marked dispatched"),
    OrderStatus.DELIVERED: ("Mark delivered", "Marked delivered"),
    OrderStatus.CANCELLED: ("Cancel…", "Cancelled"),
}
TIMELINE_PAGE_SIZE = 50
ROW_PK = "__pk__"
_TD = re.compile(r"^\s*<td[^>]*>(?P<inner>.*)</td>\s*$", re.DOTALL)


@functools.cache
def status_badge(status: str) -> SafeString:
    """The status's coloured badge, rendered once per status and process (not once per row)."""
    return display_for_label(status, "-", STATUS_COLOURS)


def timeline_rows(entries: list[TimelineEntry]) -> list[tuple[TimelineEntry, str]]:
    """Entries with the colour of their badge, as ``admin/orders/timeline_table.html`` shows
    them."""
    return [(entry, TIMELINE_COLOURS.get(entry.kind, "")) for entry in entries]


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


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _from_statuses(to: str) -> list[str]:
    return [s for s in OrderStatus.values if to in TRANSITIONS[s]]


def transition_outcome_message(outcome: TransitionOutcome) -> tuple[str, int]:
    """The admin message for a bulk move and its level: how many moved, how many were skipped
    and why (their status)."""
    moved = len(outcome.moved)
    text = f"{MOVES[OrderStatus(outcome.to)][1]} {_plural(moved, 'order')}."
    if not (outcome.skipped or outcome.stale):
        return text, messages.SUCCESS
    if outcome.skipped:
        why = ", ".join(f"{n:,} {status}" for status, n in sorted(outcome.skipped.items()))
        allowed = " or ".join(_from_statuses(outcome.to))
        text += (
            f" Skipped {_plural(outcome.skipped_count, 'order')} ({why}): only {allowed} orders "
            f"can move to {outcome.to}."
        )
    if outcome.stale:
        refs = ", ".join(o.reference for o in outcome.stale[:10])
        more = f" and {len(outcome.stale) - 10:,} more" if len(outcome.stale) > 10 else ""
        text += (
            f" Not moved, because someone changed them after the list was loaded: {refs}{more}. "
            "Reload the list and try again."
        )
    return text, messages.WARNING if moved else messages.ERROR


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label="Reason",
        max_length=MAX_REASON_LENGTH,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text="Required. Kept on the order's timeline; not sent to the customer.",
    )


class CancelReasonForm(BaseDialogForm):
    """The reason asked by the row and page "Cancel…" dialogs."""

    reason = _reason_field()


class BulkCancelForm(forms.Form):
    """The reason asked once for every order of a "Cancel selected orders…" action."""

    reason = _reason_field()


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Internal note",
        max_length=MAX_NOTE_LENGTH,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text="Seen by staff only; never sent to the customer.",
    )


def _dialog(to: str) -> dict[str, Any]:
    titles = {
        OrderStatus.CONFIRMED: ("Confirm this order?", "Confirm order"),
        OrderStatus.DISPATCHED: ("Mark this order dispatched?", "Mark dispatched"),
        OrderStatus.DELIVERED: ("Mark this order delivered?", "Mark delivered"),
        OrderStatus.CANCELLED: ("Cancel this order?", "Cancel order"),
    }
    title, submit = titles[OrderStatus(to)]
    notify = to in settings.SMS_NOTIFY_STATUSES
    dialog: dict[str, Any] = {
        "title": title,
        "description": (
            "The customer gets an SMS about it."
            if notify
            else "The customer is not sent an SMS for this move."
        ),
        "form_submit_text": submit,
    }
    if to == OrderStatus.CANCELLED:
        dialog["form_class"] = CancelReasonForm
    return dialog


# The row and page actions of each move: (label, the verb in its URL and permission, icon).
ROW_AND_PAGE_MOVES = {
    OrderStatus.CONFIRMED: ("Confirm", "confirm", "check"),
    OrderStatus.DISPATCHED: ("Mark dispatched", "dispatch", "local_shipping"),
    OrderStatus.DELIVERED: ("Mark delivered", "deliver", "inventory"),
    OrderStatus.CANCELLED: ("Cancel…", "cancel", "cancel"),
}


def _move_action_for(to: str, *, row: bool) -> Any:
    """The unfold action moving one order to ``to``, from its row in the list (``row``) or from
    its page; both call ``OrderWorkflowAdminMixin._move_action``."""
    label, verb, icon = ROW_AND_PAGE_MOVES[OrderStatus(to)]

    def move(self: Any, request: HttpRequest, form: Any, object_id: str) -> HttpResponse:
        return self._move_action(request, form, object_id, to=to, row=row)

    move.__name__ = f"{verb}_{'row' if row else 'detail'}"
    return action(
        description=label,
        permissions=[f"{verb}_order"],
        url_path=f"{verb}-row" if row else verb,
        icon=icon,
        dialog=_dialog(to),
    )(move)


class OrderWorkflowAdminMixin:
    """Status column, move actions (list, row, page), notes and the timeline on the order page.

    The host admin lists the action names in its ``actions``, ``actions_row`` and
    ``actions_detail`` (see ``OrderAdmin``).
    """

    change_form_outer_after_template = "admin/orders/order/timeline.html"

    # --- row actions, rendered once per page ------------------------------------------------

    def get_actions_row(self, request: HttpRequest) -> list:
        # unfold renders its row-actions template once per row and action (two URL reversals
        # each): five actions on 50 rows doubled the list's time. ``get_list_display`` renders
        # them once per page instead, with the same template.
        return []

    def _row_actions_html(self, request: HttpRequest) -> str | None:
        actions = [
            {
                "title": action.description,
                "icon": action.icon,
                "attrs": deepcopy(action.attrs or {}),
                "dialog": action.dialog,
                "display_in_dropdown": action.extra_options.get("display_in_dropdown", True),
                "raw_path": f"{self.admin_site.name}:{action.action_name}",  # type: ignore[attr-defined]
            }
            for action in super().get_actions_row(request)  # type: ignore[misc]
        ]
        if not actions:
            return None
        html = render_to_string(
            "unfold/helpers/actions_row.html",
            {"actions": actions, "instance_pk": ROW_PK},
            request=request,
        )
        match = _TD.match(html)
        return match.group("inner") if match else None

    def get_list_display(self, request: HttpRequest) -> Sequence[Any]:
        columns = list(super().get_list_display(request))  # type: ignore[misc]
        html = self._row_actions_html(request)
        if html is None:
            return columns

        def row_actions(obj: Order) -> SafeString:
            return mark_safe(html.replace(ROW_PK, escape(str(obj.pk))))  # noqa: S308

        row_actions.short_description = ""  # type: ignore[attr-defined]
        return [*columns, row_actions]

    # --- display ----------------------------------------------------------------------------

    @display(description="status", ordering="status")
    def status_display(self, obj: Order) -> SafeString:
        return status_badge(obj.status)

    @display(description="in this status since")
    def status_since_display(self, obj: Order) -> str:
        when = timezone.localtime(obj.status_changed_at or obj.date_created)
        return date_format(when, "DATETIME_FORMAT")

    # --- permissions ------------------------------------------------------------------------

    def _may_move(self, request: HttpRequest, to: str, object_id: Any) -> bool:
        if not request.user.has_perm(TRANSITION_PERMISSIONS[to]):
            return False
        if object_id is None:
            return True
        # On the order page only the moves its status allows are offered (one query per page:
        # the status is read once per request).
        cache: dict[str, str | None] = request.__dict__.setdefault("_order_statuses", {})
        key = str(object_id)
        if key not in cache:
            cache[key] = (
                Order.objects.filter(pk=unquote(key)).values_list("status", flat=True).first()
                if key.isdigit()
                else None
            )
        status = cache[key]
        return status is not None and order_transition_allowed(status, to)

    def has_confirm_order_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return self._may_move(request, OrderStatus.CONFIRMED, object_id)

    def has_dispatch_order_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return self._may_move(request, OrderStatus.DISPATCHED, object_id)

    def has_deliver_order_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return self._may_move(request, OrderStatus.DELIVERED, object_id)

    def has_cancel_order_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return self._may_move(request, OrderStatus.CANCELLED, object_id)

    def has_note_order_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("orders.note_order")

    # --- list actions -----------------------------------------------------------------------

    def _move_selected(
        self, request: HttpRequest, queryset: QuerySet[Order], to: str, reason: str | None = None
    ) -> None:
        limit = settings.ORDERS_BULK_ACTION_MAX
        count = queryset.count()
        if count > limit:
            messages.error(
                request,
                f"{_plural(count, 'order')} selected: select at most {limit:,} at a time (filter "
                "the list, e.g. by status or date).",
            )
            return
        # Each move is conditional on the version the list showed for that row.
        versions = {
            int(pk): version for pk, version in row_versions_posted(request).items() if pk.isdigit()
        }
        try:
            outcome = order_transition_many(
                orders=list(queryset),
                to=to,
                actor=request.user,
                reason=reason,
                expected_versions=versions,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return
        text, level = transition_outcome_message(outcome)
        messages.add_message(request, level, text)

    @action(description="Confirm selected orders", permissions=["confirm_order"])
    def confirm_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._move_selected(request, queryset, OrderStatus.CONFIRMED)

    @action(description="Mark selected orders dispatched", permissions=["dispatch_order"])
    def dispatch_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._move_selected(request, queryset, OrderStatus.DISPATCHED)

    @action(description="Mark selected orders delivered", permissions=["deliver_order"])
    def deliver_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._move_selected(request, queryset, OrderStatus.DELIVERED)

    @action(description="Cancel selected orders…", permissions=["cancel_order"])
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        form = BulkCancelForm(request.POST if "reason" in request.POST else None)
        if request.POST.get("post") == "yes" and form.is_valid():
            self._move_selected(
                request, queryset, OrderStatus.CANCELLED, form.cleaned_data["reason"]
            )
            return None
        limit = settings.ORDERS_BULK_ACTION_MAX
        count = queryset.count()
        if count > limit:
            self._move_selected(request, queryset, OrderStatus.CANCELLED)  # says why not
            return None
        orders = list(queryset.select_related("customer"))
        cancellable = [o for o in orders if order_transition_allowed(o.status, "cancelled")]
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": "Cancel orders",
            "subtitle": None,
            "opts": Order._meta,
            "orders": orders,
            "count": count,
            "cancellable": len(cancellable),
            "skipped": count - len(cancellable),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action_name": "cancel_orders",
            # The versions the list showed travel through this page to the move.
            "row_versions": [
                (f"{ROW_VERSION_PREFIX}{pk}", version)
                for pk, version in row_versions_posted(request).items()
            ],
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/orders/order/cancel_orders.html", context)

    # --- one order (row and page actions) ---------------------------------------------------

    def _move_one(
        self,
        request: HttpRequest,
        object_id: str,
        to: str,
        *,
        reason: str | None = None,
        back: Callable[[Order], str],
    ) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if order is None:
            raise Http404("No such order.")
        try:
            order_transition(order=order, to=to, actor=request.user, reason=reason)
        except DomainError as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            sms = " The customer's SMS is queued." if to in settings.SMS_NOTIFY_STATUSES else ""
            messages.success(request, f"Order {order.reference} is now {to}.{sms}")
        url = back(order)
        if request.headers.get("HX-Request"):
            return HttpResponse(headers={"HX-Redirect": url})
        return HttpResponseRedirect(url)

    def _change_url(self, order: Order) -> str:
        return reverse("admin:orders_order_change", args=[order.pk])

    def _list_url(self, order: Order) -> str:
        return reverse("admin:orders_order_changelist")

    def _back_to_list(self, request: HttpRequest) -> Callable[[Order], str]:
        """Back to the list the row was on (its filters kept), else the plain list."""
        referer = request.headers.get("Referer", "")
        list_url = reverse("admin:orders_order_changelist")
        safe = url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        if safe and list_url in referer:
            return lambda order: referer
        return self._list_url

    def _move_action(
        self, request: HttpRequest, form: Any, object_id: str, *, to: str, row: bool
    ) -> HttpResponse:
        """A row or page action (``ROW_AND_PAGE_MOVES``): move this order, back to where it was."""
        return self._move_one(
            request,
            object_id,
            to,
            reason=form.cleaned_data["reason"] if to == OrderStatus.CANCELLED else None,
            back=self._back_to_list(request) if row else self._change_url,
        )

    confirm_detail = _move_action_for(OrderStatus.CONFIRMED, row=False)
    dispatch_detail = _move_action_for(OrderStatus.DISPATCHED, row=False)
    deliver_detail = _move_action_for(OrderStatus.DELIVERED, row=False)
    cancel_detail = _move_action_for(OrderStatus.CANCELLED, row=False)
    confirm_row = _move_action_for(OrderStatus.CONFIRMED, row=True)
    dispatch_row = _move_action_for(OrderStatus.DISPATCHED, row=True)
    deliver_row = _move_action_for(OrderStatus.DELIVERED, row=True)
    cancel_row = _move_action_for(OrderStatus.CANCELLED, row=True)

    def get_urls(self) -> list:
        urls = super().get_urls()  # type: ignore[misc]
        view = self.admin_site.admin_view(require_POST(self.add_note_view))  # type: ignore[attr-defined]
        return [
            path("<path:object_id>/notes/", view, name="orders_order_add_note"),
            *urls,
        ]

    def add_note_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if order is None or not self.has_view_permission(request, order):  # type: ignore[attr-defined]
            raise Http404("No such order.")
        if not self.has_note_order_permission(request):
            raise PermissionDenied
        form = NoteForm(request.POST)
        if form.is_valid():
            try:
                order_note_add(order=order, text=form.cleaned_data["text"], actor=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, f"Note added to order {order.reference}.")
        else:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, f"Note not added: {error}")
        return HttpResponseRedirect(self._change_url(order) + "#timeline")

    def timeline_context(self, request: HttpRequest, order: Order) -> dict[str, Any]:
        """The timeline page the order page shows (``?timeline=<cursor>`` pages through it)."""
        token = request.GET.get("timeline", "")
        cursor, backwards = None, False
        if token:
            try:
                cursor, backwards = timeline_cursor_decode(token)
            except InvalidCursorError:
                messages.warning(request, "That timeline page link is not valid: newest first.")
        page: TimelinePage = order_timeline(
            order=order, page_size=TIMELINE_PAGE_SIZE, cursor=cursor, reverse=backwards
        )
        return {
            **timeline_page_context(self._change_url(order), page),
            "note_form": NoteForm() if self.has_note_order_permission(request) else None,
            "note_url": reverse("admin:orders_order_add_note", args=[order.pk]),
        }
