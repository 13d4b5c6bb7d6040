"""Order entry while a 1,000,000-order export runs: from the read replica, from the primary, and
with no export at all, same machine, same run.

    su postgres -c "createdb -O custorder custorder_bench_api"
    DATABASE_URL=postgres://custorder:custorder@127.0.0.1:5432/custorder_bench_api \\
        scripts/test-services.sh .venv/bin/python bench/replica_export.py [--orders 1000000]

``scripts/test-services.sh`` makes the streaming replica of the cluster (pg_basebackup) and
passes its address as ``TEST_DATABASE_REPLICA_URL``. The script tops the database up to
``--orders`` orders, starts one gunicorn (the project's gunicorn.conf.py, 2 workers) on the
primary, and ``--clients`` threads that each POST new orders (session auth, one order each)
in a loop, recording every request's latency. Three phases:

1. **replica**: an export job of every order (CSV, the worker's path: ``job_run`` reads inside
   ``replica_reads()``, with ``DATABASE_REPLICA_URL`` set) runs in its own process while the
   writers write; the figures are those of the requests started while the export ran (from
   its job's creation to its end, the process's start-up left out);
2. **none**: the writers alone, as long as the export took;
3. **primary**: the same export without a replica configured.

Printed: each phase's POST latency (p50, p95, p99), requests/s, the export's duration, and the
rows and blocks the primary's queries read during the phase (``pg_stat_database``: the work the
replica takes off the primary). On one machine the 2 cores are shared by PostgreSQL (primary and
replica), gunicorn, the export process and the load generator: the export competes for CPU
wherever it reads, which a replica on its own instance does not.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import percentiles  # noqa: E402
from api_orders import gunicorn, manage, prepare, wait_ready, writer  # noqa: E402

from tests.replicas import free_port  # noqa: E402

EXPORT = """
import time
from apps.orders.resources import ORDER_SHEET
from apps.spreadsheets.jobs.create import job_export_create
from apps.spreadsheets.jobs.run import job_run
from django.db import connections
from django.contrib.auth import get_user_model
owner, _ = get_user_model().objects.get_or_create(
    username="bench-exporter", defaults={"is_staff": True, "is_superuser": True}
)
started = time.time()
job = job_export_create(registration=ORDER_SHEET, arguments={}, file_format="csv", actor=owner)
status = job_run(job.pk)
job.refresh_from_db()
print("EXPORT", status, job.rows_read, started, time.time(), "replica" in connections.settings)
"""


def export(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", EXPORT],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


class Writers:
    """``clients`` threads POSTing orders until stopped; latencies in ms."""

    def __init__(self, base: str, cookie: str, csrf: str, body: str, clients: int) -> None:
        self.base, self.cookie, self.csrf, self.body = base, cookie, csrf, body
        self.clients = clients
        self.samples: list[tuple[float, float]] = []  # (wall-clock start, latency ms)
        self.errors = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        session = requests.Session()
        session.headers.update(
            {
                "Cookie": self.cookie,
                "X-CSRFToken": self.csrf,
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
        )
        while not self.stopping.is_set():
            wall, started = time.time(), time.perf_counter()
            response = session.post(f"{self.base}/v1/orders", data=self.body, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            with self.lock:
                if response.status_code == 201:
                    self.samples.append((wall, elapsed))
                else:
                    self.errors += 1

    def run_until(self, until) -> list[tuple[float, float]]:
        """Run the writers until ``until()`` returns; every (start, latency) of the run."""
        self.samples, self.errors = [], 0
        self.stopping.clear()
        threads = [threading.Thread(target=self.run) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        until()
        self.stopping.set()
        for thread in threads:
            thread.join()
        return self.samples


def primary_reads(database: str) -> tuple[int, int]:
    """Rows returned and blocks touched so far by queries on the primary's bench database."""
    import psycopg2

    time.sleep(1.5)  # PostgreSQL publishes a backend's counters within a second
    with psycopg2.connect(database) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT tup_returned, blks_hit + blks_read FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        rows, blocks = cursor.fetchone()
    conn.close()
    return int(rows), int(blocks)


