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

``--baseline DIR`` adds ``GET /v1/orders`` served by another checkout of the code (e.g.
``git archive <commit> | tar -x -C DIR``), from a second gunicorn on the next port and the same
database, alternated with the others: a same-run check that a change left the list's speed as
it was.

``--writes`` then measures ``POST /v1/orders`` (a new order, its SMS queued) for a user holding
``orders.add_order``, without and with an ``Idempotency-Key`` (a new key per request), the two
alternated round by round. Goal: the key costs < 15 % of the throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
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

WRK_DONE = """
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
WRK_SCRIPT = WRK_DONE

# POST /v1/orders with a JSON body; with ``use_key`` each request carries a new Idempotency-Key
# (run id, wrk thread, counter).
WRK_POST = """
wrk.method = "POST"
wrk.body = '%(body)s'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-CSRFToken"] = "%(csrf)s"
local use_key = %(use_key)s
-- Keys must not repeat across wrk runs of the same script (a repeat is a cheap replay).
local nonce = string.format("%%d-%%d", os.time(), math.floor(os.clock() * 1e6))
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", string.format("%%s-%%d", nonce, threads))
end
local counter = 0
request = function()
  if not use_key then
    return wrk.format()
  end
  counter = counter + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Idempotency-Key"] = string.format("%(run)s-%%s-%%d", tid, counter)
  return wrk.format(nil, nil, headers, nil)
end
"""


def manage(*args: str, env: dict[str, str]) -> str:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


SESSION_CODE = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.sessions.backends.db import SessionStore
from django.conf import settings
from apps.orders.models import Order
User = get_user_model()
user, _ = User.objects.get_or_create(username="%(username)s")
user.is_staff = True  # the back office serves active staff only (apps/accounts/access.py)
user.save()
user.user_permissions.set(
    [Permission.objects.get(content_type__app_label="orders", codename=c) for c in %(perms)r]
)
session = SessionStore()
session["_auth_user_id"] = str(user.pk)
session["_auth_user_backend"] = "apps.accounts.backends.AccountBackend"
session["_auth_user_hash"] = user.get_session_auth_hash()
session.create()
print("BENCH", Order.objects.count(), session.session_key, settings.SESSION_COOKIE_NAME,
      settings.CSRF_COOKIE_NAME)
"""


def session(env: dict[str, str], *, username: str, perms: list[str]) -> list[str]:
    """``[order count, session key, session cookie name, CSRF cookie name]``."""
    out = manage(
        "shell", "-v", "0", "-c", SESSION_CODE % {"username": username, "perms": perms}, env=env
    )
    return next(line for line in out.splitlines() if line.startswith("BENCH")).split()[1:]


def prepare(orders: int, env: dict[str, str]) -> str:
    """Migrate, seed up to ``orders`` rows, return a session cookie for a view-only user."""
    manage("migrate", "--no-input", "-v", "0", env=env)
    count, key, cookie, _ = session(env, username="bench-api", perms=["view_order"])
    if int(count) < orders:
        print(f"seeding {orders - int(count):,} orders (have {int(count):,})...", flush=True)
        manage("seed_demo", "--no-demo", "--orders", str(orders - int(count)), env=env)
    return f"{cookie}={key}"


def key_count(env: dict[str, str], run: str) -> int:
    code = (
        "from apps.api_toolkit.models import IdempotencyKey; "
        f"print('COUNT', IdempotencyKey.objects.filter(key__startswith='{run}-').count())"
    )
    out = manage("shell", "-v", "0", "-c", code, env=env)
    return int(next(line for line in out.splitlines() if line.startswith("COUNT")).split()[1])


def order_count(env: dict[str, str]) -> int:
    code = "from apps.orders.models import Order; print('COUNT', Order.objects.count())"
    out = manage("shell", "-v", "0", "-c", code, env=env)
    return int(next(line for line in out.splitlines() if line.startswith("COUNT")).split()[1])


