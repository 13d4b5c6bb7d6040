"""Load: concurrent keep-alive connections against /v1/orders and the admin order changelist,
served by gunicorn with production settings on PostgreSQL, the API called with a bearer token.

    DATABASE_URL=postgres://user:pw@127.0.0.1:5432/db .venv/bin/python bench/load.py \\
        [--duration 60] [--connections 32] [--orders 100000] [--workers 2] [--threads 4]

What it does, in order:

1. migrates the database and tops it up to ``--orders`` orders (``seed_demo``; never deletes);
2. starts the test IdP (tests/idp/server.mjs) and maps a superuser to its subject ``sub-alice``;
   signs a one-hour RS256 access token with the IdP's key (verified by the app against the
   IdP's JWKS, as in production) and opens an admin session for the same user;
3. starts gunicorn with ``gunicorn.conf.py`` and ``backoffice.settings.production`` (JSON logs to
   bench/out/load-gunicorn.log), waits for ``/readyz``;
4. for each target, runs ``--connections`` HTTP/1.1 keep-alive connections for ``--duration``
   seconds from one asyncio loop and prints requests/s, latency percentiles and errors (any
   status other than 200, or a broken connection).

The load generator runs on the same machine and takes CPU from the server: figures are a floor.
The API throttle is raised for the run (one token would otherwise be limited to 1,200/minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import percentiles  # noqa: E402

OUT = ROOT / "bench" / "out"


def _server_env(args: argparse.Namespace, issuer: str) -> dict[str, str]:
    from tests.idp_fixtures import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, API_AUDIENCE, PROVIDER_ID

    return {
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.production",
        "DJANGO_SECRET_KEY": os.environ["DJANGO_SECRET_KEY"],
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "APP_ENVIRONMENT": "staging",
        "OIDC_ISSUER": issuer,
        "OIDC_PROVIDER_ID": PROVIDER_ID,
        "OIDC_CLIENT_ID": ADMIN_CLIENT_ID,
        "OIDC_CLIENT_SECRET": ADMIN_CLIENT_SECRET,
        "OIDC_API_AUDIENCE": API_AUDIENCE,
        "API_THROTTLE_USER_RATE": "1000000/minute",
        "SMS_BACKEND": "console",
        "SMS_ALLOW_CONSOLE_BACKEND": "true",
        "PORT": str(args.port),
        "GUNICORN_WORKERS": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
        "LOG_LEVEL": "INFO",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def prepare(args: argparse.Namespace, issuer: str) -> tuple[str, str, int]:
    """Data, user, token and session, in this process with the server's own settings."""
    os.environ.update(_server_env(args, issuer))
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from allauth.socialaccount.models import SocialAccount
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from apps.orders.models import Order
    from tests.idp_fixtures import PROVIDER_ID

    call_command("migrate", verbosity=0, interactive=False)
    missing = args.orders - Order.objects.count()
    if missing > 0:
        print(f"seeding {missing} orders ...", flush=True)
        call_command("seed_demo", "--orders", str(missing), verbosity=0)
    orders = Order.objects.count()

    user, _ = get_user_model().objects.get_or_create(
        username="bench-load", defaults={"is_staff": True, "is_superuser": True}
    )
    SocialAccount.objects.get_or_create(
        provider=PROVIDER_ID, uid="sub-alice", defaults={"user": user}
    )
    account = SocialAccount.objects.get(provider=PROVIDER_ID, uid="sub-alice")
    if account.user_id != user.pk:
        account.user = user
        account.save(update_fields=["user"])
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return session, settings.SESSION_COOKIE_NAME, orders


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes, bool]:
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunks.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(chunks)
    else:
        body = await reader.read()
    keep_alive = headers.get("connection", "").lower() != "close"
    return status, body, keep_alive


async def _connection(
    port: int, raw: bytes, deadline: float, samples: list[float], errors: dict[str, int]
) -> None:
    reader = writer = None
    while time.monotonic() < deadline:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None  # opened together with writer
            started = time.perf_counter()
            status, _, keep_alive = await _request(reader, writer, raw)
            samples.append((time.perf_counter() - started) * 1000)
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
            if not keep_alive:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


def run_load(port: int, path: str, headers: dict[str, str], connections: int, duration: float):
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "X-Forwarded-Proto: https"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    samples: list[float] = []
    errors: dict[str, int] = {}

    async def main() -> float:
        started = time.monotonic()
        deadline = started + duration
        await asyncio.gather(
            *(_connection(port, raw, deadline, samples, errors) for _ in range(connections))
        )
        return time.monotonic() - started

    elapsed = asyncio.run(main())
    return samples, errors, elapsed


def fetch(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": "127.0.0.1", "X-Forwarded-Proto": "https", **headers},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8788)
    parser.add_argument(
        "--targets", default="api,admin", help="comma-separated: api (/v1/orders), admin"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database (it gets migrated and seeded)")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    OUT.mkdir(parents=True, exist_ok=True)

    from tests.idp_fixtures import TestIdP

    tmp = Path(tempfile.mkdtemp(prefix="load-bench-"))
    idp = TestIdP(tmp).start()
    server = None
    try:
        session, cookie_name, orders = prepare(args, idp.issuer)
        token = idp.sign(sub="sub-alice", exp=int(time.time()) + 3600)
        log_path = OUT / "load-gunicorn.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [
                    str(ROOT / ".venv" / "bin" / "gunicorn"),
                    "--config",
                    "gunicorn.conf.py",
                    "backoffice.wsgi:application",
                ],
                cwd=ROOT,
                env={**os.environ, **_server_env(args, idp.issuer)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while True:
            try:
                if fetch(args.port, "/readyz", {})[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit(f"gunicorn did not become ready; see {log_path}")
            time.sleep(0.5)

        targets = {
            "api": ("/v1/orders", {"Authorization": f"Bearer {token}"}),
            "admin": ("/admin/orders/order/", {"Cookie": f"{cookie_name}={session}"}),
        }
        # One request each first: the right page, not a login form or an error.
        status, body = fetch(args.port, *targets["api"])
        assert status == 200 and "results" in json.loads(body), body[:200]
        status, body = fetch(args.port, *targets["admin"])
        assert status == 200 and b"orders" in body.lower(), body[:200]

        print(
            f"gunicorn {args.workers} workers x {args.threads} threads (gthread), production "
            f"settings, PostgreSQL, {orders} orders; {args.connections} connections, "
            f"{args.duration:.0f} s per target; load generator on the same {os.cpu_count()} CPUs"
        )
        print(
            f"{'target':28} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'p99 ms':>8} {'errors':>7}"
        )
        for name in args.targets.split(","):
            path, headers = targets[name]
            samples, errors, elapsed = run_load(
                args.port, path, headers, args.connections, args.duration
            )
            figures = percentiles(samples)
            label = f"{path} ({'bearer' if name == 'api' else 'session'})"
            print(
                f"{label:28} {len(samples):9d} {len(samples) / elapsed:8.1f} "
                f"{figures['p50']:8.1f} {figures['p95']:8.1f} {figures['p99']:8.1f} "
                f"{sum(errors.values()):7d}" + (f"  {errors}" if errors else ""),
                flush=True,
            )
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
        idp.stop()


if __name__ == "__main__":
    main()
