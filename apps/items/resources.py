"""Item spreadsheet columns (docs/import.md)."""

from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import QuerySet

from apps.spreadsheets.admin import SpreadsheetImportExportAdmin, SpreadsheetResource
from apps.spreadsheets.engine import ImportReport, Table

from .models import Item
from .services import item_import_rows


class ItemResource(SpreadsheetResource):
    import_columns = ("uuid", "name", "size", "price")
    export_columns = (*import_columns, "date_created")
    numeric_columns = frozenset({"price"})

    class Meta:
        model = Item
        name = "Items"

    def run_import(
        self, *, table: Table, dry_run: bool, user: Any, file_name: str | None
    ) -> ImportReport:
        return item_import_rows(table=table, dry_run=dry_run, actor=user, file_name=file_name)

    def export_values(self, queryset: QuerySet) -> Iterator[Sequence[Any]]:
        return queryset.values_list("uuid", "name", "size", "price", "date_created").iterator(
            chunk_size=2000
        )


class ItemImportExportAdmin(SpreadsheetImportExportAdmin):
    resource_classes = [ItemResource]
    import_template_files = ("items-template.csv", "items-sample.csv")
