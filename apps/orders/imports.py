"""Order spreadsheet import, built for files of 100,000 rows.

Customers and items are resolved with one query per batch of distinct references, every row is
validated in Python, and the new orders are written with COPY on PostgreSQL (``bulk_create`` in
batches elsewhere). Nothing is written when any row is invalid; the write is one transaction.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid as uuid_module
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, ExpressionWrapper, F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from phonenumber_field.phonenumber import to_python as phone_to_python
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from apps.customers.models import Customer
from apps.items.models import Item
from apps.spreadsheets.engine import (
    NEW,
    SKIP,
    UPDATE,
    ImportFileError,
    ImportReport,
    Table,
    chunked,
    new_report,
    parse_uuid,
)

from .models import Order
from .services import _check_quantity

ORDER_COLUMNS = (
    "uuid",
    "customer_uuid",
    "customer_phone",
    "item_uuid",
    "item_name",
    "item_size",
    "quantity",
    "date_created",
)
WRITE_BATCH = 5000
MAX_QUANTITY = 2_147_483_647  # PositiveIntegerField's ceiling on every supported database
E164 = re.compile(r"^\+[1-9]\d{6,14}$")

Actor = AbstractBaseUser | AnonymousUser | None


@dataclass(slots=True)
class _Row:
    number: int
    uuid: uuid_module.UUID | None
    customer_ref: tuple[str, Any]
    item_ref: tuple[str, Any]
    quantity: int
    date_created: dt.datetime | None


class _PhoneCache:
    """E.164 form of what was typed, parsed once per distinct value (phonenumbers is slow)."""

    def __init__(self) -> None:
        self.region = settings.PHONE_DEFAULT_REGION
        self.cache: dict[str, str | None] = {}

    def __call__(self, text: str) -> str | None:
        if E164.match(text):
            return text
        try:
            return self.cache[text]
        except KeyError:
            number = phone_to_python(text, self.region)
            value = number.as_e164 if number and number.is_valid() else None
            self.cache[text] = value
            return value


def _parse_date(text: str) -> dt.datetime:
    value = parse_datetime(text.replace(" ", "T", 1))
    if value is None:
        raise ValueError(f"“{text}” is not a date and time (use 2025-01-31T14:05:00+03:00)")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _parse_rows(table: Table, report: ImportReport) -> list[_Row]:
    phone = _PhoneCache()
    rows: list[_Row] = []
    seen: dict[uuid_module.UUID, int] = {}
    add_error = report.add_error
    for number, v in table.records():
        ok = True
        row_uuid = None
        text = v.get("uuid", "")
        if text:
            try:
                row_uuid = parse_uuid(text)
            except ValueError as exc:
                add_error(number, "uuid", str(exc))
                ok = False
            else:
                if row_uuid in seen:
                    add_error(number, "uuid", f"uuid {row_uuid} is also on row {seen[row_uuid]}")
                    ok = False
                else:
                    seen[row_uuid] = number

        customer_ref: tuple[str, Any] = ("", None)
        if text := v.get("customer_uuid", ""):
            try:
                customer_ref = ("uuid", parse_uuid(text))
            except ValueError as exc:
                add_error(number, "customer_uuid", str(exc))
                ok = False
        elif text := v.get("customer_phone", ""):
            e164 = phone(text)
            if e164 is None:
                add_error(number, "customer_phone", f"“{text}” is not a valid phone number")
                ok = False
            else:
                customer_ref = ("phone", e164)
        else:
            add_error(number, "customer_phone", "customer is required (uuid or phone number)")
            ok = False

        item_ref: tuple[str, Any] = ("", None)
        if text := v.get("item_uuid", ""):
            try:
                item_ref = ("uuid", parse_uuid(text))
            except ValueError as exc:
                add_error(number, "item_uuid", str(exc))
                ok = False
        elif (name := v.get("item_name", "")) and (size := v.get("item_size", "")):
            item_ref = ("name", (name, size.upper()))
        else:
            add_error(number, "item_name", "item is required (uuid, or name and size)")
            ok = False

        quantity = 0
        try:
            quantity = _check_quantity(v.get("quantity", ""))
        except ValidationError as exc:
            add_error(number, "quantity", exc.message_dict["quantity"][0].rstrip(".").lower())
            ok = False
        else:
            if quantity > MAX_QUANTITY:
                add_error(number, "quantity", "quantity is too large")
                ok = False

        created = None
        if text := v.get("date_created", ""):
            try:
                created = _parse_date(text)
            except ValueError as exc:
                add_error(number, "date_created", str(exc))
                ok = False

        if ok:
            rows.append(_Row(number, row_uuid, customer_ref, item_ref, quantity, created))
    return rows


def _resolve_customers(rows: Sequence[_Row]) -> tuple[dict, dict]:
    uuids = list({r.customer_ref[1] for r in rows if r.customer_ref[0] == "uuid"})
    phones = list({r.customer_ref[1] for r in rows if r.customer_ref[0] == "phone"})
    by_uuid: dict[uuid_module.UUID, int] = {}
    by_phone: dict[str, int] = {}
    for chunk in chunked(uuids):
        by_uuid.update(Customer.objects.filter(uuid__in=chunk).values_list("uuid", "id"))
    # Compare the stored E.164 text directly: going through the field would parse every
    # number with phonenumbers, both ways (most of the import's time at 100k rows).
    as_text = Customer.objects.annotate(
        phone_text=ExpressionWrapper(F("phone_number"), output_field=CharField())
    )
    for chunk in chunked(phones):
        by_phone.update(as_text.filter(phone_text__in=chunk).values_list("phone_text", "id"))
    return by_uuid, by_phone


def _resolve_items(rows: Sequence[_Row]) -> tuple[dict, dict, dict]:
    uuids = list({r.item_ref[1] for r in rows if r.item_ref[0] == "uuid"})
    names = list({r.item_ref[1][0] for r in rows if r.item_ref[0] == "name"})
    by_uuid: dict[uuid_module.UUID, int] = {}
    by_name: dict[tuple[str, str], int] = {}
    price: dict[int, Decimal] = {}
    for chunk in chunked(uuids):
        for pk, item_uuid, item_price in Item.objects.filter(uuid__in=chunk).values_list(
            "id", "uuid", "price"
        ):
            by_uuid[item_uuid] = pk
            price[pk] = item_price
    for chunk in chunked(names):
        for pk, name, size, item_price in Item.objects.filter(name__in=chunk).values_list(
            "id", "name", "size", "price"
        ):
            by_name[(name, size)] = pk
            price[pk] = item_price
    return by_uuid, by_name, price


def import_orders(
    *,
    table: Table,
    dry_run: bool,
    send_confirmations: bool = False,
    actor: Actor = None,
    file_name: str | None = None,
) -> ImportReport:
    table.require(
        "quantity",
        any_of=(("customer_uuid", "customer_phone"), ("item_uuid", "item_name+item_size")),
    )
    report = new_report(ORDER_COLUMNS[:-1])
    rows = _parse_rows(table, report)

    customers_by_uuid, customers_by_phone = _resolve_customers(rows)
    items_by_uuid, items_by_name, item_price = _resolve_items(rows)
    existing: dict[uuid_module.UUID, tuple] = {}
    order_uuids = [r.uuid for r in rows if r.uuid is not None]
    for chunk in chunked(order_uuids):
        for values in Order.objects.filter(uuid__in=chunk).values_list(
            "uuid", "id", "customer_id", "item_id", "quantity", "unit_price", "date_created"
        ):
            existing[values[0]] = values

    new_rows: list[tuple] = []
    updates: list[Order] = []
    for row in rows:
        kind, ref = row.customer_ref
        customer_id = (customers_by_uuid if kind == "uuid" else customers_by_phone).get(ref)
        if customer_id is None:
            column = "customer_uuid" if kind == "uuid" else "customer_phone"
            noun = "uuid" if kind == "uuid" else "phone"
            report.add_error(row.number, column, f"no customer with {noun} {ref}")
        kind, ref = row.item_ref
        if kind == "uuid":
            item_id = items_by_uuid.get(ref)
            if item_id is None:
                report.add_error(row.number, "item_uuid", f"no item with uuid {ref}")
        else:
            item_id = items_by_name.get(ref)
            if item_id is None:
                report.add_error(row.number, "item_name", f"no item {ref[0]} in size {ref[1]}")
        if customer_id is None or item_id is None:
            continue

        current = existing.get(row.uuid) if row.uuid is not None else None
        if current is None:
            report.new += 1
            if len(report.preview) < report.preview_limit:
                report.add_preview(row.number, NEW, _shown(row, None))
            new_rows.append((row, customer_id, item_id))
            continue
        _, pk, old_customer, old_item, old_quantity, old_price, created = current
        if (old_customer, old_item, old_quantity) == (customer_id, item_id, row.quantity):
            report.skipped += 1
            report.add_preview(row.number, SKIP, _shown(row, None))
            continue
        # Same rule as order_update: a new item brings its current price, a new quantity alone
        # keeps the price the order was created with.
        unit_price = item_price[item_id] if item_id != old_item else old_price
        updates.append(
            Order(
                pk=pk,
                uuid=row.uuid,
                date_created=created,
                customer_id=customer_id,
                item_id=item_id,
                quantity=row.quantity,
                unit_price=unit_price,
            )
        )
        report.updated += 1
        report.add_preview(row.number, UPDATE, _shown(row, old_quantity))

    if report.errors or dry_run:
        return report

    try:
        _write(
            new_rows,
            updates,
            item_price,
            send_confirmations=send_confirmations,
            history=_History(actor, file_name),
        )
    except IntegrityError as exc:
        # Someone created the same order (uuid) since the preview: nothing was written.
        raise ImportFileError(
            "Another change saved conflicting orders while this file was being imported "
            f"({exc.__class__.__name__}); nothing was imported. Upload the file again."
        ) from exc
    report.written = True
    return report


class _History:
    """Who and why for the audit trail's historical records of imported rows."""

    def __init__(self, actor: Actor, file_name: str | None) -> None:
        self.user = actor if getattr(actor, "is_authenticated", False) else None
        self.reason = f"import: {file_name or 'file'}"


