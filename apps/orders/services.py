from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.services import model_full_save, model_update
from apps.customers.models import Customer
from apps.customers.services import Actor
from apps.items.models import Item
from apps.notifications.services import sms_confirmation_queue
from apps.spreadsheets.engine import ImportReport, Table, log_import

from .models import Order

ORDER_UPDATE_FIELDS = ("customer", "item", "quantity")


def _check_quantity(quantity: Any) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        try:
            quantity = int(str(quantity))
        except (TypeError, ValueError):
            raise ValidationError({"quantity": "Quantity must be a whole number."}) from None
    if quantity < 1:
        raise ValidationError({"quantity": "Quantity must be at least 1."})
    return quantity


@transaction.atomic
def order_create(
    *,
    customer: Customer,
    item: Item,
    quantity: int,
    uuid: UUID | None = None,
    date_created: datetime | None = None,
    actor: Actor = None,
    send_confirmation: bool = True,
) -> Order:
    """Create an order, snapshotting the item's current price as ``unit_price``.

    Later changes to the item's price never change this order's total. With
    ``send_confirmation`` the SMS confirmation is queued in the same transaction (sent after
    commit, never if the order rolls back).
    """
    order = Order(
        customer=customer,
        item=item,
        quantity=_check_quantity(quantity),
        unit_price=item.price,
    )
    if uuid is not None:
        order.uuid = uuid
    if date_created is not None:
        order.date_created = date_created
    model_full_save(order)
    if send_confirmation:
        sms_confirmation_queue(order=order, actor=actor)
    return order


@transaction.atomic
def order_update(*, order: Order, data: Mapping[str, Any], actor: Actor = None) -> Order:
    """Change customer, item or quantity.

    Switching to another item re-snapshots ``unit_price`` from that item; changing only the
    quantity keeps the price the order was created with.
    """
    data = dict(data)
    if "quantity" in data:
        data["quantity"] = _check_quantity(data["quantity"])
    new_item = data.get("item")
    if new_item is not None and new_item.pk != order.item_id:
        data["unit_price"] = new_item.price
    order, _ = model_update(instance=order, fields=(*ORDER_UPDATE_FIELDS, "unit_price"), data=data)
    return order


@transaction.atomic
def order_delete(*, order: Order, actor: Actor = None) -> None:
    order.delete()


def order_import_rows(
    *,
    table: Table,
    dry_run: bool = False,
    send_confirmations: bool = False,
    actor: Actor = None,
    file_name: str | None = None,
) -> ImportReport:
    """Validate a spreadsheet of orders; unless ``dry_run`` or a row is invalid, write it.

    Customers and items are resolved in batches and new orders written in bulk, in one
    transaction, with ``unit_price`` copied from the item as in ``order_create``. SMS
    confirmations are queued for the new orders only when ``send_confirmations`` is set
    (apps/orders/imports.py).
    """
    from .imports import import_orders

    report = import_orders(
        table=table,
        dry_run=dry_run,
        send_confirmations=send_confirmations,
        actor=actor,
        file_name=file_name,
    )
    log_import(report, model="orders", actor=actor, file_name=file_name)
    return report
