"""Spreadsheet jobs at a million rows on PostgreSQL, against COPY, in one run.

    su postgres -c "createdb -O custorder custorder_bench_jobs"
    DATABASE_URL=postgres://custorder:custorder@127.0.0.1:5432/custorder_bench_jobs \\
        .venv/bin/python bench/spreadsheet_jobs.py --rows 1000000

Measures, each in its own process (peak RSS is that process's ``VmHWM``):

1. **Import** of a CSV of N new orders through ``manage.py import_file`` (read, check every row,
   write with COPY, history rows, one transaction) against a bare ``COPY`` of the same rows
   into the orders table with customer and item ids already resolved, committed (its foreign
   keys checked at the commit, as the import's are; numbers from the column's default; no
   history rows — those are the import's own cost).
2. **The skip policy**: the same import of a file with 1 % invalid rows, ``--skip-invalid
   --error-file``, against the all-valid import.
3. **CSV export** of the N orders through ``manage.py export_file`` against
   ``COPY (SELECT …) TO STDOUT`` of the same columns.
4. **XLSX export** through ``manage.py export_file`` (the streamed writer), and per row against
   openpyxl's write-only mode (the previous writer) on a sample of the same rows.
5. **Progress cost**: the time an import spends storing its progress and checking for a
   cancel, as a share of the whole (in this process, on a sample).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
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


def write_csv(path: Path, rows: int, *, invalid_every: int = 0) -> list[tuple]:
    """New orders as an operator's file: half by phone and name + size, half by uuid. With
    ``invalid_every``, every such row names a phone no customer has (a row error)."""
    from apps.customers.models import Customer
    from apps.items.models import Item

    rnd = random.Random(42)
    customers = list(Customer.objects.values_list("id", "uuid", "phone_number"))
    items = list(Item.objects.values_list("id", "uuid", "name", "size", "price"))
    resolved = []
    with path.open("w") as out:
        out.write("customer_uuid,customer_phone,item_uuid,item_name,item_size,quantity\n")
        for n in range(rows):
            c_id, c_uuid, c_phone = customers[rnd.randrange(len(customers))]
            i_id, i_uuid, i_name, i_size, i_price = items[rnd.randrange(len(items))]
            quantity = rnd.randint(1, 5)
            if invalid_every and n % invalid_every == invalid_every - 1:
                out.write(f",+254799{n:06d},,{i_name},{i_size},{quantity}\n")
                continue
            if n % 2:
                out.write(f"{c_uuid},,{i_uuid},,,{quantity}\n")
            else:
                out.write(f",{c_phone},,{i_name},{i_size},{quantity}\n")
            resolved.append((c_id, i_id, quantity, i_price))
    return resolved


def bare_copy(resolved: list[tuple]) -> float:
    """COPY of the rows into the orders table, committed: the floor an import is measured
    against (the rows are removed again by the caller)."""
    from django.db import connection, transaction
    from django.utils import timezone

    stamp = timezone.now().isoformat()
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for first in range(0, len(resolved), 200_000):
            buffer = io.StringIO()
            buffer.writelines(
                f"{uuid.uuid4()}\t{c}\t{i}\t{q}\t{p}\t{stamp}\t{stamp}\t1\n"
                for c, i, q, p in resolved[first : first + 200_000]
            )
            buffer.seek(0)
            cursor.cursor.copy_expert(
                "COPY orders_order (uuid, customer_id, item_id, quantity, unit_price, "
                "date_created, date_modified, version) FROM STDIN",
                buffer,
            )
    # The foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at the commit, counted here.
    return time.perf_counter() - start


def empty_orders() -> None:
    """Start from no orders (a bench database only): TRUNCATE, not a delete through the ORM,
    which would load every order and write a history record for each."""
    from django.db import connection

    from apps.orders.models import Order

    with connection.cursor() as cursor:
        cursor.execute(
            f"TRUNCATE {Order._meta.db_table}, {Order.history.model._meta.db_table} CASCADE"
        )
        cursor.execute("VACUUM ANALYZE")


def command(*args: str) -> tuple[float, float, str]:
    """A manage.py command in its own process: (seconds, peak RSS MB, output). The seconds are
    the job's own (started → finished, as its record says): Django's start-up is left out."""
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    code = (
        "import os, runpy, sys, time\n"
        "sys.argv = ['manage.py', *sys.argv[1:]]\n"
        "start = time.perf_counter()\n"
        "try:\n"
        "    runpy.run_path('manage.py', run_name='__main__')\n"
        "finally:\n"
        "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "    sys.stderr.write(f'@@{time.perf_counter() - start} {int(hwm.split()[1]) / 1024}\\n')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    line = [x for x in result.stderr.splitlines() if x.startswith("@@")][-1]
    seconds, peak = (float(v) for v in line[2:].split())
    if result.returncode:
        raise SystemExit(f"{args} failed:\n{result.stdout}\n{result.stderr[-2000:]}")
    from apps.spreadsheets.models import SpreadsheetJob

    job = SpreadsheetJob.objects.latest("pk")
    assert job.status == "succeeded", job.message
    return job.duration_seconds or seconds, peak, result.stdout


def copy_out_seconds() -> float:
    """``COPY (SELECT …) TO STDOUT`` of the export's columns, written to a throwaway file."""
    from django.db import connection

    from apps.orders.models import Order
    from apps.orders.resources import OrderSheet
    from apps.spreadsheets.export_rows import export_queryset

    sheet = OrderSheet()
    qs, names = export_queryset(sheet, Order.objects.order_by("-date_created", "-id"))
    sql, params = qs.values_list(*names).query.sql_with_params()
    with tempfile.TemporaryFile() as out, connection.cursor() as cursor:
        select = cursor.cursor.mogrify(sql, params).decode()
        start = time.perf_counter()
        cursor.cursor.copy_expert(f"COPY ({select}) TO STDOUT WITH (FORMAT csv)", out)
        return time.perf_counter() - start


