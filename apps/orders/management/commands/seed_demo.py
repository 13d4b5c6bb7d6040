"""Load the demo data set (idempotent) and optionally generate synthetic orders in bulk."""

import json
import random
import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Channel
from apps.customers.models import Customer
from apps.customers.services import customer_create
from apps.items.models import Item, Size
from apps.items.services import item_create
from apps.orders.models import Order, OrderStatus
from apps.orders.services import order_create
from apps.orders.stats import customer_order_stats_rebuild
from apps.orders.transitions import order_transition

#: The moves that take a new order to each status (demo data goes through the services).
PATHS = {
    OrderStatus.PLACED: [],
    OrderStatus.CONFIRMED: [OrderStatus.CONFIRMED],
    OrderStatus.DISPATCHED: [OrderStatus.CONFIRMED, OrderStatus.DISPATCHED],
    OrderStatus.DELIVERED: [OrderStatus.CONFIRMED, OrderStatus.DISPATCHED, OrderStatus.DELIVERED],
    OrderStatus.CANCELLED: [OrderStatus.CANCELLED],
}
#: How long after its creation a demo order made each move: its timeline runs forward.
STEP_AFTER = {
    OrderStatus.CONFIRMED: timedelta(hours=2),
    OrderStatus.DISPATCHED: timedelta(hours=26),
    OrderStatus.DELIVERED: timedelta(days=3),
    OrderStatus.CANCELLED: timedelta(hours=5),
}


def demo_step_times(created: Any, steps: Sequence[str], now: Any) -> list[Any]:
    """When each move of a demo order happened: after its creation, in order, never later than
    a minute before ``now`` (a recent order's moves are squeezed into the time it has had)."""
    times = []
    previous = created
    for i, step in enumerate(steps):
        latest = now - timedelta(minutes=len(steps) - i)
        at = min(created + STEP_AFTER[OrderStatus(step)], latest)
        at = max(at, previous + timedelta(seconds=1))
        times.append(at)
        previous = at
    return times


def synthetic_status(rng: random.Random, age_days: float) -> str:
    """A plausible status for a synthetic order ``age_days`` old: recent orders wait, older
    ones were delivered, a few of each age were cancelled."""
    roll = rng.random()
    if roll < 0.04:
        return OrderStatus.CANCELLED
    if age_days > 14:
        return OrderStatus.DELIVERED
    if age_days > 3:
        return OrderStatus.DELIVERED if roll < 0.64 else OrderStatus.DISPATCHED
    if age_days > 1:
        return OrderStatus.DISPATCHED if roll < 0.52 else OrderStatus.CONFIRMED
    return OrderStatus.CONFIRMED if roll < 0.40 else OrderStatus.PLACED


DEMO_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo.json"


