"""Items as a spreadsheet: columns, keys and row rules (docs/import.md)."""

from decimal import Decimal

from apps.spreadsheets import cells
from apps.spreadsheets.resources import SheetResource
from apps.spreadsheets.sheets import Column, Sheet

from .models import Item, Size

_PRICE = Item._meta.get_field("price")


class ItemSheet(Sheet):
    """Matched by uuid, else by name and size."""

    model = Item
    label = "item"
    columns = (
        Column("uuid", parse=cells.uuid),
        Column(
            "name",
            parse=cells.text(max_length=Item._meta.get_field("name").max_length or 250),
            required=True,
        ),
        Column("size", parse=cells.choice(list(Size.values), label="size"), required=True),
        Column(
            "price",
            parse=cells.decimal(
                label="price",
                max_digits=_PRICE.max_digits or 10,
                places=_PRICE.decimal_places or 2,
                minimum=Decimal("0"),
            ),
            required=True,
            numeric=True,
            places=2,
        ),
        Column("date_created"),
    )
    natural_key = ("name", "size")
    natural_key_label = "item {0} ({1})"
    compared = ("name", "size", "price")


class ItemResource(SheetResource):
    sheet_class = ItemSheet

    class Meta:
        model = Item
        name = "Items"