def openpyxl_rows_per_second(sample: int) -> float:
    """The previous XLSX writer (openpyxl write-only) on the first ``sample`` rows."""
    from openpyxl import Workbook

    from apps.orders.models import Order
    from apps.orders.resources import OrderSheet
    from apps.spreadsheets.export_rows import export_values

    sheet = OrderSheet()
    rows = list(export_values(sheet, Order.objects.order_by("-date_created", "-id")[:sample]))
    start = time.perf_counter()
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet("orders")
    ws.append([c.name for c in sheet.columns])
    for row in rows:
        # openpyxl refuses aware datetimes: the same local time, without its zone.
        ws.append([v.replace(tzinfo=None) if hasattr(v, "tzinfo") else v for v in row])
    with tempfile.TemporaryFile() as out:
        workbook.save(out)
    return len(rows) / (time.perf_counter() - start)


def xlsx_writer_rows_per_second(sample: int) -> float:
    from apps.orders.models import Order
    from apps.orders.resources import OrderSheet
    from apps.spreadsheets.export_rows import export_values
    from apps.spreadsheets.xlsx_writer import XlsxWriter

    sheet = OrderSheet()
    rows = list(export_values(sheet, Order.objects.order_by("-date_created", "-id")[:sample]))
    start = time.perf_counter()
    with (
        tempfile.TemporaryFile() as out,
        XlsxWriter(
            out,
            sheet_name="orders",
            header=[c.name for c in sheet.columns],
            money=[c.places is not None for c in sheet.columns],
        ) as writer,
    ):
        for row in rows:
            writer.write_row(row)
    return len(rows) / (time.perf_counter() - start)


