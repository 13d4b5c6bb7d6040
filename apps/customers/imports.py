"""Customer spreadsheet import: matched by uuid, else by phone number."""

from collections.abc import Iterable
from typing import Any

from django.db import models

from apps.spreadsheets.engine import ImportReport, KeyedImport, Table, import_keyed_rows

from .models import Customer

CUSTOMER_COLUMNS = ("uuid", "first_name", "last_name", "phone_number")


def _build(values: dict[str, str]) -> tuple[models.Model, dict[str, str]]:
    customer = Customer(
        first_name=values.get("first_name", ""),
        last_name=values.get("last_name", ""),
        phone_number=values.get("phone_number", ""),
    )
    return customer, {}


def _natural_key(customer: Any) -> str:
    return customer.phone_number.as_e164


def _lookup(keys: list[Any]) -> Iterable[Customer]:
    return Customer.objects.filter(phone_number__in=keys)


CUSTOMER_IMPORT = KeyedImport(
    model=Customer,
    label="customer",
    columns=CUSTOMER_COLUMNS,
    required=("first_name", "last_name", "phone_number"),
    fields=("first_name", "last_name", "phone_number"),
    build=_build,
    natural_key=_natural_key,
    natural_key_label=lambda key: f"phone number {key}",
    natural_lookup=_lookup,
)


def import_customers(
    *, table: Table, dry_run: bool, actor: Any = None, file_name: str | None = None
) -> ImportReport:
    return import_keyed_rows(
        spec=CUSTOMER_IMPORT, table=table, dry_run=dry_run, actor=actor, file_name=file_name
    )
