from collections.abc import Mapping
from typing import Any
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from apps.core.errors import DeleteBlockedError
from apps.core.services import model_full_save, model_update
from apps.spreadsheets.engine import ImportReport, Table, log_import

from .models import Customer

Actor = AbstractBaseUser | AnonymousUser | None

CUSTOMER_UPDATE_FIELDS = ("first_name", "last_name", "phone_number")


@transaction.atomic
def customer_create(
    *,
    first_name: str,
    last_name: str,
    phone_number: str,
    uuid: UUID | None = None,
    actor: Actor = None,
) -> Customer:
    customer = Customer(
        first_name=first_name.strip(), last_name=last_name.strip(), phone_number=phone_number
    )
    if uuid is not None:
        customer.uuid = uuid
    return model_full_save(customer)


@transaction.atomic
def customer_update(
    *, customer: Customer, data: Mapping[str, Any], actor: Actor = None
) -> Customer:
    cleaned = {
        k: v.strip() if isinstance(v, str) and k != "phone_number" else v for k, v in data.items()
    }
    customer, _ = model_update(instance=customer, fields=CUSTOMER_UPDATE_FIELDS, data=cleaned)
    return customer


@transaction.atomic
def customer_delete(*, customer: Customer, actor: Actor = None) -> None:
    blocking = customer.orders.count()
    if blocking:
        raise DeleteBlockedError(
            f"Cannot delete customer {customer.full_name}: "
            f"{blocking} order{'s' if blocking != 1 else ''} belong to them. "
            "Delete or reassign those orders first.",
            blocking_count=blocking,
        )
    customer.delete()


def customer_import_rows(
    *,
    table: Table,
    dry_run: bool = False,
    actor: Actor = None,
    file_name: str | None = None,
) -> ImportReport:
    """Validate a spreadsheet of customers; unless ``dry_run`` or a row is invalid, write it.

    Rows match existing customers by uuid, else by phone number. The write is one transaction
    with bulk inserts/updates (apps/customers/imports.py).
    """
    from .imports import import_customers

    report = import_customers(table=table, dry_run=dry_run, actor=actor, file_name=file_name)
    log_import(report, model="customers", actor=actor, file_name=file_name)
    return report