def progress_share(path: Path, sample_rows: int) -> tuple[float, float]:
    """Seconds spent in progress reports and the share of the run, for a dry run of a sample."""
    from django.conf import settings

    from apps.orders.resources import order_import_rows
    from apps.spreadsheets.jobs.observer import JobObserver
    from apps.spreadsheets.limits import SheetLimits
    from apps.spreadsheets.models import SpreadsheetJob
    from apps.spreadsheets.readers import read_table

    class Timed(JobObserver):
        spent = 0.0

        def progress(self, report, table):
            start = time.perf_counter()
            super().progress(report, table)
            Timed.spent += time.perf_counter() - start

    head = b"".join(path.open("rb").readlines()[: sample_rows + 1])
    job = SpreadsheetJob.objects.create(
        kind="import",
        model="orders.order",
        status="running",
        phase="check",
        file_name="sample.csv",
        file_format="csv",
    )
    observer = Timed(job)
    settings.IMPORT_PREVIEW_ROWS = 100
    start = time.perf_counter()
    table = read_table(
        io.BytesIO(head), name="s.csv", size=len(head), limits=SheetLimits.from_settings()
    )
    order_import_rows(table=table, dry_run=True, observer=observer)
    total = time.perf_counter() - start
    job.delete()
    return Timed.spent, Timed.spent / total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--xlsx-sample", type=int, default=50_000)
    parser.add_argument("--imports-only", action="store_true", help="leave the exports out")
    args = parser.parse_args()
    setup()
    from django.db import connection

    assert connection.vendor == "postgresql", "run against PostgreSQL (DATABASE_URL)"
    from apps.orders.models import Order

    print("load average at the start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    seed(args.customers, args.items)
    empty_orders()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "orders.csv"
        resolved = write_csv(csv_path, args.rows)
        skip_path = Path(folder) / "orders-1pc-invalid.csv"
        write_csv(skip_path, args.rows, invalid_every=100)
        print(f"{args.rows:,} order rows, file {csv_path.stat().st_size / 1e6:.0f} MB")

        floors = [bare_copy(resolved)]
        empty_orders()
        seconds, peak, _ = command("import_file", "orders", str(csv_path), "--import-again")
        figures["import"], figures["import_rss"] = seconds, peak
        assert Order.objects.count() == args.rows
        empty_orders()
        floors.append(bare_copy(resolved))
        del resolved
        empty_orders()
        figures["copy_in"] = sum(floors) / len(floors)
        print(
            f"bare COPY of the same rows, committed: {floors[0]:7.1f} s and {floors[1]:7.1f} s "
            f"(mean {figures['copy_in']:.1f} s)"
        )
        print(
            f"import_file (check + write):    {seconds:7.1f} s  {args.rows / seconds:,.0f} rows/s  "
            f"{seconds / figures['copy_in']:.2f}x COPY  peak RSS {peak:.0f} MB"
        )
        errors_path = Path(folder) / "errors.csv"
        seconds, peak, _ = command(
            "import_file",
            "orders",
            str(skip_path),
            "--skip-invalid",
            "--error-file",
            str(errors_path),
            "--import-again",
        )
        figures["import_skip"], figures["import_skip_rss"] = seconds, peak
        skipped = args.rows // 100
        assert Order.objects.count() == args.rows - skipped
        print(
            f"import_file --skip-invalid, 1 % invalid ({skipped:,} rows to the error file): "
            f"{seconds:7.1f} s = {seconds / figures['import']:.3f}x the all-valid import, "
            f"peak RSS {peak:.0f} MB"
        )
        if args.imports_only:
            print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
            print(json.dumps({k: round(v, 3) for k, v in figures.items()}))
            return

        connection.cursor().execute("VACUUM ANALYZE")
        figures["copy_out"] = copy_out_seconds()
        print(f"COPY (SELECT …) TO STDOUT:      {figures['copy_out']:7.1f} s")
        out_csv = Path(folder) / "out.csv"
        seconds, peak, _ = command("export_file", "orders", str(out_csv))
        figures["csv"], figures["csv_rss"] = seconds, peak
        print(
            f"export_file CSV:                {seconds:7.1f} s  "
            f"{seconds / figures['copy_out']:.2f}x COPY  peak RSS {peak:.0f} MB  "
            f"({out_csv.stat().st_size / 1e6:.0f} MB)"
        )
        out_xlsx = Path(folder) / "out.xlsx"
        seconds, peak, _ = command("export_file", "orders", str(out_xlsx))
        figures["xlsx"], figures["xlsx_rss"] = seconds, peak
        print(
            f"export_file XLSX:               {seconds:7.1f} s  {args.rows / seconds:,.0f} rows/s  "
            f"peak RSS {peak:.0f} MB  ({out_xlsx.stat().st_size / 1e6:.0f} MB)"
        )
        old = openpyxl_rows_per_second(args.xlsx_sample)
        new = xlsx_writer_rows_per_second(args.xlsx_sample)
        figures["xlsx_ratio"] = new / old
        print(
            f"XLSX writer on {args.xlsx_sample:,} rows:  streamed {new:,.0f} rows/s, openpyxl "
            f"write-only {old:,.0f} rows/s: {new / old:.1f}x faster per row"
        )
        spent, share = progress_share(csv_path, min(args.rows, 200_000))
        figures["progress_share"] = share
        print(f"progress reports: {spent * 1000:.0f} ms, {share:.2%} of a 200k-row check")
    print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
