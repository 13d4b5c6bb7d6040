"""Order rules that hold whichever way an order is written (admin, API, spreadsheet import).

Pure functions on plain values: the services, the API's input validation and the import's
row rules all call them, so each rule is written once. The status workflow lives here too:
the transition table, who may make each move, what a status locks.
"""

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings

from apps.core.errors import DomainError
from apps.core.text import NOTE_MAX_LENGTH, note_clean, text_problem

from .models import OrderStatus
from .moves import MOVES

#: PositiveIntegerField's ceiling on every supported database.
MAX_QUANTITY = 2_147_483_647


def order_quantity_clean(value: Any) -> int:
    """A quantity as a whole number from 1 to ``MAX_QUANTITY``; ``ValueError`` says why not."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except (TypeError, ValueError):
            raise ValueError("Quantity must be a whole number.") from None
    if value < 1:
        raise ValueError("Quantity must be at least 1.")
    if value > MAX_QUANTITY:
        raise ValueError("Quantity is too large.")
    return value


def order_unit_price(
    *, item_price: Decimal, item_changed: bool, current: Decimal | None = None
) -> Decimal:
    """The price an order line is charged at.

    A new order, or an order moved to another item, takes the item's current price; an order
    whose item stays keeps the price it was created with, whatever the item costs now.
    """
    if current is None or item_changed:
        return item_price
    return current


# --- status workflow ------------------------------------------------------------------------

#: Every move an order may make: from a status to the statuses it may go to. Nothing else moves.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.DISPATCHED, OrderStatus.CANCELLED}),
    OrderStatus.DISPATCHED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

#: The permission each move needs, by target status (``moves.MOVES``).
TRANSITION_PERMISSIONS: Mapping[str, str] = {move.to: move.permission for move in MOVES}

#: Moves that must say why.
REASON_REQUIRED = frozenset(move.to for move in MOVES if move.reason_required)
MAX_REASON_LENGTH = 1000
MAX_NOTE_LENGTH = NOTE_MAX_LENGTH

#: From these statuses on, customer, item and quantity can no longer change (nor the order be
#: deleted); delivered and cancelled orders are read-only except for notes.
LOCKED_STATUSES = frozenset({OrderStatus.DISPATCHED, OrderStatus.DELIVERED, OrderStatus.CANCELLED})
FINAL_STATUSES = frozenset({OrderStatus.DELIVERED, OrderStatus.CANCELLED})
#: Statuses whose orders count in revenue, totals and lifetime value.
REVENUE_EXCLUDED = frozenset({OrderStatus.CANCELLED})


class OrderError(DomainError):
    pass


class InvalidTransitionError(OrderError):
    """The order's status does not allow the move; ``allowed`` lists what it does allow."""

    code = "invalid_transition"

    def __init__(self, *, number: int, current: str, to: str) -> None:
        self.current = current
        self.to = to
        self.allowed = order_transitions_from(current)
        if self.allowed:
            hint = "it can move to " + " or ".join(self.allowed)
        else:
            hint = f"a {current} order does not move any more"
        super().__init__(f"Order {number} is {current}: it cannot move to {to} ({hint}).")

    def details(self) -> dict[str, Any]:
        return {"current": self.current, "allowed": self.allowed}


class DuplicateExternalReferenceError(OrderError):
    """Another order already carries the external reference (a retried create, most often)."""

    code = "duplicate_external_reference"

    def __init__(self, *, reference: str, number: int) -> None:
        self.number = number
        super().__init__(
            f"Order {number} already has the external reference “{reference}”: nothing was created."
        )

    def details(self) -> dict[str, Any]:
        return {"order_number": self.number}


class OrderLockedError(OrderError):
    """A change to an order whose status no longer allows it."""

    code = "order_locked"


def order_transitions_from(status: str) -> list[str]:
    """The statuses an order in ``status`` may move to, in workflow order."""
    allowed = TRANSITIONS.get(status, frozenset())
    return [s for s in OrderStatus.values if s in allowed]


def order_transition_allowed(current: str, to: str) -> bool:
    return to in TRANSITIONS.get(current, frozenset())


def order_status_clean(value: Any) -> str:
    """A status name (any case, surrounding blanks ignored); ``ValueError`` says which exist."""
    text = str(value).strip().lower()
    if text not in OrderStatus.values:
        raise ValueError(f"Unknown status “{value}”: use one of {', '.join(OrderStatus.values)}.")
    return text


