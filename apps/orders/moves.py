"""The order moves as one table: every action, dialog, permission and message is made from it.

Each :class:`Move` takes an order to ``to``; ``rules.TRANSITIONS`` says from where. The admin
builds its list, row and page actions from this table (``admin_moves.py``); the permission an
actor needs is ``orders.<verb>_order``; a move whose status is in ``SMS_NOTIFY_STATUSES`` texts
the customer.
"""

from dataclasses import dataclass

from .models import OrderStatus


@dataclass(frozen=True)
class Move:
    to: OrderStatus
    #: In URLs, action names and the permission codename (``<verb>_order``).
    verb: str
    #: On a button or a menu entry: "Mark dispatched".
    label: str
    #: In the message after it: "Marked dispatched 3 orders."
    done: str
    #: The dialog's question and its buttons: go ahead, or leave the order as it is.
    question: str
    submit: str
    keep: str
    icon: str
    reason_required: bool = False

    @property
    def codename(self) -> str:
        return f"{self.verb}_order"

    @property
    def permission(self) -> str:
        return f"orders.{self.codename}"


MOVES: tuple[Move, ...] = (
    Move(
        to=OrderStatus.CONFIRMED,
        verb="confirm",
        label="Confirm",
        done="Confirmed",
        question="Confirm this order?",
        submit="Confirm order",
        keep="Not now",
        icon="check",
    ),
    Move(
        to=OrderStatus.DISPATCHED,
        verb="dispatch",
        label="Mark dispatched",
        done="Marked dispatched",
        question="Mark this order dispatched?",
        submit="Mark dispatched",
        keep="Not now",
        icon="local_shipping",
    ),
    Move(
        to=OrderStatus.DELIVERED,
        verb="deliver",
        label="Mark delivered",
        done="Marked delivered",
        question="Mark this order delivered?",
        submit="Mark delivered",
        keep="Not now",
        icon="inventory",
    ),
    Move(
        to=OrderStatus.CANCELLED,
        verb="cancel",
        label="Cancel…",
        done="Cancelled",
        question="Cancel this order?",
        submit="Cancel order",
        keep="Keep order",
        icon="cancel",
        reason_required=True,
    ),
)

MOVE_TO: dict[str, Move] = {move.to: move for move in MOVES}
