"""The order admin's moves, made from the one table (``moves.MOVES``).

For every move the table holds, :func:`with_moves` gives the order admin:

- a list action ``<verb>_orders`` that asks first on a page of its own, then moves the selection
  in the request or hands it to the worker as a job (``admin_move_list``);
- a row action ``<verb>_row`` and a page action ``<verb>_detail``, each behind a dialog (a POST,
  never a link that writes), through ``transitions.order_transition``;
- ``has_<verb>_order_permission``: the user's permission, and on one order whether its status
  allows the move. The rows' "…" menus and the order page offer only the moves that status
  allows (``row_actions``), so nothing is offered that would then be refused.
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import get_template
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from unfold.decorators import action, display
from unfold.utils import display_for_label

from apps.admin_toolkit.errors import admin_errors
from apps.core.actors import Channel
from apps.core.text import is_ascii_digits
from apps.notifications.services import RESEND_PERMISSION

from .admin_move_list import (
    OrderMoveListAdminMixin,
    ReasonCheck,
    move_texts_customer,
    reason_code_field,
    reason_field,
)
from .admin_sms import SmsPreviewDialogForm
from .models import Order
from .moves import MOVES, Move
from .rules import order_transition_allowed
from .sms import order_sms_resend_kind
from .transitions import order_transition

STATUS_COLOURS: dict[str, str] = {
    "placed": "info",
    "confirmed": "primary",
    "dispatched": "warning",
    "delivered": "success",
    "cancelled": "danger",
}


@functools.cache
def status_badge(status: str) -> SafeString:
    """The status's coloured badge, rendered once per status and process (not once per row)."""
    return display_for_label(status, "-", STATUS_COLOURS)


def move_dialog_form(move: Move) -> type[SmsPreviewDialogForm]:
    """The form of a move's row or page dialog: the SMS the move sends (when its status
    notifies), and the reason when the move needs one (a cancellation: its reason code, and
    words)."""
    fields: dict[str, Any] = {"sms_status": move.to, "__module__": __name__}
    bases: tuple[type, ...] = (SmsPreviewDialogForm,)
    if move.reason_required:
        fields["reason_code"] = reason_code_field()
        fields["reason"] = reason_field()
        bases = (ReasonCheck, SmsPreviewDialogForm)
    return type(f"{move.verb.capitalize()}DialogForm", bases, fields)


def _dialog(move: Move) -> dict[str, Any]:
    dialog: dict[str, Any] = {
        "title": move.question,
        "description": (
            "The customer gets an SMS about it."
            if move_texts_customer(move)
            else "The customer is not sent an SMS for this move."
        ),
        "form_submit_text": move.submit,
        "form_cancel_text": move.keep,
        "form_class": move_dialog_form(move),
    }
    return dialog


