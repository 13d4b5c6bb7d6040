"""A bulk move of 20,000 orders as a job, against the in-request bulk move, in one run.

    su postgres -c "createdb -O custorder custorder_bench_moves"
    DATABASE_URL=postgres://custorder:custorder@127.0.0.1:5432/custorder_bench_moves \\
        .venv/bin/python bench/bulk_moves.py --orders 20000

Measures, on PostgreSQL, with placed orders written in bulk beforehand:

1. **Baseline — the in-request path**: ``transitions.order_transition_many`` on
   ``ORDERS_BULK_ACTION_MAX`` orders (500 by default), as the admin's list move runs it: time and
   queries per order.
2. **Job, asked**: ``move_jobs.order_move_job_create`` for N orders (what the admin's "confirm"
   click costs): time and queries.
3. **Job, run in this process**: ``move_job_runner.order_move_job_run`` on those N orders (placed
   → confirmed): time, orders per second, queries per order (counted with an execute wrapper).
4. **Job, run by a real worker** (``manage.py db_worker``, its own process) on another N orders:
   wall time from the request's commit to the job's end, as the operator waits for it.
5. **SMS cost**: a job of 2,000 confirmed orders moved to dispatched (each queues its SMS through
   the cost guard), in this process: time and queries per order.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from _common import seed  # the bench folder is on the path when a script runs

ROOT = Path(__file__).resolve().parent.parent


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def placed_orders(n: int, status: str = "placed") -> list[int]:
    """``n`` new orders in ``status``, written in bulk (like ``seed_demo --orders``)."""
    from apps.customers.models import Customer
    from apps.items.models import Item
    from apps.orders.models import Order

    rnd = random.Random(n)
    customers = list(Customer.objects.values_list("id", flat=True)[:5000])
    items = list(Item.objects.values_list("id", "price"))
    rows = []
    for _ in range(n):
        item_id, price = rnd.choice(items)
        rows.append(
            Order(
                customer_id=rnd.choice(customers),
                item_id=item_id,
                quantity=rnd.randint(1, 5),
                unit_price=price,
                status=status,
            )
        )
    created = Order.objects.bulk_create(rows, batch_size=5000)
    return [o.pk for o in created]


def counted(fn):
    from django.db import connection

    counter = QueryCounter()
    start = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = fn()
    return result, time.perf_counter() - start, counter.count


def start_worker() -> subprocess.Popen:
    from django.db import connection

    db = connection.settings_dict
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.base",
        "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
        "DATABASE_URL": "postgres://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(**db),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [
            *(sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"),
            *("--interval", "0.2", "-v", "0"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20_000)
    args = parser.parse_args()
    n = args.orders
    setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import transaction

    from apps.orders.models import Order, OrderMoveJob
    from apps.orders.move_job_runner import order_move_job_run
    from apps.orders.move_jobs import order_move_job_create
    from apps.orders.transitions import order_transition_many

    seed(customers=5000, items=50)
    user, _ = User.objects.get_or_create(
        username="bench-operator", defaults={"is_staff": True, "is_superuser": True}
    )
    print(f"load average at start: {os.getloadavg()}")
    print(
        f"batch: {settings.ORDERS_MOVE_JOB_BATCH}, in-request bound: "
        f"{settings.ORDERS_BULK_ACTION_MAX}"
    )

    # 1. the in-request path
    bound = settings.ORDERS_BULK_ACTION_MAX
    ids = placed_orders(bound)
    orders = list(Order.objects.filter(pk__in=ids))
    outcome, seconds, queries = counted(
        lambda: order_transition_many(orders=orders, to="confirmed", actor=user, channel="admin")
    )
    assert len(outcome.moved) == bound
    print(
        f"1. in-request order_transition_many, {bound} orders: {seconds:.2f} s, "
        f"{1000 * seconds / bound:.2f} ms/order, {queries / bound:.2f} queries/order"
    )

    # 2-3. a job of n orders, in this process
    ids = placed_orders(n)
    selection = Order.objects.filter(pk__in=ids)
    with transaction.atomic():
        job, seconds, queries = counted(
            lambda: order_move_job_create(orders=selection, to="confirmed", actor=user)
        )
    print(f"2. job asked for {job.total:,} orders: {seconds:.2f} s, {queries} queries")
    status, seconds, queries = counted(lambda: order_move_job_run(job.pk))
    job.refresh_from_db()
    assert job.moved == n, job.message
    print(
        f"3. job run in this process: {status}, {seconds:.1f} s, {n / seconds:,.0f} orders/s, "
        f"{queries / n:.2f} queries/order ({job.message})"
    )

    # 4. a job of n orders, run by a real worker process
    ids = placed_orders(n)
    worker = start_worker()
    try:
        time.sleep(3)  # the worker starts up (Django, the task backend) before the click
        with transaction.atomic():
            job = order_move_job_create(
                orders=Order.objects.filter(pk__in=ids), to="confirmed", actor=user
            )
        start = time.perf_counter()
        while True:
            job.refresh_from_db()
            if job.finished:
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - start
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    print(
        f"4. job run by db_worker: {job.status}, {seconds:.1f} s from the commit to its end, "
        f"{job.moved / seconds:,.0f} orders/s ({job.message})"
    )

    # 5. a move that texts: 2,000 confirmed orders dispatched (the hourly cap lifted for the run:
    # over it, messages are recorded as failed, which is cheaper and not what is measured)
    sms_n = 2000
    settings.SMS_MAX_PER_HOUR = 100 * sms_n
    ids = placed_orders(sms_n, status="confirmed")
    with transaction.atomic():
        job = order_move_job_create(
            orders=Order.objects.filter(pk__in=ids), to="dispatched", actor=user
        )
    status, seconds, queries = counted(lambda: order_move_job_run(job.pk))
    job.refresh_from_db()
    print(
        f"5. job dispatching {sms_n:,} orders (an SMS each): {seconds:.1f} s, "
        f"{1000 * seconds / sms_n:.2f} ms/order, {queries / sms_n:.2f} queries/order "
        f"({job.message})"
    )
    print(
        f"load average at end: {os.getloadavg()}; jobs in this database: "
        f"{OrderMoveJob.objects.count()}"
    )


if __name__ == "__main__":
    main()
