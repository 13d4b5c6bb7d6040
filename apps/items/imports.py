"""Item spreadsheet import: matched by uuid, else by name + size."""

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models

from apps.spreadsheets.engine import ImportReport, KeyedImport, Table, import_keyed_rows

from .models import Item, Size

ITEM_COLUMNS = ("uuid", "name", "size", "price")


def _build(values: dict[str, str]) -> tuple[models.Model, dict[str, str]]:
    errors: dict[str, str] = {}
    size = values.get("size", "").upper()
    if size and size not in Size.values:
        errors["size"] = f"size must be one of {', '.join(Size.values)} (got “{values['size']}”)"
    price: Decimal | None = None
    raw_price = values.get("price", "").replace(",", "")
    if raw_price:
        try:
            price = Decimal(raw_price)
        except InvalidOperation:
            errors["price"] = "price is not a number"
        else:
            if not price.is_finite():
                errors["price"] = "price is not a number"
            elif price < 0:
                errors["price"] = "price cannot be negative"
    return Item(name=values.get("name", "").strip(), size=size, price=price), errors


def _natural_key(item: Any) -> tuple[str, str]:
    return (item.name, item.size)


def _lookup(keys: list[Any]) -> Iterable[Item]:
    wanted = set(keys)
    names = {name for name, _ in wanted}
    return [i for i in Item.objects.filter(name__in=names) if (i.name, i.size) in wanted]


ITEM_IMPORT = KeyedImport(
    model=Item,
    label="item",
    columns=ITEM_COLUMNS,
    required=("name", "size", "price"),
    fields=("name", "size", "price"),
    build=_build,
    natural_key=_natural_key,
    natural_key_label=lambda key: f"item {key[0]} ({key[1]})",
    natural_lookup=_lookup,
)


def import_items(
    *, table: Table, dry_run: bool, actor: Any = None, file_name: str | None = None
) -> ImportReport:
    return import_keyed_rows(
        spec=ITEM_IMPORT, table=table, dry_run=dry_run, actor=actor, file_name=file_name
    )
