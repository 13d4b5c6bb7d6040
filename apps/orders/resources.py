"""Order spreadsheet columns (docs/import.md)."""

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import CharField, ExpressionWrapper, F, QuerySet
from django.db.models.functions import Cast
from django.http import HttpRequest

from apps.spreadsheets.admin import (
    OrderConfirmImportForm,
    OrderImportForm,
    SpreadsheetImportExportAdmin,
    SpreadsheetResource,
)
from apps.spreadsheets.engine import ImportReport, Table

from .models import Order
from .selectors import TOTAL
from .services import order_import_rows


class OrderResource(SpreadsheetResource):
    import_columns = (
        "uuid",
        "customer_uuid",
        "customer_phone",
        "item_uuid",
        "item_name",
        "item_size",
        "quantity",
        "date_created",
    )
    export_columns = (
        "uuid",
        "customer_uuid",
        "customer_phone",
        "customer_name",
        "item_uuid",
        "item_name",
        "item_size",
        "quantity",
        "unit_price",
        "total",
        "date_created",
    )
    numeric_columns = frozenset({"quantity", "unit_price", "total"})

    class Meta:
        model = Order
        name = "Orders"

    def run_import(
        self, *, table: Table, dry_run: bool, user: Any, file_name: str | None
    ) -> ImportReport:
        return order_import_rows(
            table=table,
            dry_run=dry_run,
            send_confirmations=bool(self.options.get("send_confirmations")),
            actor=user,
            file_name=file_name,
        )

    def export_values(self, queryset: QuerySet) -> Iterator[Sequence[Any]]:
        rows = (
            queryset.annotate(
                uuid_text=Cast("uuid", CharField()),
                customer_uuid_text=Cast("customer__uuid", CharField()),
                item_uuid_text=Cast("item__uuid", CharField()),
                phone_text=ExpressionWrapper(F("customer__phone_number"), output_field=CharField()),
                line_total=TOTAL,
            )
            .values_list(
                "uuid_text",
                "customer_uuid_text",
                "phone_text",
                "customer__first_name",
                "customer__last_name",
                "item_uuid_text",
                "item__name",
                "item__size",
                "quantity",
                "unit_price",
                "line_total",
                "date_created",
            )
            .iterator(chunk_size=2000)
        )
        cent = Decimal("0.01")
        for row in rows:
            yield (
                *row[:3],
                f"{row[3]} {row[4]}",
                *row[5:9],
                row[9].quantize(cent),
                row[10].quantize(cent),  # SQLite drops the scale of a product
                row[11],
            )


class OrderImportExportAdmin(SpreadsheetImportExportAdmin):
    resource_classes = [OrderResource]
    import_form_class = OrderImportForm
    confirm_form_class = OrderConfirmImportForm
    import_template_files = ("orders-template.csv", "orders-sample.csv")

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.get("form")
        cleaned = getattr(form, "cleaned_data", None) or {}
        return {"send_confirmations": bool(cleaned.get("send_confirmations"))}

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict[str, Any]:
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["send_confirmations"] = bool(import_form.cleaned_data.get("send_confirmations"))
        return initial
