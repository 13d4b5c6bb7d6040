"""The order list's moves: asked first on a page of their own, then made in the request or,
past ``ORDERS_BULK_ACTION_MAX`` orders, handed to the worker as a job.

The page says how many of the selection can make the move and why the others cannot (by
status), how many SMS it sends (with an example text) and whether the hourly cap has room, and
asks for the reason once when the move needs one. The move itself goes through
``transitions.order_transition_many``, each order conditional on the version the list showed; a
job (``move_jobs.order_move_job_create``, its page ``admin_move_jobs``) does the same on the
worker.
"""

from collections import Counter
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import helpers
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextareaWidget

from apps.admin_toolkit.errors import admin_errors
from apps.admin_toolkit.mixins import ROW_VERSION_PREFIX, row_versions_posted
from apps.core.actors import Channel
from apps.core.text import is_ascii_digits
from apps.notifications.services import sms_hourly_room

from .admin_move_jobs import move_job_url
from .admin_sms import sms_preview
from .models import Order
from .move_jobs import order_move_job_create
from .moves import MOVE_TO, Move
from .rules import (
    MAX_REASON_LENGTH,
    OTHER_CANCEL_REASON,
    TRANSITIONS,
    cancel_reasons,
    order_transition_allowed,
)
from .sms import order_sms_draft, orders_with_relations
from .transitions import TransitionOutcome, order_transition_many


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _from_statuses(to: str) -> list[str]:
    return [status for status, targets in TRANSITIONS.items() if to in targets]


def move_texts_customer(move: Move) -> bool:
    return move.to in settings.SMS_NOTIFY_STATUSES


def transition_outcome_message(outcome: TransitionOutcome) -> tuple[str, int]:
    """The admin message for a bulk move and its level: how many moved, how many were skipped
    and why (their status), and which changed since the list was loaded."""
    move = MOVE_TO[outcome.to]
    moved = len(outcome.moved)
    text = f"{move.done} {plural(moved, 'order')}."
    if not (outcome.skipped or outcome.stale):
        return text, messages.SUCCESS
    if outcome.skipped:
        why = ", ".join(f"{n:,} {status}" for status, n in sorted(outcome.skipped.items()))
        allowed = " or ".join(_from_statuses(outcome.to))
        text += (
            f" Skipped {plural(outcome.skipped_count, 'order')} ({why}): only {allowed} orders "
            f"can move to {outcome.to}."
        )
    if outcome.stale:
        numbers = ", ".join(str(o.number) for o in outcome.stale[:10])
        more = f" and {len(outcome.stale) - 10:,} more" if len(outcome.stale) > 10 else ""
        text += (
            f" Not moved, because someone changed them after the list was loaded: "
            f"{numbers}{more}. Reload the list and try again."
        )
    return text, messages.WARNING if moved else messages.ERROR


def _reason_choices() -> list[tuple[str, str]]:
    # A blank first choice: a reason is chosen, never taken by default.
    return [("", "Choose a reason…"), *cancel_reasons()]


def reason_code_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Reason",
        choices=_reason_choices,
        widget=UnfoldAdminSelectWidget,
        help_text="Kept on the order's timeline; not sent to the customer.",
    )


def reason_field() -> forms.CharField:
    return forms.CharField(
        label="In words",
        required=False,
        max_length=MAX_REASON_LENGTH,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text="Required for “Other”; optional otherwise.",
    )


class ReasonCheck:
    """ "Other" needs words (the service says so too; here the form shows it by the field)."""

    def clean(self) -> dict[str, Any]:
        data = super().clean()  # type: ignore[misc]  # forms.Form's
        if data.get("reason_code") == OTHER_CANCEL_REASON and not data.get("reason", "").strip():
            self.add_error("reason", "Say why the order is cancelled.")  # type: ignore[attr-defined]  # forms.Form's
        return data


class MoveReasonForm(ReasonCheck, forms.Form):
    """The reason asked once for every order of a list move that needs one (a cancellation:
    its reason code, and words)."""

    reason_code = reason_code_field()
    reason = reason_field()


