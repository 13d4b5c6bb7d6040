"""The shared cache: what it costs GET /v1/orders, and how exactly the throttle holds across two
replicas with it (and without it), same machine, same run.

    su postgres -c "createdb -O custorder custorder_bench_api"
    DATABASE_URL=postgres://custorder:custorder@127.0.0.1:5432/custorder_bench_api \\
        .venv/bin/python bench/shared_cache.py [--orders 1000000] [--windows 2]

Starts its own redis-server (Debian package) on a free port, then:

1. **Cost**: two gunicorns (``bench.api_settings``, 2 workers each) on the same database, one
   with ``CACHE_URL`` at the Redis (every request counts in the throttle's Redis window), one
   with local memory; wrk on ``GET /v1/orders`` alternated round by round (bench/api_orders.py's
   helpers). Goal: Redis costs under 10 % of the requests per second.
2. **Throttle accuracy**: two replicas (tests/replicas.py: 2 gunicorns x 2 workers, the
   deployed settings) with ``API_THROTTLE_USER_RATE=--rate``; one wrk per replica, same user,
   started on a minute boundary and run ``--windows`` whole minutes. Allowed requests (2xx) are
   compared with ``rate x windows``: with Redis, and again with local memory (each of the four
   gunicorn processes then counts alone).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api_orders import (  # noqa: E402
    WRK_DONE,
    gunicorn,
    measure,
    prepare,
    report,
    run_wrk,
    script_file,
    session,
    wait_ready,
)

from tests.replicas import Replicas, free_port  # noqa: E402

# A GET with the headers run_wrk gives (session cookie, Accept); a request() that passed its
# own headers would drop them.
WRK_GET = WRK_DONE


def start_redis() -> tuple[subprocess.Popen, str, str]:
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is missing: apt-get install -y redis-server")
    folder = tempfile.mkdtemp(prefix="custorder-bench-redis-")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", folder],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    time.sleep(0.5)
    return process, f"redis://127.0.0.1:{port}/0", folder


def cost(args: argparse.Namespace, env: dict[str, str], cookie: str, redis_url: str) -> dict:
    ports = [free_port(), free_port()]
    servers = [
        gunicorn(ROOT, ports[0], args.workers, {**env, "CACHE_URL": redis_url}, "cache-redis.log"),
        gunicorn(ROOT, ports[1], args.workers, {**env, "CACHE_URL": ""}, "cache-local.log"),
    ]
    script = script_file(WRK_GET)
    try:
        for port in ports:
            wait_ready(f"http://127.0.0.1:{port}", cookie)
        return measure(
            {
                "GET /v1/orders, throttle in Redis": (
                    f"http://127.0.0.1:{ports[0]}/v1/orders", cookie, script
                ),
                "GET /v1/orders, throttle in local memory": (
                    f"http://127.0.0.1:{ports[1]}/v1/orders", cookie, script
                ),
            },
            args=args,
        )  # fmt: skip
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        os.unlink(script)


def accuracy(args: argparse.Namespace, cache_url: str) -> dict:
    """Allowed requests over ``--windows`` whole minutes from two replicas, one user."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.replica_settings",
        "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
        "CACHE_URL": cache_url,
        "API_THROTTLE_USER_RATE": f"{args.rate}/minute",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_MAX_REQUESTS": "0",
        "DATABASE_CONN_MAX_AGE": "60",
    }
    _, key, cookie_name, _ = session(env, username="bench-throttle", perms=["view_order"])
    cookie = f"{cookie_name}={key}"
    replicas = Replicas(env, web=2, web_workers=2, workers=0)
    script = script_file(WRK_GET)
    results: list[dict] = [{}, {}]
    try:
        replicas.start()
        into = time.time() % 60
        time.sleep(60 - into + 0.05)  # start on a window's first moment

        def one(n: int) -> None:
            results[n] = run_wrk(
                f"{replicas.urls[n]}/v1/orders",
                cookie,
                duration=60 * args.windows - 1,
                connections=4,
                script=script,
            )

        threads = [threading.Thread(target=one, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        replicas.stop()
        os.unlink(script)
    allowed = sum(r["requests"] - r["non2xx"] for r in results)
    sent = sum(r["requests"] for r in results)
    return {"allowed": allowed, "sent": sent, "expected": args.rate * args.windows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=int, default=600, help="throttle, requests a minute")
    parser.add_argument("--windows", type=int, default=2, help="whole minutes of throttle run")
    parser.add_argument("--only", choices=["cost", "accuracy"], help="one of the two parts")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("DATABASE_URL must point at a PostgreSQL bench database")
    redis, redis_url, folder = start_redis()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.api_settings",
        "LOG_LEVEL": "WARNING",
        "TEST_REDIS_URL": "",
    }
    costs: dict = {}
    shared: dict = {}
    local: dict = {}
    try:
        cookie = prepare(args.orders, env)
        if args.only != "accuracy":
            costs = cost(args, env, cookie, redis_url)
            print(json.dumps(costs), flush=True)
        if args.only != "cost":
            shared = accuracy(args, redis_url)
            print(json.dumps({"redis": shared}), flush=True)
            local = accuracy(args, "")
            print(json.dumps({"local": local}), flush=True)
    finally:
        os.killpg(redis.pid, signal.SIGTERM)
        redis.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)

    if costs:
        print(
            f"\n{args.orders:,} orders; gunicorn {args.workers} workers (gthread) per server; "
            f"wrk -t2 -c{args.connections} -d{args.duration}s x {args.rounds} rounds (medians)\n"
        )
        report(costs)
        in_redis = costs["GET /v1/orders, throttle in Redis"]["rps"]
        in_memory = costs["GET /v1/orders, throttle in local memory"]["rps"]
        print(f"\nshared cache cost: {1 - in_redis / in_memory:.1%} of requests/s (goal < 10 %)")
    if not shared:
        return
    print(
        f"\nthrottle {args.rate}/minute, one user, two replicas x 2 workers, "
        f"{args.windows} whole minutes:"
    )
    for name, figures in (("Redis", shared), ("local memory", local)):
        print(
            f"  {name:13} allowed {figures['allowed']:6,} of {figures['sent']:7,} sent; "
            f"expected {figures['expected']:,} -> {figures['allowed'] / figures['expected']:.3f}x"
        )


if __name__ == "__main__":
    main()