def _list_action(move: Move) -> Callable[..., Any]:
    def run(self: Any, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        return self.move_selected(request, queryset, move)

    run.__name__ = f"{move.verb}_orders"
    return action(
        description=f"{move.label.rstrip('…')} selected orders…", permissions=[move.codename]
    )(run)


def _one_action(move: Move, *, row: bool) -> Callable[..., Any]:
    def run(self: Any, request: HttpRequest, form: Any, object_id: str) -> HttpResponse:
        data = form.cleaned_data if move.reason_required else {}
        return self.move_one(
            request,
            object_id,
            move,
            reason=data.get("reason"),
            reason_code=data.get("reason_code"),
            row=row,
        )

    run.__name__ = f"{move.verb}_{'row' if row else 'detail'}"
    return action(
        description=move.label,
        permissions=[move.codename],
        url_path=f"{move.verb}-row" if row else move.verb,
        icon=move.icon,
        dialog=_dialog(move),
    )(run)


def _permission(move: Move) -> Callable[..., bool]:
    def has_permission(self: Any, request: HttpRequest, object_id: Any = None) -> bool:
        return self.may_move(request, move, object_id)

    has_permission.__name__ = f"has_{move.codename}_permission"
    return has_permission


def with_moves[T](cls: type[T]) -> type[T]:
    """Give an admin class the list, row and page actions and the permission of every move."""
    for move in MOVES:
        setattr(cls, f"{move.verb}_orders", _list_action(move))
        setattr(cls, f"{move.verb}_row", _one_action(move, row=True))
        setattr(cls, f"{move.verb}_detail", _one_action(move, row=False))
        setattr(cls, f"has_{move.codename}_permission", _permission(move))
    return cls


MOVE_LIST_ACTIONS = tuple(f"{move.verb}_orders" for move in MOVES)
MOVE_ROW_ACTIONS = tuple(f"{move.verb}_row" for move in MOVES)
MOVE_DETAIL_ACTIONS = tuple(f"{move.verb}_detail" for move in MOVES)


@with_moves
class OrderMovesAdminMixin(OrderMoveListAdminMixin):
    """The moves of ``OrderAdmin`` (see the module docstring)."""

    # --- who may make which move ------------------------------------------------------------

    def order_status(self, request: HttpRequest, object_id: Any) -> str | None:
        """The status of the order ``object_id``, read once per request."""
        cache: dict[str, str | None] = request.__dict__.setdefault("_order_statuses", {})
        key = str(object_id)
        if key not in cache:
            pk = unquote(key)
            cache[key] = (
                Order.objects.filter(pk=pk).values_list("status", flat=True).first()
                if is_ascii_digits(pk)
                else None
            )
        return cache[key]

    def may_move(self, request: HttpRequest, move: Move, object_id: Any = None) -> bool:
        if not request.user.has_perm(move.permission):
            return False
        if object_id is None:
            return True
        status = self.order_status(request, object_id)
        return status is not None and order_transition_allowed(status, move.to)

    def moves_offered(self, request: HttpRequest, status: str) -> list[Move]:
        """The moves an order in ``status`` offers this user, in workflow order."""
        return [
            m
            for m in MOVES
            if order_transition_allowed(status, m.to) and request.user.has_perm(m.permission)
        ]

    # --- the rows' "…" menus ------------------------------------------------------------------

    def get_actions_row(self, request: HttpRequest) -> list:
        # unfold gives every row the same menu; each order row offers only what its status
        # allows instead (``row_actions_display``). The row actions' URLs stay registered.
        return []

    def row_actions_offered(self, request: HttpRequest, order: Order) -> list[dict[str, str]]:
        """The menu of one row: the moves its status allows and "Resend SMS" where a message
        applies, each as far as the user may."""
        offered = [
            {
                "title": m.label,
                "icon": m.icon,
                "url": reverse(f"admin:orders_order_{m.verb}_row", args=[order.pk]),
            }
            for m in self.moves_offered(request, order.status)
        ]
        if request.user.has_perm(RESEND_PERMISSION) and order_sms_resend_kind(order.status):
            offered.append(
                {
                    "title": "Resend SMS",
                    "icon": "sms",
                    "url": reverse("admin:orders_order_resend_sms_row", args=[order.pk]),
                }
            )
        return offered

    def get_list_display(self, request: HttpRequest) -> Sequence[Any]:
        columns = list(super().get_list_display(request))  # type: ignore[misc]  # the host ModelAdmin's
        template = get_template("admin/orders/order/row_actions.html")

        @display(description="")
        def row_actions(order: Order) -> str:
            actions = self.row_actions_offered(request, order)
            return template.render({"actions": actions, "action_id": order.pk})

        return [*columns, row_actions]

    # --- one order (row and page actions) ---------------------------------------------------

    def move_one(
        self,
        request: HttpRequest,
        object_id: str,
        move: Move,
        *,
        reason: str | None,
        row: bool,
        reason_code: str | None = None,
    ) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]  # the host ModelAdmin's
        if order is None:
            raise Http404("No such order.")
        with admin_errors(request) as failed:
            order_transition(
                order=order,
                to=move.to,
                actor=request.user,
                channel=Channel.ADMIN,
                reason=reason,
                reason_code=reason_code,
            )
        if not failed:
            sms = " The customer's SMS is queued." if move_texts_customer(move) else ""
            messages.success(request, f"{order} is now {move.to}.{sms}")
        url = self.back_to_list(request) if row else self.order_url(order)
        if request.headers.get("HX-Request"):
            return HttpResponse(headers={"HX-Redirect": url})
        return HttpResponseRedirect(url)

    def order_url(self, order: Order) -> str:
        return reverse("admin:orders_order_change", args=[order.pk])

    def back_to_list(self, request: HttpRequest) -> str:
        """Back to the list the row was on (its filters kept), else the plain list."""
        referer = request.headers.get("Referer", "")
        list_url = reverse("admin:orders_order_changelist")
        safe = url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        return referer if safe and list_url in referer else list_url