class OrderMoveListAdminMixin:
    """The list actions of the moves (``admin_moves.with_moves`` makes one per move)."""

    def move_selected(
        self, request: HttpRequest, queryset: QuerySet[Order], move: Move
    ) -> HttpResponse | None:
        """Ask, then move the selected orders that may make ``move`` (see the module doc)."""
        by_status = Counter(dict(queryset.order_by().values_list("status").annotate(n=Count("pk"))))
        count = sum(by_status.values())
        eligible = sum(
            n for status, n in by_status.items() if order_transition_allowed(status, move.to)
        )
        if eligible == 0:
            allowed = " or ".join(_from_statuses(move.to))
            messages.warning(
                request,
                f"None of the {plural(count, 'selected order')} can move to {move.to}: only "
                f"{allowed} orders can. Nothing was changed.",
            )
            return None
        as_job = eligible > settings.ORDERS_BULK_ACTION_MAX
        if as_job and eligible > settings.ORDERS_MOVE_JOB_MAX:
            messages.error(
                request,
                f"{plural(eligible, 'order')} can move: at most "
                f"{settings.ORDERS_MOVE_JOB_MAX:,} move at a time (filter the list, e.g. by "
                "status or date).",
            )
            return None
        posted = "reason_code" in request.POST or "reason" in request.POST
        form = MoveReasonForm(request.POST if posted else None)
        if request.POST.get("post") == "yes" and (not move.reason_required or form.is_valid()):
            versions = {
                int(pk): v for pk, v in row_versions_posted(request).items() if is_ascii_digits(pk)
            }
            reason = form.cleaned_data["reason"] if move.reason_required else None
            code = form.cleaned_data["reason_code"] if move.reason_required else None
            if as_job:
                return self.move_selected_as_job(
                    request, queryset, move, reason, versions, reason_code=code
                )
            with admin_errors(request):
                outcome = order_transition_many(
                    orders=list(queryset),
                    to=move.to,
                    actor=request.user,
                    channel=Channel.ADMIN,
                    reason=reason,
                    reason_code=code,
                    expected_versions=versions,
                )
                text, level = transition_outcome_message(outcome)
                messages.add_message(request, level, text)
            return None
        return self._move_selected_page(request, queryset, move, by_status, eligible, form)

    def move_selected_as_job(
        self,
        request: HttpRequest,
        queryset: QuerySet[Order],
        move: Move,
        reason: str | None,
        versions: dict[int, int],
        *,
        reason_code: str | None = None,
    ) -> HttpResponse | None:
        """More than ``ORDERS_BULK_ACTION_MAX`` orders: the worker moves them as a job whose
        page follows its progress (``admin_move_jobs``)."""
        with admin_errors(request) as failed:
            job = order_move_job_create(
                orders=queryset,
                to=move.to,
                actor=request.user,
                channel=Channel.ADMIN,
                reason=reason,
                reason_code=reason_code,
                expected_versions=versions,
            )
        if failed:
            return None
        messages.success(
            request,
            f"Moving {plural(job.total, 'order')} to {move.to} in the background: this page "
            "follows it.",
        )
        return HttpResponseRedirect(move_job_url(job))

    def _move_selected_page(
        self,
        request: HttpRequest,
        queryset: QuerySet[Order],
        move: Move,
        by_status: Counter[str],
        eligible: int,
        form: MoveReasonForm,
    ) -> TemplateResponse:
        count = sum(by_status.values())
        texts = move_texts_customer(move)
        room = sms_hourly_room() if texts else None
        sample = list(queryset.select_related("customer").order_by("-date_created", "-id")[:20])
        select_across = request.POST.get("select_across", "0") == "1"
        example = next((o for o in sample if order_transition_allowed(o.status, move.to)), None)
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]  # the host ModelAdmin's
            "title": f"{move.label.rstrip('…')} orders",
            "subtitle": None,
            "opts": Order._meta,
            "move": move,
            "orders": sample,
            "count": count,
            "eligible": eligible,
            "skipped": count - eligible,
            "skipped_by_status": sorted(
                (s, n) for s, n in by_status.items() if not order_transition_allowed(s, move.to)
            ),
            "allowed_from": " or ".join(_from_statuses(move.to)),
            "texts_customer": texts,
            "sms_room": room,
            # The message one of them gets, as an example of what every customer is sent.
            "sms_example": (
                sms_preview(
                    order_sms_draft(order=orders_with_relations([example])[0], status=move.to)
                )
                if texts and example is not None
                else None
            ),
            "sms_over_cap": room is not None and eligible > room,
            "form": form if move.reason_required else None,
            # Across pages the list's filters (in the URL) select; a few ids keep Django's
            # "something is selected" check happy. Otherwise the page's ids themselves.
            "selected_ids": (
                [o.pk for o in sample]
                if select_across
                else list(queryset.values_list("pk", flat=True))
            ),
            "as_job": eligible > settings.ORDERS_BULK_ACTION_MAX,
            "in_request_max": settings.ORDERS_BULK_ACTION_MAX,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action_name": f"{move.verb}_orders",
            # The versions the list showed travel through this page to the move.
            "row_versions": [
                (f"{ROW_VERSION_PREFIX}{pk}", version)
                for pk, version in row_versions_posted(request).items()
            ],
            "select_across": "1" if select_across else "0",
        }
        return TemplateResponse(request, "admin/orders/order/move_orders.html", context)
