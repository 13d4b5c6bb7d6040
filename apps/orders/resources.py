"""Orders as a spreadsheet: columns, keys and row rules (docs/import.md).

Orders match by uuid only (a blank uuid makes a new order); the customer is named by uuid or
phone, the item by uuid or name + size. The export adds columns a person reads (the customer's
name, the unit price, the total) that the import ignores. ``status`` is exported; an import
may only start new orders as ``placed`` and never moves an existing order (the order's actions
do), and a dispatched, delivered or cancelled order keeps its customer, item and quantity.
Imported orders have no ``created`` event: the audit history record the engine writes with them
(path ``import: <file>``, the importer) is their creation on the timeline.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import CharField, F, Value
from django.db.models.functions import Concat

from apps.core.actors import Actor, Channel
from apps.customers.models import Customer
from apps.customers.services import customer_lock
from apps.items.models import Item
from apps.notifications.services import SmsCapExceededError, sms_hourly_room, sms_queue_bulk
from apps.spreadsheets import cells
from apps.spreadsheets.limits import ImportFileError
from apps.spreadsheets.plan import NEW, UPDATE, ImportReport, PlannedRow
from apps.spreadsheets.resources import SheetResource
from apps.spreadsheets.sheets import Column, Reference, RefKey, Sheet

from .models import Order, OrderStatus
from .rules import (
    order_fields_locked,
    order_locked_message,
    order_quantity_clean,
    order_status_clean,
    order_unit_price,
)
from .selectors import TOTAL
from .sms import order_sms_drafts
from .stats import customer_order_stats_refresh


class OrderSheet(Sheet):
    model = Order
    label = "order"
    columns = (
        Column("uuid", parse=cells.uuid),
        Column("customer_uuid", parse=cells.uuid, field="", export="customer__uuid"),
        Column("customer_phone", parse=cells.phone(), field="", export="customer__phone_number"),
        Column(
            "customer_name",
            export=Concat(
                F("customer__first_name"),
                Value(" "),
                F("customer__last_name"),
                output_field=CharField(),
            ),
        ),
        Column("item_uuid", parse=cells.uuid, field="", export="item__uuid"),
        Column("item_name", parse=cells.text(max_length=250), field="", export="item__name"),
        Column(
            "item_size", parse=cells.text(max_length=3, upper=True), field="", export="item__size"
        ),
        Column("quantity", parse=cells.rule(order_quantity_clean), required=True, numeric=True),
        Column("unit_price", numeric=True, places=2),
        Column("total", export=TOTAL, numeric=True, places=2),
        Column("status", parse=cells.rule(order_status_clean)),
        Column("date_created", parse=cells.aware_datetime, new_only=True),
    )
    references = (
        Reference(
            "customer",
            Customer,
            keys=(
                RefKey(("customer_uuid",), ("uuid",), "no customer with uuid {0}", "customer_uuid"),
                RefKey(
                    ("customer_phone",),
                    ("phone_number",),
                    "no customer with phone {0}",
                    "customer_phone",
                ),
            ),
            required="customer is required (uuid or phone number)",
            error_column="customer_phone",
        ),
        Reference(
            "item",
            Item,
            keys=(
                RefKey(("item_uuid",), ("uuid",), "no item with uuid {0}", "item_uuid"),
                RefKey(
                    ("item_name", "item_size"),
                    ("name", "size"),
                    "no item {0} in size {1}",
                    "item_name",
                ),
            ),
            required="item is required (uuid, or name and size)",
            error_column="item_name",
            fetch=("price",),
        ),
    )
    compared = ("customer_id", "item_id", "quantity")
    state = ("unit_price", "status")
    options = {"send_confirmations": False}

    def row_rules(self, row: PlannedRow, *, options: Mapping[str, Any]) -> None:
        if row.action == UPDATE and row.target is not None:
            # An updated order may change its customer's figures, and its former customer's.
            touched = self._touched_customers()
            touched.add(row.target.values["customer_id"])
            touched.add(row.data.get("customer_id", row.target.values["customer_id"]))
        (item_price,) = row.fetched["item"]
        status = row.values.get("status")
        if row.action == NEW:
            if status is not None and status != OrderStatus.PLACED:
                row.error(
                    "status",
                    f"a new order starts as {OrderStatus.PLACED}, not {status}: later statuses "
                    "are reached through the order's actions",
                )
                return
            row.data["status"] = OrderStatus.PLACED
            row.data["unit_price"] = order_unit_price(item_price=item_price, item_changed=True)
            return
        assert row.target is not None
        current = row.target.values["status"]
        if status is not None and status != current:
            row.error(
                "status",
                f"an import does not change an order's status (this order is {current}, the "
                f"file says {status}): use the order's actions",
            )
            return
        if row.changed and order_fields_locked(current):
            # The number is read for a refused row only (the sheet does not fetch it yet).
            number = Order.objects.values_list("number", flat=True).get(pk=row.target.pk)
            row.error("", order_locked_message(number=number, status=current))
            return
        if "item_id" in row.changed:
            row.data["unit_price"] = order_unit_price(
                item_price=item_price,
                item_changed=True,
                current=row.target.values["unit_price"],
            )

    def check_plan(self, report: ImportReport, *, options: Mapping[str, Any]) -> None:
        if not (options.get("send_confirmations") and report.new):
            return
        pending = self._pending_confirmations()
        if pending:
            # The confirmed run, every row written: queue the confirmations now, under the cost
            # guard's lock, so the room counted is the room used (held only until the commit).
            created, pending[:] = list(pending), []
            if not report.invalid:
                self._queue_confirmations(created, new=report.new, actor=None)
            return
        room = sms_hourly_room()
        if room is not None and report.new > room:
            raise ImportFileError(
                f"This import would send {report.new:,} SMS confirmations, but the hourly SMS "
                f"cap allows {room:,} more right now. Untick “Send SMS confirmations”, or import "
                "fewer new orders at a time."
            )

    def after_write(
        self, created: Sequence[Any], *, options: Mapping[str, Any], actor: Actor
    ) -> None:
        # The customers' order figures count the batch's new and changed orders in the import's
        # own transaction (the customers of updated rows were noted by ``row_rules``).
        touched = self._touched_customers()
        customer_ids = {
            *touched,
            *Order.objects.filter(uuid__in=created).values_list("customer_id", flat=True),
        }
        touched.clear()
        customer_lock(customer_ids=customer_ids)
        customer_order_stats_refresh(customer_ids=customer_ids)
        if not created or not options.get("send_confirmations"):
            return
        room = sms_hourly_room()
        if room is None:
            # No hourly cap: nothing to count, so each batch's confirmations go at once.
            self._queue_confirmations(list(created), new=len(created), actor=actor)
            return
        # Under a cap, confirmations are queued once every row is written (``check_plan``):
        # taking the guard's lock now would hold it, and every order creation with it, for the
        # rest of the import. A file that already needs more than the room is refused here.
        pending = self._pending_confirmations()
        pending.extend(created)
        if len(pending) > room:
            raise ImportFileError(self._cap_message(len(pending), room))

    def _touched_customers(self) -> set[Any]:
        """The customers of the rows this batch updates (before and after the update)."""
        return self.__dict__.setdefault("_touched", set())

    def _pending_confirmations(self) -> list[Any]:
        """The uuids of orders this run created whose confirmations are not queued yet."""
        return self.__dict__.setdefault("_pending", [])

    def _queue_confirmations(self, created: list[Any], *, new: int, actor: Actor) -> None:
        orders: list[Order] = []
        for start in range(0, len(created), 5000):
            chunk = created[start : start + 5000]
            orders += Order.objects.select_related("customer", "item").filter(uuid__in=chunk)
        try:
            sms_queue_bulk(
                drafts=order_sms_drafts(orders, status=OrderStatus.PLACED),
                actor=actor,
                channel=Channel.IMPORT,
            )
        except SmsCapExceededError as exc:
            # Raised inside the import's transaction: nothing of the file is written.
            raise ImportFileError(self._cap_message(new, sms_hourly_room() or 0)) from exc

    @staticmethod
    def _cap_message(count: int, room: int) -> str:
        return (
            f"This import would send {count:,} SMS confirmations, but the hourly SMS cap now "
            f"allows only {room:,} more (other messages were queued since the preview). Untick "
            "“Send SMS confirmations”, or import fewer new orders at a time."
        )


class OrderResource(SheetResource):
    sheet_class = OrderSheet

    class Meta:
        model = Order
        name = "Orders"
