"""SMS worker throughput against the local fake Africa's Talking, and a duplicate check.

    DATABASE_URL=postgres://... .venv/bin/python bench/sms_worker.py [--messages 300]
        [--latency-ms 0,50]

For each provider latency: N orders get a confirmation queued (one task per message, as
``order_create`` does), then ``manage.py db_worker`` processes run with the real
africastalking SDK: one worker, then two workers. In the two-worker runs every message is
enqueued TWICE, so both workers race for the same rows; the claim must keep it to one SMS.
Throughput = messages / (last ``sent_at`` - first ``claimed_at``), so process start-up is not
counted. PostgreSQL only (SQLite has no concurrent writers). Migrates DATABASE_URL first.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENV = {
    "DJANGO_SETTINGS_MODULE": "backoffice.settings.base",
    "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
    "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    "SMS_BACKEND": "africastalking",
    "AFRICASTALKING_USERNAME": "custorder",
    "AFRICASTALKING_API_KEY": "bench-key",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

from decimal import Decimal  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max, Min  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

from apps.customers.models import Customer  # noqa: E402
from apps.items.models import Item  # noqa: E402
from apps.notifications.models import SmsMessage  # noqa: E402
from apps.notifications.tasks import sms_send_task  # noqa: E402
from apps.orders.models import Order  # noqa: E402
from tests.notifications.fake_provider import FakeAfricasTalking, Reply  # noqa: E402
from tests.sms_helpers import sms_confirmation_queue  # noqa: E402


def prepare(n: int, *, duplicate_tasks: bool) -> list[int]:
    Order.objects.filter(customer__last_name="SmsBench").delete()
    Customer.objects.filter(last_name="SmsBench").delete()
    DBTaskResult.objects.all().delete()
    item, _ = Item.objects.get_or_create(name="SmsBench tee", size="M", price=Decimal("100"))
    customers = Customer.objects.bulk_create(
        Customer(first_name=f"B{i}", last_name="SmsBench", phone_number=f"+25479{i:07d}")
        for i in range(n)
    )
    orders = Order.objects.bulk_create(
        Order(customer=c, item=item, quantity=1, unit_price=item.price) for c in customers
    )
    ids = []
    for order in orders:
        message = sms_confirmation_queue(order=order)  # autocommit: enqueues at once
        ids.append(message.pk)
        if duplicate_tasks:
            sms_send_task.enqueue(message.pk)
    return ids


def run_workers(count: int, base_url: str) -> float:
    env = os.environ | {"AFRICASTALKING_API_URL": base_url}
    procs = [
        subprocess.Popen(
            [
                *(sys.executable, "manage.py", "db_worker", "--batch", "--no-reload"),
                *("--no-startup-delay", "--interval", "0", "-v", "0"),
                *("--worker-id", f"bench-{i}"),
            ],
            cwd=ROOT,
            env=env,
        )
        for i in range(count)
    ]
    start = time.monotonic()
    for p in procs:
        p.wait(timeout=600)
    return time.monotonic() - start


def measure(n: int, workers: int, latency_ms: int) -> dict[str, object]:
    fake = FakeAfricasTalking().start()
    try:
        if latency_ms:
            fake.add(*[Reply(delay=latency_ms / 1000)] * (n * 2))
        ids = prepare(n, duplicate_tasks=workers > 1)
        wall = run_workers(workers, fake.base_url)
        received = fake.received()
    finally:
        fake.stop()
    rows = SmsMessage.objects.filter(pk__in=ids)
    span = rows.aggregate(first=Min("claimed_at"), last=Max("sent_at"))
    seconds = (span["last"] - span["first"]).total_seconds()
    per_number = Counter(r["form"]["to"] for r in received)
    statuses = Counter(rows.values_list("status", flat=True))
    return {
        "workers": workers,
        "latency_ms": latency_ms,
        "messages": n,
        "tasks": DBTaskResult.objects.count(),
        "msg_per_s": round(n / seconds, 1) if seconds else float("inf"),
        "wall_s": round(wall, 2),
        "provider_requests": len(received),
        "duplicates": sum(c - 1 for c in per_number.values() if c > 1),
        "max_attempts": max(rows.values_list("attempts", flat=True)),
        "statuses": dict(statuses),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--latency-ms", default="0,50")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    print(f"database {connection.settings_dict['NAME']}, {args.messages} messages per run")
    print("workers latency_ms tasks msg/s wall_s requests duplicates max_attempts statuses")
    for latency in [int(x) for x in args.latency_ms.split(",")]:
        for workers in (1, 2):
            r = measure(args.messages, workers, latency)
            print(
                f"{r['workers']:>7} {r['latency_ms']:>10} {r['tasks']:>5} {r['msg_per_s']:>6} "
                f"{r['wall_s']:>6} {r['provider_requests']:>8} {r['duplicates']:>10} "
                f"{r['max_attempts']:>12} {r['statuses']}"
            )
            assert r["duplicates"] == 0 and r["provider_requests"] == r["messages"], r
    Order.objects.filter(customer__last_name="SmsBench").delete()
    Customer.objects.filter(last_name="SmsBench").delete()
    DBTaskResult.objects.all().delete()


if __name__ == "__main__":
    main()
