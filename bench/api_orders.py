"""GET /v1/orders (first page of 50) against a plain Django floor view, same server, same run.

    su postgres -c "createdb -O custorder custorder_bench_api"
    DATABASE_URL=postgres://custorder:custorder@127.0.0.1:5432/custorder_bench_api \\
        .venv/bin/python bench/api_orders.py [--orders 1000000] [--duration 10] [--rounds 3]

1. migrates the database and tops it up to ``--orders`` orders with
   ``manage.py seed_demo --no-demo --orders N`` (never deletes);
2. opens a session for a user holding only ``orders.view_order`` (session auth: the bearer class
   is tried first and finds no token, as for any browser call);
3. starts gunicorn (the project's gunicorn.conf.py, 2 workers) with ``bench.api_settings``, whose
   URLconf adds the floor views (never mounted in production URLs);
4. runs wrk (Debian package) on each URL with the same session cookie and prints requests/s and
   latency percentiles; any non-2xx answer is counted and reported.

Targets: ``/v1/orders`` (DRF: auth, permissions, throttle, filters, keyset cursor, serializer),
and the same filtered by a status (``?status=confirmed``, a few thousand of a million orders);
``floor`` (same session + permission check, ``.values()`` + orjson, no DRF); ``floor-noauth``
(the query and orjson alone). Goal: the API at >= 60 % of ``floor``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
SETTINGS = "bench.api_settings"

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %.3f, "p50": %.2f, "p95": %.2f, "p99": %.2f, '
    .. '"errors": %d, "non2xx": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, errors, summary.errors.status))
end
"""


def manage(*args: str, env: dict[str, str]) -> str:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def prepare(orders: int, env: dict[str, str]) -> str:
    """Migrate, seed up to ``orders`` rows, return a session key for a view-only user."""
    manage("migrate", "--no-input", "-v", "0", env=env)
    code = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.sessions.backends.db import SessionStore
from django.conf import settings
from apps.orders.models import Order
User = get_user_model()
user, _ = User.objects.get_or_create(username="bench-api")
user.user_permissions.set([Permission.objects.get(codename="view_order")])
session = SessionStore()
session["_auth_user_id"] = str(user.pk)
session["_auth_user_backend"] = "apps.accounts.backends.AccountBackend"
session["_auth_user_hash"] = user.get_session_auth_hash()
session.create()
print("BENCH", Order.objects.count(), session.session_key, settings.SESSION_COOKIE_NAME)
"""
    out = manage("shell", "-v", "0", "-c", code, env=env)
    _, count, key, cookie = next(
        line for line in out.splitlines() if line.startswith("BENCH")
    ).split()
    if int(count) < orders:
        print(f"seeding {orders - int(count):,} orders (have {int(count):,})...", flush=True)
        manage("seed_demo", "--no-demo", "--orders", str(orders - int(count)), env=env)
    return f"{cookie}={key}"


def wait_ready(base: str, cookie: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(f"{base}/v1/orders", headers={"Cookie": cookie})
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not become ready")


def check_same_rows(base: str, cookie: str) -> None:
    """The API and the floor answer the same 50 orders in the same order."""

    def ids(path: str, key: str) -> list[str]:
        request = urllib.request.Request(base + path, headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=10) as response:
            return [str(row[key]) for row in json.load(response)["results"]]

    api, floor = ids("/v1/orders", "id"), ids("/bench/floor/orders", "uuid")
    assert len(api) == 50 and api == floor, "the API and the floor disagree"


def run_wrk(url: str, cookie: str, *, duration: int, connections: int, script: str) -> dict:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            script,
            "-H",
            f"Cookie: {cookie}",
            "-H",
            "Accept: application/json",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
    result = json.loads(line.removeprefix("WRKJSON "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("DATABASE_URL must point at a PostgreSQL bench database")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "LOG_LEVEL": "WARNING"}
    cookie = prepare(args.orders, env)
    base = f"http://127.0.0.1:{args.port}"
    log = open(ROOT / "bench" / "out" / "api_orders-gunicorn.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [
            GUNICORN,
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "backoffice.wsgi:application",
        ],
        cwd=ROOT,
        env={**env, "GUNICORN_MAX_REQUESTS": "0"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_ready(base, cookie)
        check_same_rows(base, cookie)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(WRK_SCRIPT)
        targets = {
            "api /v1/orders": "/v1/orders",
            "api /v1/orders?status=confirmed": "/v1/orders?status=confirmed",
            "floor (session + perm, .values + orjson)": "/bench/floor/orders",
            "floor-noauth (.values + orjson)": "/bench/floor-noauth/orders",
        }
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        for path in targets.values():
            run_wrk(base + path, cookie, duration=3, connections=args.connections, script=f.name)
        # Targets alternate round by round so that load from elsewhere hits them alike;
        # each figure is the median over the rounds.
        for _ in range(args.rounds):
            for name, path in targets.items():
                runs[name].append(
                    run_wrk(
                        base + path,
                        cookie,
                        duration=args.duration,
                        connections=args.connections,
                        script=f.name,
                    )
                )
        results = {
            name: {
                key: statistics.median(r[key] for r in rs) for key in ("rps", "p50", "p95", "p99")
            }
            | {"errors": sum(r["errors"] for r in rs), "all_rps": [r["rps"] for r in rs]}
            for name, rs in runs.items()
        }
        os.unlink(f.name)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()

    print(
        f"\n{args.orders:,} orders, gunicorn {args.workers} workers (gthread), wrk -t2 "
        f"-c{args.connections} -d{args.duration}s x {args.rounds} rounds (medians), "
        "on the same 2-core machine\n"
    )
    print(f"{'target':45} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, r in results.items():
        print(
            f"{name:45} {r['rps']:8.1f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} "
            f"{r['errors']:8d}   rounds: {', '.join(f'{x:.0f}' for x in r['all_rps'])}"
        )
    api = results["api /v1/orders"]["rps"]
    floor = results["floor (session + perm, .values + orjson)"]["rps"]
    noauth = results["floor-noauth (.values + orjson)"]["rps"]
    print(
        f"\nAPI / floor = {api / floor:.0%} (goal >= 60 %); API / floor-noauth = {api / noauth:.0%}"
    )
    if any(r["errors"] for r in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
