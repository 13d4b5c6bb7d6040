"""Customer spreadsheet columns (docs/import.md)."""

from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import CharField, ExpressionWrapper, F, QuerySet

from apps.spreadsheets.admin import SpreadsheetImportExportAdmin, SpreadsheetResource
from apps.spreadsheets.engine import ImportReport, Table

from .models import Customer
from .services import customer_import_rows


class CustomerResource(SpreadsheetResource):
    import_columns = ("uuid", "first_name", "last_name", "phone_number")
    export_columns = (*import_columns, "date_created")

    class Meta:
        model = Customer
        name = "Customers"

    def run_import(
        self, *, table: Table, dry_run: bool, user: Any, file_name: str | None
    ) -> ImportReport:
        return customer_import_rows(table=table, dry_run=dry_run, actor=user, file_name=file_name)

    def export_values(self, queryset: QuerySet) -> Iterator[Sequence[Any]]:
        # The phone as stored text: skips parsing every number back into a PhoneNumber.
        phone = ExpressionWrapper(F("phone_number"), output_field=CharField())
        return (
            queryset.annotate(phone_text=phone)
            .values_list("uuid", "first_name", "last_name", "phone_text", "date_created")
            .iterator(chunk_size=2000)
        )


class CustomerImportExportAdmin(SpreadsheetImportExportAdmin):
    resource_classes = [CustomerResource]
    import_template_files = ("customers-template.csv", "customers-sample.csv")
