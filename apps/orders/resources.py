"""Orders as a spreadsheet: columns, keys, row rules, the import entry and the export
(docs/import.md). Registered in ``OrdersConfig.ready()`` (``apps/spreadsheets/registry.py``).

Orders match by uuid, then by number (given by the database, never by a file: a number that
names no order is an error), then by external reference (the sender's own id: a new one makes a
new order with it); a row with none of them makes a new order. The customer is named by uuid or
phone, the item by uuid or name + size. The export adds columns a person reads (the customer's
name, the unit price, the total) that the import ignores. ``status`` is exported; an import
may only start new orders as ``placed`` and never moves an existing order (the order's actions
do), and a dispatched, delivered or cancelled order keeps its customer, item and quantity.
Imported orders have no ``created`` event: the audit history record the engine writes with them
(the importer, channel ``import``, the file as its reason) is their creation on the timeline.
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
from apps.spreadsheets.engine import import_rows
from apps.spreadsheets.limits import ImportFileError
from apps.spreadsheets.plan import NEW, ImportReport, PlannedRow
from apps.spreadsheets.progress import Observer
from apps.spreadsheets.readers import Table
from apps.spreadsheets.registry import ImportOption, SheetRegistration
from apps.spreadsheets.resources import SheetResource
from apps.spreadsheets.sheets import Column, Key, Reference, RefKey, Sheet

from .models import EXTERNAL_REFERENCE_MAX_LENGTH, Order, OrderStatus
from .rules import (
    order_fields_locked,
    order_locked_message,
    order_quantity_clean,
    order_status_clean,
    order_unit_price,
)
from .selectors import TOTAL, order_export_list
from .services import LOCKED_FIELDS
from .sms import order_sms_drafts
from .stats import customer_order_stats_refresh

#: The largest number an order may have (the column is a bigint).
ORDER_NUMBER_MAX = 2**63 - 1
#: What a dispatched, delivered or cancelled order keeps, as the sheet names its fields (its
#: external reference may still change).
LOCKED_LINE = frozenset(f.attname for f in Order._meta.concrete_fields if f.name in LOCKED_FIELDS)


class OrderSheet(Sheet):
    model = Order
    label = "order"
    columns = (
        Column("uuid", parse=cells.uuid),
        Column(
            "number",
            parse=cells.integer(label="order number", maximum=ORDER_NUMBER_MAX),
            numeric=True,
        ),
        Column(
            "external_reference",
            parse=cells.text(max_length=EXTERNAL_REFERENCE_MAX_LENGTH),
            free_text=True,
        ),
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
        Column(
            "item_name",
            parse=cells.text(max_length=250),
            field="",
            export="item__name",
            free_text=True,
        ),
        Column(
            "item_size", parse=cells.text(max_length=3, upper=True), field="", export="item__size"
        ),
        Column("quantity", parse=cells.rule(order_quantity_clean), required=True, numeric=True),
        Column("unit_price", numeric=True, places=2),
        Column("total", export=TOTAL, numeric=True, places=2),
        Column("status", parse=cells.rule(order_status_clean)),
        # Exported for people, ignored on import: a cancellation's reason code and its words
        # (a cancellation is a move, made in the admin or through /v1, not by a file).
        Column("cancel_reason"),
        Column("cancel_reason_text", free_text=True),
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
            read=("price",),
        ),
    )
    keys = (
        Key(("number",), "order number {0}", creatable=False),
        Key(("external_reference",), "external reference {0}"),
    )
    updatable = ("customer_id", "item_id", "quantity", "external_reference")
    read_for_rules = ("unit_price", "status")
    options = {"send_confirmations": False}

    def __init__(self) -> None:
        super().__init__()
        #: The uuids of orders this run created whose confirmations are not queued yet.
        self.confirmations_to_queue: list[Any] = []
        #: The customers whose order figures the file's rows change (their orders, new or moved).
        self.customers_touched: set[int] = set()

    def row_rules(self, row: PlannedRow, *, options: Mapping[str, Any]) -> None:
        (item_price,) = row.reference_values["item"]
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
            self.customers_touched.add(row.values["customer_id"])
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
        if order_fields_locked(current) and set(row.changed) & LOCKED_LINE:
            number = row.target.values["number"]
            row.error("", order_locked_message(number=number, status=current))
            return
        if "item_id" in row.changed:
            row.data["unit_price"] = order_unit_price(
                item_price=item_price,
                item_changed=True,
                current=row.target.values["unit_price"],
            )
        if set(row.changed) & LOCKED_LINE:
            self.customers_touched.add(row.target.values["customer_id"])
            self.customers_touched.add(row.values["customer_id"])

    def check_plan(self, report: ImportReport, *, options: Mapping[str, Any], actor: Actor) -> None:
        if not (options.get("send_confirmations") and report.new):
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
        if not options.get("send_confirmations"):
            return
        room = sms_hourly_room()
        if room is None:
            # No hourly cap: nothing to count, so each batch's confirmations go at once.
            self._queue_confirmations(list(created), new=len(created), actor=actor)
            return
        # Under a cap, confirmations are queued once every row is written (``after_import``):
        # taking the guard's lock now would hold it, and every order creation with it, for the
        # rest of the import. A file that already needs more than the room is refused here.
        pending = self.confirmations_to_queue
        pending.extend(created)
        if len(pending) > room:
            raise ImportFileError(self._cap_message(len(pending), room))

    def after_import(
        self, report: ImportReport, *, options: Mapping[str, Any], actor: Actor
    ) -> None:
        # The customers' order figures count what the file wrote, in its own transaction: the
        # customers are locked first, as every order write does (``orders/stats.py``), once for
        # the whole file.
        customer_lock(customer_ids=self.customers_touched)
        customer_order_stats_refresh(customer_ids=self.customers_touched)
        if self.confirmations_to_queue:
            # Queued now, under the cost guard's lock, so the room counted is the room used
            # (held only until the commit).
            created, self.confirmations_to_queue = self.confirmations_to_queue, []
            self._queue_confirmations(created, new=report.new, actor=actor)

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


def order_import_rows(
    *,
    table: Table,
    dry_run: bool = False,
    skip_invalid: bool = False,
    send_confirmations: bool = False,
    actor: Actor = None,
    channel: str = Channel.IMPORT,
    file_name: str | None = None,
    expected_digests: list[str] | None = None,
    observer: Observer | None = None,
) -> ImportReport:
    """Check a spreadsheet of orders; unless ``dry_run``, write it (every row only if all are
    valid, or the valid ones with ``skip_invalid``). SMS confirmations are queued for the new
    orders only when ``send_confirmations`` is set."""
    return import_rows(
        sheet=OrderSheet(),
        table=table,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        actor=actor,
        channel=channel,
        file_name=file_name,
        options={"send_confirmations": send_confirmations},
        expected_digests=expected_digests,
        observer=observer,
    )


ORDER_SHEET = SheetRegistration(
    name="orders",
    sheet=OrderSheet,
    import_rows=order_import_rows,
    export_selector=order_export_list,
    options=(
        ImportOption(
            "send_confirmations",
            "Send SMS confirmations",
            "Text each customer an order confirmation for every new order in the file.",
        ),
    ),
    templates=("orders-template.csv", "orders-sample.csv"),
)


class OrderResource(SheetResource):
    sheet_class = OrderSheet

    class Meta:
        model = Order
        name = "Orders"
