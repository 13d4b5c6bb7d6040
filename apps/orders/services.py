from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.actors import Actor
from apps.core.services import model_full_save, model_update
from apps.customers.models import Customer
from apps.items.models import Item
from apps.notifications.services import sms_confirmation_queue
from apps.spreadsheets.engine import ImportReport, Observer, Table, import_rows

from .models import Order
from .resources import OrderSheet
from .rules import order_quantity_clean, order_unit_price

ORDER_UPDATE_FIELDS = ("customer", "item", "quantity")


def _quantity(value: Any) -> int:
    try:
        return order_quantity_clean(value)
    except ValueError as exc:
        raise ValidationError({"quantity": str(exc)}) from None


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
        quantity=_quantity(quantity),
        unit_price=order_unit_price(item_price=item.price, item_changed=True),
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
    """Change customer, item or quantity (the price follows ``order_unit_price``)."""
    data = dict(data)
    if "quantity" in data:
        data["quantity"] = _quantity(data["quantity"])
    new_item = data.get("item")
    if new_item is not None:
        data["unit_price"] = order_unit_price(
            item_price=new_item.price,
            item_changed=new_item.pk != order.item_id,
            current=order.unit_price,
        )
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
    expected_digests: list[str] | None = None,
    observer: Observer | None = None,
) -> ImportReport:
    """Check a spreadsheet of orders; unless ``dry_run`` or a row is invalid, write it.

    Columns and row rules: ``apps/orders/resources.py``. SMS confirmations are queued for the
    new orders only when ``send_confirmations`` is set.
    """
    return import_rows(
        sheet=OrderSheet(),
        table=table,
        dry_run=dry_run,
        actor=actor,
        file_name=file_name,
        options={"send_confirmations": send_confirmations},
        expected_digests=expected_digests,
        observer=observer,
    )