def _write(
    new_rows: list[tuple[_Row, int, int]],
    updates: list[Order],
    item_price: dict[int, Decimal],
    *,
    send_confirmations: bool,
    history: _History,
) -> None:
    with transaction.atomic():
        now = timezone.now()
        created_uuids = _write_new(new_rows, item_price, now, history)
        if updates:
            for order in updates:
                order.date_modified = now
            bulk_update_with_history(
                updates,
                Order,
                ["customer", "item", "quantity", "unit_price", "date_modified"],
                batch_size=1000,
                default_user=history.user,
                default_change_reason=history.reason,
                default_date=now,
            )
        if send_confirmations and created_uuids:
            _queue_confirmations(created_uuids)


def _shown(row: _Row, old_quantity: int | None) -> list[str]:
    quantity = str(row.quantity)
    if old_quantity is not None and old_quantity != row.quantity:
        quantity = f"{old_quantity} → {row.quantity}"
    customer = row.customer_ref[1]
    item = row.item_ref[1]
    return [
        str(row.uuid or ""),
        str(customer) if row.customer_ref[0] == "uuid" else "",
        str(customer) if row.customer_ref[0] == "phone" else "",
        str(item) if row.item_ref[0] == "uuid" else "",
        item[0] if row.item_ref[0] == "name" else "",
        item[1] if row.item_ref[0] == "name" else "",
        quantity,
    ]