class Command(BaseCommand):
    help = (
        "Load fixtures/demo.json (skips rows that exist) and generate --orders N synthetic orders."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=0, help="synthetic orders to add")
        parser.add_argument("--customers", type=int, default=None, help="synthetic customers")
        parser.add_argument("--batch-size", type=int, default=10_000)
        parser.add_argument("--no-demo", action="store_true", help="skip the demo data set")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["no_demo"]:
            created = self.load_demo()
            self.stdout.write(f"demo data: {created} rows created")
        if opts["orders"]:
            self.generate(
                orders=opts["orders"],
                customers=opts["customers"] or min(max(opts["orders"] // 50, 100), 20_000),
                batch_size=opts["batch_size"],
                seed=opts["seed"],
            )

    @transaction.atomic
    def load_demo(self) -> int:
        data = json.loads(DEMO_FILE.read_text())
        created = 0
        customers = {}
        for row in data["customers"]:
            obj = Customer.objects.filter(uuid=row["uuid"]).first()
            if obj is None:
                obj = customer_create(
                    first_name=row["first_name"],
                    last_name=row["last_name"],
                    phone_number=row["phone_number"],
                    uuid=uuid.UUID(row["uuid"]),
                    channel=Channel.COMMAND,
                )
                created += 1
            customers[row["uuid"]] = obj
        items = {}
        for row in data["items"]:
            item = Item.objects.filter(uuid=row["uuid"]).first()
            if item is None:
                item = item_create(
                    name=row["name"],
                    size=row["size"],
                    price=row["price"],
                    uuid=uuid.UUID(row["uuid"]),
                    channel=Channel.COMMAND,
                )
                created += 1
            items[row["uuid"]] = item
        now = timezone.now()
        existing = set(
            Order.objects.filter(uuid__in=[r["uuid"] for r in data["orders"]]).values_list(
                "uuid", flat=True
            )
        )
        # Oldest first, so the numbers the database gives follow the orders' dates.
        for row in sorted(data["orders"], key=lambda r: (-r["days_ago"], -r["quantity"])):
            if uuid.UUID(row["uuid"]) in existing:
                continue
            created_at = now - timedelta(days=row["days_ago"], minutes=row["quantity"] * 7 + 10)
            order = order_create(
                customer=customers[row["customer"]],
                item=items[row["item"]],
                quantity=row["quantity"],
                uuid=uuid.UUID(row["uuid"]),
                date_created=created_at,
                send_confirmation=False,  # demo history, not new orders
                channel=Channel.COMMAND,
            )
            steps = PATHS[OrderStatus(row.get("status", OrderStatus.PLACED))]
            for step, at in zip(steps, demo_step_times(created_at, steps, now), strict=True):
                order = order_transition(
                    order=order,
                    to=step,
                    actor=None,
                    channel=Channel.COMMAND,
                    reason=row.get("reason") or None,
                    at=at,
                    notify=False,  # demo history: nobody is texted
                )
            created += 1
        return created

    def generate(self, *, orders: int, customers: int, batch_size: int, seed: int) -> None:
        """Bulk-insert synthetic rows for benchmarks; bypasses services on purpose (speed).

        Orders get a status that fits their age (``synthetic_status``), without events.
        """
        rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
        now = timezone.now()
        start = Customer.objects.count()
        new_customers = [
            Customer(
                first_name=f"Synthetic{start + i}",
                last_name=rng.choice(["Kamau", "Otieno", "Wanjiru", "Ali", "Mutua", "Achieng"]),
                phone_number=f"+2547{(start + i) % 100_000_000:08d}"[:13],
                date_created=now - timedelta(days=rng.randint(0, 365)),
            )
            for i in range(customers)
        ]
        Customer.objects.bulk_create(new_customers, batch_size=batch_size, ignore_conflicts=True)
        names = ["Tee", "Hoodie", "Jacket", "Shorts", "Polo", "Cap", "Scarf", "Socks", "Dress"]
        new_items = [
            Item(name=f"{n} {k}", size=s, price=Decimal(rng.randint(300, 6000)))
            for n in names
            for k in range(2)
            for s in Size.values
        ]
        Item.objects.bulk_create(new_items, ignore_conflicts=True)
        customer_ids = list(Customer.objects.values_list("id", flat=True))
        item_rows = list(Item.objects.values_list("id", "price"))
        done = 0
        while done < orders:
            n = min(batch_size, orders - done)
            batch = []
            for _ in range(n):
                item_id, price = rng.choice(item_rows)
                age = rng.randint(0, 365 * 86400)
                status = synthetic_status(rng, age / 86400)
                created_at = now - timedelta(seconds=age)
                moved_at = (
                    None
                    if status == OrderStatus.PLACED
                    else min(now, created_at + timedelta(seconds=rng.randint(600, 3 * 86400)))
                )
                batch.append(
                    Order(
                        customer_id=rng.choice(customer_ids),
                        item_id=item_id,
                        quantity=rng.randint(1, 5),
                        unit_price=price,
                        status=status,
                        status_changed_at=moved_at,
                        date_created=created_at,
                    )
                )
            Order.objects.bulk_create(batch, batch_size=batch_size)
            done += n
            self.stdout.write(f"orders: {done}/{orders}")
        customer_order_stats_rebuild()
