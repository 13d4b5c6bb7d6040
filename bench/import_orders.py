"""Order import and export at 100,000 rows on PostgreSQL.

Runs the admin's own path: the uploaded bytes are read as a stream (``read_table``) and go
through the order import service (``order_import_rows``: preview = dry run, then the confirmed
run). In the same run it measures a bare COPY of the same rows (ids already resolved) as the
floor, a re-import of the same file (every row skipped) and the CSV/XLSX exports.

    DATABASE_URL=postgres://custorder:custorder@127.0.0.1:5432/custorder_bench_imp \\
        .venv/bin/python bench/import_orders.py --rows 100000

The database is migrated and filled with customers and items when needed; the orders the run
creates are deleted at the end.
"""

import argparse
import io
import os
import random
import resource
import sys
import time
import uuid
from pathlib import Path

from _common import seed  # the bench folder is on the path when a script runs

ROOT = Path(__file__).resolve().parent.parent


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_csv(rows: int) -> tuple[bytes, list[tuple]]:
    """A file like an operator's: half the rows name the customer by phone and the item by
    name + size, half by uuid; every row has its own order uuid (re-importable)."""
    from apps.customers.models import Customer
    from apps.items.models import Item

    rnd = random.Random(42)
    customers = list(Customer.objects.values_list("id", "uuid", "phone_number"))
    items = list(Item.objects.values_list("id", "uuid", "name", "size", "price"))
    out = io.StringIO()
    out.write("uuid,customer_uuid,customer_phone,item_uuid,item_name,item_size,quantity\n")
    resolved = []
    for n in range(rows):
        c_id, c_uuid, c_phone = customers[rnd.randrange(len(customers))]
        i_id, i_uuid, i_name, i_size, i_price = items[rnd.randrange(len(items))]
        quantity = rnd.randint(1, 5)
        order_uuid = uuid.uuid4()
        if n % 2:
            out.write(f"{order_uuid},{c_uuid},,{i_uuid},,,{quantity}\n")
        else:
            out.write(f"{order_uuid},,'{c_phone},,{i_name},{i_size},{quantity}\n")
        resolved.append((order_uuid, c_id, i_id, quantity, i_price))
    return out.getvalue().encode(), resolved


def bare_copy(resolved: list[tuple]) -> float:
    """COPY of the same rows with customer/item ids known in advance: the floor."""
    from django.db import connection, transaction
    from django.utils import timezone

    stamp = timezone.now().isoformat()
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # The foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at commit, which this floor
        # never reaches (it rolls back). Checked per row instead, the floor pays what an import
        # that commits pays.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        buffer = io.StringIO()
        buffer.writelines(
            f"{u}\t{c}\t{i}\t{q}\t{p}\t{stamp}\t{stamp}\t1\n" for u, c, i, q, p in resolved
        )
        buffer.seek(0)
        cursor.cursor.copy_expert(
            "COPY orders_order (uuid, customer_id, item_id, quantity, unit_price, "
            "date_created, date_modified, version) FROM STDIN",
            buffer,
        )
    return time.perf_counter() - start


def delete_orders(uuids: list) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM orders_order WHERE uuid = ANY(%s::uuid[])", [uuids])
        cursor.execute("DELETE FROM orders_historicalorder WHERE uuid = ANY(%s::uuid[])", [uuids])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--skip-xlsx-export", action="store_true")
    args = parser.parse_args()

    setup()
    from django.db import connection

    from apps.orders.models import Order
    from apps.orders.resources import OrderSheet, order_import_rows
    from apps.orders.selectors import order_list
    from apps.spreadsheets.exports import csv_chunks, xlsx_write
    from apps.spreadsheets.limits import SheetLimits
    from apps.spreadsheets.readers import read_table

    assert connection.vendor == "postgresql", "run against PostgreSQL (DATABASE_URL)"
    seed(args.customers, args.items)
    data, resolved = make_csv(args.rows)
    uuids = [str(r[0]) for r in resolved]
    print(f"rows: {args.rows:,}  file: {len(data) / 1e6:.1f} MB  ", end="")
    print(f"customers: {args.customers:,}  items: {args.items}")

    copy_s = bare_copy(resolved)
    delete_orders(uuids)
    connection.cursor().execute("VACUUM ANALYZE orders_order")
    print(f"bare COPY of the same rows:          {copy_s:6.2f} s")

    limits = SheetLimits.from_settings()

    def table():
        return read_table(io.BytesIO(data), name="bench.csv", size=len(data), limits=limits)

    rss_before = peak_rss_mb()
    start = time.perf_counter()
    preview = order_import_rows(table=table(), dry_run=True, file_name="bench.csv")
    preview_s = time.perf_counter() - start
    assert preview.new == args.rows and not preview.errors

    start = time.perf_counter()
    report = order_import_rows(
        table=table(), file_name="bench.csv", expected_digests=preview.digests
    )
    import_s = time.perf_counter() - start
    assert report.written and report.new == args.rows
    assert Order.objects.filter(uuid__in=uuids[:1000]).count() == 1000
    rss_after = peak_rss_mb()

    start = time.perf_counter()
    again = order_import_rows(table=table(), file_name="bench.csv")
    reimport_s = time.perf_counter() - start
    assert again.unchanged == args.rows

    print(f"preview (dry run, all rows checked): {preview_s:6.2f} s")
    print(
        f"confirmed import, read + write:      {import_s:6.2f} s  "
        f"({args.rows / import_s:,.0f} rows/s, {import_s / copy_s:.1f}x the bare COPY)"
    )
    print(f"re-import of the same file (skips):  {reimport_s:6.2f} s")
    print(f"peak RSS: {rss_after:.0f} MB (was {rss_before:.0f} MB before reading the file)")

    queryset = order_list()
    total = Order.objects.count()
    start = time.perf_counter()
    size = sum(len(chunk) for chunk in csv_chunks(OrderSheet(), queryset))
    export_s = time.perf_counter() - start
    print(
        f"CSV export (streamed) of {total:,} orders: {export_s:6.2f} s  ({size / 1e6:.1f} MB)  "
        f"peak RSS {peak_rss_mb():.0f} MB"
    )
    if not args.skip_xlsx_export:
        start = time.perf_counter()
        out = io.BytesIO()
        xlsx_write(OrderSheet(), queryset, out)
        size = len(out.getvalue())
        xlsx_s = time.perf_counter() - start
        print(
            f"XLSX export of {total:,} orders:          {xlsx_s:6.2f} s  ({size / 1e6:.1f} MB)  "
            f"peak RSS {peak_rss_mb():.0f} MB"
        )

    delete_orders(uuids)


if __name__ == "__main__":
    main()