def _write_new(
    new_rows: list[tuple[_Row, int, int]],
    item_price: dict[int, Decimal],
    now: dt.datetime,
    history: _History,
) -> list[uuid_module.UUID]:
    """Insert the new orders; the unit price is the item's price now (as in order_create)."""
    uuids = [row.uuid or uuid_module.uuid4() for row, _, _ in new_rows]
    if not new_rows:
        return uuids
    if connection.vendor == "postgresql":
        _copy_orders(new_rows, uuids, item_price, now)
        _copy_history(uuids, now, history)
        return uuids
    bulk_create_with_history(
        [
            Order(
                uuid=order_uuid,
                customer_id=customer_id,
                item_id=item_id,
                quantity=row.quantity,
                unit_price=item_price[item_id],
                date_created=row.date_created or now,
                date_modified=now,
            )
            for order_uuid, (row, customer_id, item_id) in zip(uuids, new_rows, strict=True)
        ],
        Order,
        batch_size=WRITE_BATCH // 5,
        default_user=history.user,
        default_change_reason=history.reason,
        default_date=now,
    )
    return uuids


def _copy_history(uuids: list[uuid_module.UUID], now: dt.datetime, history: _History) -> None:
    """The "created" historical records of the copied orders, in one INSERT … SELECT per batch
    (the audit trail's signal does not fire for rows that never went through ``save``)."""
    historical = Order.history.model  # type: ignore[attr-defined]
    quote = connection.ops.quote_name
    tracked = [
        quote(f.column)
        for f in historical._meta.concrete_fields
        if not f.name.startswith("history_")
    ]
    # Identifiers come from the model's metadata; every value is a query parameter.
    sql = (
        f"INSERT INTO {quote(historical._meta.db_table)} ({', '.join(tracked)}, "  # noqa: S608
        "history_date, history_change_reason, history_type, history_user_id) "
        f"SELECT {', '.join(tracked)}, %s, %s, '+', %s FROM {quote(Order._meta.db_table)} "
        "WHERE uuid = ANY(%s::uuid[])"
    )
    user_id = history.user.pk if history.user is not None else None
    with connection.cursor() as cursor:
        for chunk in chunked(uuids, WRITE_BATCH * 4):
            cursor.execute(sql, [now, history.reason, user_id, [str(u) for u in chunk]])


