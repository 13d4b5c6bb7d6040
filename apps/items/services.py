from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction

from apps.core.actors import Actor, Channel
from apps.core.errors import DeleteBlockedError
from apps.core.services import model_delete, model_full_save, model_update, related_counts
from apps.core.text import text_fields_check
from apps.core.versions import lock_version

from .models import Item

ITEM_UPDATE_FIELDS = ("name", "size", "price")


@transaction.atomic
def item_create(
    *,
    name: str,
    size: str,
    price: Decimal | str | int,
    uuid: UUID | None = None,
    actor: Actor = None,
    channel: str = Channel.SYSTEM,
) -> Item:
    text_fields_check(name=name)
    item = Item(name=name.strip(), size=size, price=price)
    if uuid is not None:
        item.uuid = uuid
    return model_full_save(item, actor=actor, channel=channel)


@transaction.atomic
def item_update(
    *,
    item: Item,
    data: Mapping[str, Any],
    actor: Actor = None,
    channel: str = Channel.SYSTEM,
    expected_version: int | None = None,
) -> Item:
    """Change name, size or price (orders keep their own ``unit_price``); with
    ``expected_version``, only if the item is still at that version."""
    cleaned = {k: v.strip() if k == "name" and isinstance(v, str) else v for k, v in data.items()}
    text_fields_check(name=cleaned.get("name"))
    if "price" in cleaned and cleaned["price"] is not None:
        cleaned["price"] = Decimal(str(cleaned["price"]))
    item, _ = model_update(
        instance=item,
        fields=ITEM_UPDATE_FIELDS,
        data=cleaned,
        actor=actor,
        channel=channel,
        expected_version=expected_version,
    )
    return item


def item_delete_blockers(*, items: Iterable[Item]) -> dict[Any, DeleteBlockedError]:
    """Why each item that orders still use cannot be deleted (one query for all)."""
    items = list(items)
    counts = related_counts(items, "orders")
    return {
        i.pk: DeleteBlockedError(
            f"Cannot delete item {i}: {counts[i.pk]} order{'s' if counts[i.pk] != 1 else ''} "
            f"use{'s' if counts[i.pk] == 1 else ''} it. Delete those orders first.",
            blocking_count=counts[i.pk],
        )
        for i in items
        if i.pk in counts
    }


@transaction.atomic
def item_delete(
    *,
    item: Item,
    actor: Actor = None,
    channel: str = Channel.SYSTEM,
    expected_version: int | None = None,
) -> None:
    if expected_version is not None:
        lock_version(item, expected_version=expected_version)
    blocked = item_delete_blockers(items=[item]).get(item.pk)
    if blocked is not None:
        raise blocked
    model_delete(item, actor=actor, channel=channel)
