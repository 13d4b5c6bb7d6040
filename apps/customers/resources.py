"""Customers as a spreadsheet: columns, keys, the import entry and the export (docs/import.md).

Registered in ``CustomersConfig.ready()``; the admin, the worker and the commands find it in the
sheet registry (``apps/spreadsheets/registry.py``).
"""

from apps.core.actors import Actor, Channel
from apps.spreadsheets import cells
from apps.spreadsheets.engine import import_rows
from apps.spreadsheets.plan import ImportReport
from apps.spreadsheets.progress import Observer
from apps.spreadsheets.readers import Table
from apps.spreadsheets.registry import SheetRegistration
from apps.spreadsheets.resources import SheetResource
from apps.spreadsheets.sheets import Column, Key, Sheet

from .models import Customer
from .selectors import customer_export_list

_NAME = Customer._meta.get_field("first_name").max_length or 250


class CustomerSheet(Sheet):
    """Matched by uuid, else by phone number."""

    model = Customer
    label = "customer"
    columns = (
        Column("uuid", parse=cells.uuid),
        Column("first_name", parse=cells.text(max_length=_NAME), required=True, free_text=True),
        Column("last_name", parse=cells.text(max_length=_NAME), required=True, free_text=True),
        Column("phone_number", parse=cells.phone(), required=True),
        Column("date_created"),
    )
    keys = (Key(("phone_number",), "phone number {0}"),)
    updatable = ("first_name", "last_name", "phone_number")


def customer_import_rows(
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
    """Check a spreadsheet of customers; unless ``dry_run``, write it (every row only if all
    are valid, or the valid ones with ``skip_invalid``). Rows match existing customers by
    uuid, else by phone number."""
    return import_rows(
        sheet=CustomerSheet(),
        table=table,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        actor=actor,
        channel=channel,
        file_name=file_name,
        expected_digests=expected_digests,
        observer=observer,
    )


CUSTOMER_SHEET = SheetRegistration(
    name="customers",
    sheet=CustomerSheet,
    import_rows=customer_import_rows,
    export_selector=customer_export_list,
    templates=("customers-template.csv", "customers-sample.csv"),
)


class CustomerResource(SheetResource):
    sheet_class = CustomerSheet

    class Meta:
        model = Customer
        name = "Customers"