def writer(env: dict[str, str]) -> tuple[str, str, str]:
    """A session cookie (with a CSRF cookie), its CSRF token and an order body for POSTs."""
    _, key, cookie, csrf_cookie = session(
        env, username="bench-api-writer", perms=["view_order", "add_order"]
    )
    code = (
        "from apps.customers.models import Customer; from apps.items.models import Item; "
        "print('BODY', Customer.objects.order_by('pk').first().uuid, "
        "Item.objects.order_by('pk').first().uuid)"
    )
    out = manage("shell", "-v", "0", "-c", code, env=env)
    _, customer, item = next(line for line in out.splitlines() if line.startswith("BODY")).split()
    csrf = secrets.token_hex(16)  # 32 characters, as Django's own CSRF secrets
    body = json.dumps({"customer": customer, "item": item, "quantity": 1})
    return f"{cookie}={key}; {csrf_cookie}={csrf}", csrf, body


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
    line = next((line for line in out.splitlines() if line.startswith("WRKJSON ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no figures for {url}:\n{out}")
    result = json.loads(line.removeprefix("WRKJSON "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def gunicorn(
    code: Path, port: int, workers: int, env: dict[str, str], log_name: str
) -> subprocess.Popen:
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    log = open(out / log_name, "w")  # noqa: SIM115
    return subprocess.Popen(
        [
            GUNICORN,
            "-c",
            str(code / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "backoffice.wsgi:application",
        ],
        cwd=code,
        env={**env, "GUNICORN_MAX_REQUESTS": "0", "PYTHONPATH": str(code)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def measure(
    targets: dict[str, tuple[str, str, str]], *, args: argparse.Namespace
) -> dict[str, dict]:
    """Each target ``name: (url, cookie, wrk script)``: a 3 s warm-up, then ``--rounds``
    rounds alternating the targets so that load from elsewhere hits them alike; medians."""
    runs: dict[str, list[dict]] = {name: [] for name in targets}
    warmups = {
        name: run_wrk(url, cookie, duration=3, connections=args.connections, script=script)
        for name, (url, cookie, script) in targets.items()
    }
    for _ in range(args.rounds):
        for name, (url, cookie, script) in targets.items():
            runs[name].append(
                run_wrk(
                    url, cookie, duration=args.duration, connections=args.connections, script=script
                )
            )
    return {
        name: {key: statistics.median(r[key] for r in rs) for key in ("rps", "p50", "p95", "p99")}
        | {
            "errors": sum(r["errors"] for r in rs),
            "all_rps": [r["rps"] for r in rs],
            "requests": warmups[name]["requests"] + sum(r["requests"] for r in rs),
        }
        for name, rs in runs.items()
    }


def report(results: dict[str, dict]) -> None:
    print(f"{'target':45} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, r in results.items():
        print(
            f"{name:45} {r['rps']:8.1f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} "
            f"{r['errors']:8d}   rounds: {', '.join(f'{x:.0f}' for x in r['all_rps'])}"
        )


def script_file(text: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(text)
    return f.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another checkout to compare GETs with")
    parser.add_argument("--writes", action="store_true", help="also measure POST /v1/orders")
    parser.add_argument("--no-reads", action="store_true", help="skip the GET targets")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("DATABASE_URL must point at a PostgreSQL bench database")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "LOG_LEVEL": "WARNING"}
    cookie = prepare(args.orders, env)
    base = f"http://127.0.0.1:{args.port}"
    servers = [gunicorn(ROOT, args.port, args.workers, env, "api_orders-gunicorn.log")]
    baseline = f"http://127.0.0.1:{args.port + 1}"
    if args.baseline:
        servers.append(
            gunicorn(
                args.baseline.resolve(), args.port + 1, args.workers, env, "api_orders-baseline.log"
            )
        )
    scripts: list[str] = []
    reads: dict[str, dict] = {}
    writes: dict[str, dict] = {}
    try:
        wait_ready(base, cookie)
        check_same_rows(base, cookie)
        get = script_file(WRK_SCRIPT)
        scripts.append(get)
        if not args.no_reads:
            targets = {
                "api /v1/orders": (base + "/v1/orders", cookie, get),
                "api /v1/orders?status=confirmed": (
                    base + "/v1/orders?status=confirmed",
                    cookie,
                    get,
                ),
                "floor (session + perm, .values + orjson)": (
                    base + "/bench/floor/orders",
                    cookie,
                    get,
                ),
                "floor-noauth (.values + orjson)": (
                    base + "/bench/floor-noauth/orders",
                    cookie,
                    get,
                ),
            }
            if args.baseline:
                wait_ready(baseline, cookie)
                targets["baseline api /v1/orders"] = (baseline + "/v1/orders", cookie, get)
            reads = measure(targets, args=args)
            print(json.dumps(reads), flush=True)
        if args.writes:
            write_cookie, csrf, body = writer(env)
            run = secrets.token_hex(4)
            plain, keyed = (
                script_file(
                    WRK_POST % {"body": body, "csrf": csrf, "use_key": use_key, "run": run}
                    + WRK_DONE
                )
                for use_key in ("false", "true")
            )
            scripts += [plain, keyed]
            before = order_count(env)
            writes = measure(
                {
                    "POST /v1/orders": (base + "/v1/orders", write_cookie, plain),
                    "POST /v1/orders + Idempotency-Key": (base + "/v1/orders", write_cookie, keyed),
                },
                args=args,
            )
            print(json.dumps(writes), flush=True)
            created = order_count(env) - before
            keys = key_count(env, run)
            keyed_sent = writes["POST /v1/orders + Idempotency-Key"]["requests"]
            print(
                f"orders created: {created:,}; keys stored: {keys:,} for {keyed_sent:,} keyed POSTs"
            )
            if keys < keyed_sent:
                raise SystemExit("some keyed POSTs were replays: the keys repeated")
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        for name in scripts:
            os.unlink(name)

    print(
        f"\n{args.orders:,} orders, gunicorn {args.workers} workers (gthread), wrk -t2 "
        f"-c{args.connections} -d{args.duration}s x {args.rounds} rounds (medians), "
        "on the same 2-core machine\n"
    )
    if reads:
        report(reads)
        api = reads["api /v1/orders"]["rps"]
        floor = reads["floor (session + perm, .values + orjson)"]["rps"]
        noauth = reads["floor-noauth (.values + orjson)"]["rps"]
        print(
            f"\nAPI / floor = {api / floor:.0%} (goal >= 60 %); "
            f"API / floor-noauth = {api / noauth:.0%}"
        )
        if args.baseline:
            print(f"API / baseline API = {api / reads['baseline api /v1/orders']['rps']:.0%}")
    if writes:
        print()
        report(writes)
        plain_rps = writes["POST /v1/orders"]["rps"]
        keyed_rps = writes["POST /v1/orders + Idempotency-Key"]["rps"]
        print(
            f"\nIdempotency-Key cost: {1 - keyed_rps / plain_rps:.1%} of POST throughput "
            "(goal < 15 %)"
        )
    if any(r["errors"] for r in (*reads.values(), *writes.values())):
        sys.exit(1)


if __name__ == "__main__":
    main()
