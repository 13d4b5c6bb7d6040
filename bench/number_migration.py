"""The numbering migration (``orders/0009_order_number.py``) on a copy with 1,000,000 orders.

    export DATABASE_URL=postgres://custorder:custorder@127.0.0.1:5432/custorder_search
    nice -n 10 .venv/bin/python bench/number_migration.py [--orders 1000000] [--keep]

Makes a database of its own beside ``DATABASE_URL``'s (its name + ``_numbering``), migrates it
to the schema before order numbers (orders 0008, customers and items 0005), fills it with COPY
(customers, items, orders, one history record per order, and orders that exist only in the
history, deleted ones: 1 %), then times ``migrate orders 0009`` and checks what it did: every
order and history record numbered, oldest first, no number twice, the sequence after the
highest. The database is dropped afterwards unless ``--keep``.

Baseline in the same run: ``COPY`` of the orders themselves (their share of the seeding), the
cost of writing the table once.
"""

import argparse
import io
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

BASE = os.environ.get("DATABASE_URL", "")
if not BASE.startswith("postgres"):
    raise SystemExit("PostgreSQL only: DATABASE_URL=postgres://…")
parts = urlsplit(BASE)
NAME = parts.path.lstrip("/") + "_numbering"
ADMIN_URL = urlunsplit(parts._replace(path="/postgres"))
os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{NAME}"))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import setup_django  # noqa: E402


def _database(action: str) -> None:
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{NAME}"')
        if action == "create":
            cursor.execute(f'CREATE DATABASE "{NAME}"')
    admin.close()


def _copy(cursor: object, table: str, columns: list[str], lines: list[str]) -> float:
    start = time.perf_counter()
    for at in range(0, len(lines), 100_000):
        chunk = io.StringIO("".join(lines[at : at + 100_000]))
        cursor.copy_expert(  # type: ignore[attr-defined]  # psycopg2 cursor, typed as object
            f"COPY {table} ({', '.join(columns)}) FROM STDIN", chunk
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    _database("create")
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    try:
        # auth (and contenttypes) first: the roles are synced after every migrate.
        call_command("migrate", "auth", verbosity=0)
        for app, target in (("core", "0001"), ("customers", "0005"), ("items", "0005")):
            call_command("migrate", app, target, verbosity=0)
        call_command("migrate", "orders", "0008", verbosity=0)
        rng = random.Random(9)
        now = datetime.now(UTC)
        n = args.orders
        n_customers, n_items = max(1, n // 10), 200
        with connection.cursor() as cursor:
            stamp = now.isoformat()
            _copy(
                cursor.cursor,
                "customers_customer",
                [
                    "uuid",
                    "first_name",
                    "last_name",
                    "phone_number",
                    "date_created",
                    "date_modified",
                    "version",
                ],
                [
                    f"{rng.getrandbits(128):032x}\tF{i}\tL{i}\t+2547{i:08d}\t{stamp}\t{stamp}\t1\n"
                    for i in range(n_customers)
                ],
            )
            _copy(
                cursor.cursor,
                "items_item",
                ["uuid", "name", "size", "price", "date_created", "date_modified", "version"],
                [
                    f"{rng.getrandbits(128):032x}\tItem {i}\tM\t{100 + i}.00\t{stamp}\t{stamp}\t1\n"
                    for i in range(n_items)
                ],
            )
            cursor.execute("SELECT min(id) FROM customers_customer")
            first_customer = cursor.fetchone()[0]
            cursor.execute("SELECT min(id) FROM items_item")
            first_item = cursor.fetchone()[0]
            orders: list[str] = []
            history: list[str] = []
            deleted = max(1, n // 100)
            span = 3 * 365 * 86400
            for i in range(n + deleted):
                # Ids in random order of creation: the numbering sorts by date, not by id.
                created = (now - timedelta(seconds=rng.random() * span)).isoformat()
                uuid = f"{rng.getrandbits(128):032x}"
                customer = first_customer + rng.randrange(n_customers)
                item = first_item + rng.randrange(n_items)
                pk = i + 1
                values = f"{uuid}\t{customer}\t{item}\t1\t100.00\tdelivered\t\\N\t{created}\t1"
                history.append(f"{pk}\t{values}\t{created}\t\\N\t+\n")
                if i < n:
                    orders.append(f"{pk}\t{values}\t{created}\n")
                else:
                    history.append(f"{pk}\t{values}\t{created}\t\\N\t-\n")
            columns = [
                "uuid",
                "customer_id",
                "item_id",
                "quantity",
                "unit_price",
                "status",
                "status_changed_at",
                "date_created",
                "version",
            ]
            copy_orders = _copy(
                cursor.cursor, "orders_order", ["id", *columns, "date_modified"], orders
            )
            _copy(
                cursor.cursor,
                "orders_historicalorder",
                ["id", *columns, "history_date", "history_change_reason", "history_type"],
                history,
            )
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('orders_order', 'id'), %s)", [n + deleted]
            )
            cursor.execute("VACUUM ANALYZE orders_order")
            cursor.execute("VACUUM ANALYZE orders_historicalorder")
        print(
            f"{n:,} orders, {len(history):,} history records ({deleted:,} orders deleted, in the "
            f"history only); load average {_load()}"
        )
        statements: list[tuple[float, str]] = []

        def timed(execute, sql, params, many, context):
            begin = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                statements.append((time.perf_counter() - begin, " ".join(str(sql).split())))

        start = time.perf_counter()
        with connection.execute_wrapper(timed):
            call_command("migrate", "orders", "0009", verbosity=0)
        took = time.perf_counter() - start
        print(f"migrate orders 0009: {took:.1f} s (COPY of the orders alone: {copy_orders:.1f} s)")
        print("its slowest statements:")
        for seconds, sql in sorted(statements, reverse=True)[:8]:
            print(f"  {seconds:7.1f} s  {sql[:110]}")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), count(DISTINCT number), min(number), max(number) FROM ("
                "SELECT number FROM orders_order UNION ALL "
                "SELECT h.number FROM orders_historicalorder h WHERE h.history_type = '+' "
                "AND NOT EXISTS (SELECT 1 FROM orders_order o WHERE o.id = h.id)) AS n"
            )
            total, distinct, low, high = cursor.fetchone()
            cursor.execute(
                "SELECT count(*) FROM (SELECT number, lag(number) OVER (ORDER BY date_created, id) "
                "AS before FROM orders_order) AS s WHERE number <= before"
            )
            out_of_order = cursor.fetchone()[0]
            cursor.execute("SELECT last_value FROM orders_order_number_seq")
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM orders_historicalorder WHERE number IS NULL")
            unnumbered = cursor.fetchone()[0]
        print(
            f"numbered {total:,} orders ({distinct:,} distinct numbers, {low} to {high}); "
            f"orders out of date order: {out_of_order}; sequence at {sequence}; history records "
            f"without a number: {unnumbered}; load average {_load()}"
        )
        assert total == distinct == n + deleted and out_of_order == 0 and unnumbered == 0
        assert sequence == high
    finally:
        connection.close()
        if not args.keep:
            _database("drop")


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