def _copy_orders(
    new_rows: list[tuple[_Row, int, int]],
    uuids: list[uuid_module.UUID],
    item_price: dict[int, Decimal],
    now: dt.datetime,
) -> None:
    opts = Order._meta
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(opts.get_field(name).column)
        for name in (
            "uuid",
            "customer",
            "item",
            "quantity",
            "unit_price",
            "date_created",
            "date_modified",
        )
    )
    sql = f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN"
    stamp = now.isoformat()
    prices = {pk: str(price) for pk, price in item_price.items()}
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg2's cursor: copy_expert is not on Django's wrapper
        for start in range(0, len(new_rows), WRITE_BATCH * 4):
            buffer = io.StringIO()
            buffer.writelines(
                f"{order_uuid}\t{customer_id}\t{item_id}\t{row.quantity}\t{prices[item_id]}\t"
                f"{row.date_created.isoformat() if row.date_created else stamp}\t{stamp}\n"
                for order_uuid, (row, customer_id, item_id) in zip(
                    uuids[start : start + WRITE_BATCH * 4],
                    new_rows[start : start + WRITE_BATCH * 4],
                    strict=True,
                )
            )
            buffer.seek(0)
            raw.copy_expert(sql, buffer)


def _queue_confirmations(created_uuids: list[uuid_module.UUID]) -> None:
    from apps.notifications.services import sms_confirmations_queue_bulk

    for chunk in chunked(created_uuids):
        sms_confirmations_queue_bulk(
            orders=list(Order.objects.select_related("customer", "item").filter(uuid__in=chunk))
        )
