from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction

from apps.core.errors import DeleteBlockedError
from apps.core.services import model_full_save, model_update
from apps.customers.services import Actor
from apps.spreadsheets.engine import ImportReport, Table, log_import

from .models import Item

ITEM_UPDATE_FIELDS = ("name", "size", "price")


@transaction.atomic
def item_create(
    *,
    name: str,
    size: str,
    price: Decimal | str | int,
    uuid: UUID | None = None,
    actor: Actor = None,
) -> Item:
    item = Item(name=name.strip(), size=size, price=price)
    if uuid is not None:
        item.uuid = uuid
    return model_full_save(item)


@transaction.atomic
def item_update(*, item: Item, data: Mapping[str, Any], actor: Actor = None) -> Item:
    cleaned = {k: v.strip() if k == "name" and isinstance(v, str) else v for k, v in data.items()}
    if "price" in cleaned and cleaned["price"] is not None:
        cleaned["price"] = Decimal(str(cleaned["price"]))
    item, _ = model_update(instance=item, fields=ITEM_UPDATE_FIELDS, data=cleaned)
    return item


@transaction.atomic
def item_delete(*, item: Item, actor: Actor = None) -> None:
    blocking = item.orders.count()
    if blocking:
        raise DeleteBlockedError(
            f"Cannot delete item {item}: {blocking} order{'s' if blocking != 1 else ''} "
            "use it. Delete those orders first.",
            blocking_count=blocking,
        )
    item.delete()


def item_import_rows(
    *,
    table: Table,
    dry_run: bool = False,
    actor: Actor = None,
    file_name: str | None = None,
) -> ImportReport:
    """Validate a spreadsheet of items; unless ``dry_run`` or a row is invalid, write it.

    Rows match existing items by uuid, else by name and size (apps/items/imports.py).
    """
    from .imports import import_items

    report = import_items(table=table, dry_run=dry_run, actor=actor, file_name=file_name)
    log_import(report, model="items", actor=actor, file_name=file_name)
    return report
