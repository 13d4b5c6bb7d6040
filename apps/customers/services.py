from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.actors import Actor, Channel, actor_user
from apps.core.errors import DeleteBlockedError
from apps.core.services import model_delete, model_full_save, model_update, related_counts
from apps.core.text import note_clean, text_fields_check
from apps.core.versions import lock_version

from .models import Customer, CustomerNote

CUSTOMER_UPDATE_FIELDS = ("first_name", "last_name", "phone_number")


def customer_lock(*, customer_ids: Iterable[int]) -> None:
    """Lock the customers' rows until the transaction ends, in primary-key order (two writers of
    the same customers wait for each other instead of deadlocking)."""
    ids = sorted(set(customer_ids))
    if ids:
        list(Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))


def customer_order_stats_update(
    *,
    customer_ids: Iterable[int],
    orders_count: Any,
    lifetime_value: Any,
    last_order_at: Any,
) -> int:
    """Store what the customers' orders add up to: the orders app gives the values as
    expressions over its table (one ``UPDATE`` for all the customers), in the transaction of the
    order write, with the customers locked by ``customer_lock``.

    Derived columns: no version bump (an open form of the customer stays valid), no history.
    """
    return Customer.objects.filter(pk__in=sorted(set(customer_ids))).update(
        orders_count=orders_count, lifetime_value=lifetime_value, last_order_at=last_order_at
    )


@transaction.atomic
def customer_create(
    *,
    first_name: str,
    last_name: str,
    phone_number: str,
    uuid: UUID | None = None,
    actor: Actor = None,
    channel: str = Channel.SYSTEM,
) -> Customer:
    text_fields_check(first_name=first_name, last_name=last_name)
    customer = Customer(
        first_name=first_name.strip(), last_name=last_name.strip(), phone_number=phone_number
    )
    if uuid is not None:
        customer.uuid = uuid
    return model_full_save(customer, actor=actor, channel=channel)


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    data: Mapping[str, Any],
    actor: Actor = None,
    channel: str = Channel.SYSTEM,
    expected_version: int | None = None,
) -> Customer:
    """Change the customer's names or phone number; with ``expected_version``, only if the
    customer is still at that version (``StaleVersionError`` otherwise)."""
    cleaned = {
        k: v.strip() if isinstance(v, str) and k != "phone_number" else v for k, v in data.items()
    }
    text_fields_check(first_name=cleaned.get("first_name"), last_name=cleaned.get("last_name"))
    customer, _ = model_update(
        instance=customer,
        fields=CUSTOMER_UPDATE_FIELDS,
        data=cleaned,
        actor=actor,
        channel=channel,
        expected_version=expected_version,
    )
    return customer


@transaction.atomic
def customer_note_add(
    *, customer: Customer, text: str, actor: Actor, channel: str = Channel.SYSTEM
) -> CustomerNote:
    """An internal note about the customer (never sent to them), with who wrote it and how.
    Notes leave the customer's version and order figures alone."""
    try:
        cleaned = note_clean(text)
    except ValueError as exc:
        raise ValidationError({"text": str(exc)}) from None
    note = CustomerNote(customer=customer, text=cleaned, actor=actor_user(actor), channel=channel)
    return model_full_save(note, actor=actor, channel=channel)


def customer_delete_blockers(*, customers: Iterable[Customer]) -> dict[Any, DeleteBlockedError]:
    """Why each customer that still has orders cannot be deleted (one query for all)."""
    customers = list(customers)
    counts = related_counts(customers, "orders")
    return {
        c.pk: DeleteBlockedError(
            f"Cannot delete customer {c.full_name}: {counts[c.pk]} "
            f"order{'s' if counts[c.pk] != 1 else ''} belong{'s' if counts[c.pk] == 1 else ''} "
            "to them. Delete or reassign those orders first.",
            blocking_count=counts[c.pk],
        )
        for c in customers
        if c.pk in counts
    }


@transaction.atomic
def customer_delete(
    *,
    customer: Customer,
    actor: Actor = None,
    channel: str = Channel.SYSTEM,
    expected_version: int | None = None,
) -> None:
    if expected_version is not None:
        lock_version(customer, expected_version=expected_version)
    blocked = customer_delete_blockers(customers=[customer]).get(customer.pk)
    if blocked is not None:
        raise blocked
    model_delete(customer, actor=actor, channel=channel)