def figures(samples: list[tuple[float, float]], start: float, end: float) -> dict:
    """The requests started between ``start`` and ``end`` (wall clock)."""
    latencies = [ms for at, ms in samples if start <= at <= end]
    return percentiles(latencies) | {
        "requests": len(latencies),
        "rps": len(latencies) / (end - start),
        "seconds": end - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    database = os.environ.get("DATABASE_URL", "")
    replica = os.environ.get("TEST_DATABASE_REPLICA_URL", "")
    if not database.startswith("postgres") or not replica:
        raise SystemExit(
            "run with DATABASE_URL=postgres://… under scripts/test-services.sh (the replica)"
        )
    replica_url = replica.rstrip("/") + urlsplit(database).path
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.api_settings",
        "LOG_LEVEL": "WARNING",
        "TEST_REDIS_URL": "",
    }
    print(f"topping up to {args.orders:,} orders...", flush=True)
    prepare(args.orders, env)
    manage("shell", "-v", "0", "-c", "print(1)", env=env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cookie, csrf, body = writer(env)
    server = gunicorn(ROOT, port, args.workers, env, "replica_export-gunicorn.log")
    writers = Writers(base, cookie, csrf, body, args.clients)
    results: dict[str, dict] = {}
    try:
        wait_ready(base, cookie)
        writers.run_until(lambda: time.sleep(5))  # warm-up
        for phase, export_env in (
            ("replica", {**env, "DATABASE_REPLICA_URL": replica_url}),
            ("none", None),
            ("primary", {**env, "DATABASE_REPLICA_URL": ""}),
        ):
            rows_before, blocks_before = primary_reads(database)
            if export_env is None:
                length = results["replica"]["export_seconds"]
                start = time.time()
                samples = writers.run_until(lambda length=length: time.sleep(length + 1))
                results[phase] = figures(samples, start + 0.5, start + 0.5 + length)
            else:
                process = export(export_env)
                outcome: list[str] = []

                def wait(process=process, outcome=outcome) -> None:
                    out, _ = process.communicate()
                    outcome.append(out)

                samples = writers.run_until(wait)
                found = [line for line in outcome[0].splitlines() if line.startswith("EXPORT")]
                if not found:
                    raise SystemExit(f"the export failed:\n{outcome[0][-3000:]}")
                _, status, rows, start_at, end_at, used_replica = found[0].split()
                assert status == "succeeded", outcome[0]
                assert used_replica == str(phase == "replica"), found[0]
                start, end = float(start_at), float(end_at)
                results[phase] = figures(samples, start, end) | {
                    "export_seconds": end - start,
                    "export_rows": int(rows),
                }
            results[phase]["errors"] = writers.errors
            rows_after, blocks_after = primary_reads(database)
            results[phase]["primary_rows"] = rows_after - rows_before
            results[phase]["primary_blocks"] = blocks_after - blocks_before
            print(json.dumps({phase: results[phase]}), flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    print(
        f"\n{args.clients} clients POSTing orders to one gunicorn ({args.workers} workers), "
        f"export of {results['replica']['export_rows']:,} orders (CSV job), 2 cores shared\n"
    )
    print(
        f"{'export':10} {'export s':>9} {'POST/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'rows read on primary':>21} {'blocks':>10}"
    )
    for phase in ("none", "replica", "primary"):
        r = results[phase]
        print(
            f"{phase:10} {r.get('export_seconds', 0):9.1f} {r['rps']:8.1f} {r['p50']:8.1f} "
            f"{r['p95']:8.1f} {r['p99']:8.1f} {r['primary_rows']:21,} {r['primary_blocks']:10,}"
        )
    base_p95 = results["none"]["p95"]
    for phase in ("replica", "primary"):
        print(f"p95 with the export from the {phase}: {results[phase]['p95'] / base_p95:.2f}x")
    if any(r["errors"] for r in results.values()):
        raise SystemExit("some POSTs failed")


if __name__ == "__main__":
    main()