class CancelReasonError(ValueError):
    """A move's reason cannot be recorded; ``field`` says which input is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def order_transition_reason_clean(
    *, to: str, reason: str | None, reason_code: str | None = None
) -> tuple[str, str]:
    """The reason code and words to record for a move to ``to``: a cancellation needs a reason
    code (``order_cancel_reason_clean``), other moves may say why in words (kept if given);
    ``CancelReasonError`` says why not, and about which field."""
    if to == OrderStatus.CANCELLED:
        return order_cancel_reason_clean(code=reason_code, text=reason)
    if reason_code:
        raise CancelReasonError("reason_code", "Only a cancellation has a reason code.")
    text = (reason or "").strip()
    if to in REASON_REQUIRED and not text:
        raise CancelReasonError("reason", f"A reason is required to move an order to {to}.")
    if len(text) > MAX_REASON_LENGTH:
        raise CancelReasonError(
            "reason", f"The reason is too long (at most {MAX_REASON_LENGTH} characters)."
        )
    return "", _reason_words_check(text)


def _reason_words_check(words: str) -> str:
    """A move's reason in words under the multi-line text rule (``apps.core.text``)."""
    problem = text_problem(words, multiline=True)
    if problem is not None:
        raise CancelReasonError("reason", f"The reason {problem}.")
    return words


# --- cancellation reasons ---------------------------------------------------------------------

#: Always offered after the configured reasons; needs words saying why.
OTHER_CANCEL_REASON = "other"
CANCEL_REASON_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def cancel_reasons() -> list[tuple[str, str]]:
    """(code, label) of every reason an order may be cancelled for: ``ORDER_CANCEL_REASONS``
    (``code=Label`` pairs), then "other"."""
    reasons: list[tuple[str, str]] = []
    for entry in settings.ORDER_CANCEL_REASONS:
        code, _, label = str(entry).partition("=")
        code = code.strip()
        # A malformed entry is reported by ``checks.order_cancel_reasons_check``.
        if CANCEL_REASON_CODE.match(code) and code != OTHER_CANCEL_REASON:
            reasons.append((code, label.strip() or code))
    return [*reasons, (OTHER_CANCEL_REASON, "Other (say why)")]


def cancel_reason_label(code: str) -> str:
    """How a stored reason code reads (the code itself once it left the configuration)."""
    if not code:
        return "not recorded"
    return dict(cancel_reasons()).get(code, code)


def reason_text(*, code: str, words: str) -> str:
    """A move's reason in one line: a cancellation's reason, then the words ("Out of stock —
    call Friday"); the words alone for "other" or a move without a code."""
    why = [words] if words else []
    if code and code != OTHER_CANCEL_REASON:
        why.insert(0, cancel_reason_label(code))
    return " — ".join(why)


def order_cancel_reason_clean(*, code: Any, text: Any) -> tuple[str, str]:
    """The reason code and words recorded for a cancellation; ``ValueError`` (with the field it
    is about) says why they cannot be. Words alone (as before reasons had codes) are "other"."""
    words = str(text or "").strip()
    chosen = str(code or "").strip() or (OTHER_CANCEL_REASON if words else "")
    codes = [c for c, _ in cancel_reasons()]
    if not chosen:
        raise CancelReasonError("reason_code", "Choose why the order is cancelled.")
    if chosen not in codes:
        raise CancelReasonError(
            "reason_code", f"Unknown cancellation reason “{chosen}”: use one of {', '.join(codes)}."
        )
    if chosen == OTHER_CANCEL_REASON and not words:
        raise CancelReasonError("reason", "Say why the order is cancelled (reason “other”).")
    if len(words) > MAX_REASON_LENGTH:
        raise CancelReasonError(
            "reason", f"The reason is too long (at most {MAX_REASON_LENGTH} characters)."
        )
    return chosen, _reason_words_check(words)


def order_note_clean(text: Any) -> str:
    return note_clean(text)


def order_fields_locked(status: str) -> bool:
    """Whether customer, item and quantity of an order in ``status`` are frozen."""
    return status in LOCKED_STATUSES


def order_locked_message(*, number: int | str, status: str) -> str:
    if status in FINAL_STATUSES:
        return f"Order {number} is {status}: it is read-only (notes can still be added)."
    return f"Order {number} is {status}: its customer, item and quantity can no longer change."
