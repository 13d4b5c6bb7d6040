"""Customers as a spreadsheet: columns, keys and row rules (docs/import.md)."""

from apps.spreadsheets import cells
from apps.spreadsheets.resources import SheetResource
from apps.spreadsheets.sheets import Column, Sheet

from .models import Customer

_NAME = Customer._meta.get_field("first_name").max_length or 250


class CustomerSheet(Sheet):
    """Matched by uuid, else by phone number."""

    model = Customer
    label = "customer"
    columns = (
        Column("uuid", parse=cells.uuid),
        Column("first_name", parse=cells.text(max_length=_NAME), required=True),
        Column("last_name", parse=cells.text(max_length=_NAME), required=True),
        Column("phone_number", parse=cells.phone(), required=True),
        Column("date_created"),
    )
    natural_key = ("phone_number",)
    natural_key_label = "phone number {0}"
    compared = ("first_name", "last_name", "phone_number")


class CustomerResource(SheetResource):
    sheet_class = CustomerSheet

    class Meta:
        model = Customer
        name = "Customers"
