"""Order rules that hold whichever way an order is written (admin, API, spreadsheet import).

Pure functions on plain values: the services, the API's input validation and the import's
row rules all call them, so each rule is written once.
"""

from decimal import Decimal
from typing import Any

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
