"""Items as a spreadsheet: columns, keys, the import entry and the export (docs/import.md).

Registered in ``ItemsConfig.ready()``; the admin, the worker and the commands find it in the
sheet registry (``apps/spreadsheets/registry.py``).
"""

from decimal import Decimal

from apps.core.actors import Actor, Channel
from apps.spreadsheets import cells
from apps.spreadsheets.engine import import_rows
from apps.spreadsheets.plan import ImportReport
from apps.spreadsheets.progress import Observer
from apps.spreadsheets.readers import Table
from apps.spreadsheets.registry import SheetRegistration
from apps.spreadsheets.resources import SheetResource
from apps.spreadsheets.sheets import Column, Key, Sheet

from .models import Item, Size
from .selectors import item_export_list

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
            free_text=True,
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
    keys = (Key(("name", "size"), "item {0} ({1})"),)
    updatable = ("name", "size", "price")


def item_import_rows(
    *,
    table: Table,
    dry_run: bool = False,
    skip_invalid: bool = False,
    actor: Actor = None,
    channel: str = Channel.IMPORT,
    file_name: str | None = None,
    expected_digests: list[str] | None = None,
    observer: Observer | None = None,
) -> ImportReport:
    """Check a spreadsheet of items; unless ``dry_run``, write it (every row only if all are
    valid, or the valid ones with ``skip_invalid``). Rows match existing items by uuid, else by
    name and size."""
    return import_rows(
        sheet=ItemSheet(),
        table=table,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        actor=actor,
        channel=channel,
        file_name=file_name,
        expected_digests=expected_digests,
        observer=observer,
    )


ITEM_SHEET = SheetRegistration(
    name="items",
    sheet=ItemSheet,
    import_rows=item_import_rows,
    export_selector=item_export_list,
    templates=("items-template.csv", "items-sample.csv"),
)


class ItemResource(SheetResource):
    sheet_class = ItemSheet

    class Meta:
        model = Item
        name = "Items"
