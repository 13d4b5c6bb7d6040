"""Number of 5xx over the whole hostile request corpus, against a real server (goal: 0).

1. prepares a database (a fresh SQLite file by default, or ``--database-url``): migrations, one
   order with its SMS, a staff member with every domain permission, a viewer and a superuser,
   signed in (session cookies and a CSRF token, as a browser or the browsable API holds them);
   and the static files' manifest that production settings serve from (``collectstatic`` into
   the ignored ``staticfiles/``, as the image build does);
2. starts gunicorn with ``gunicorn.conf.py`` and production settings (JSON logs to
   ``bench/out/hostile-gunicorn-*.log``), one server per set of settings the corpus asks for;
3. sends every request of ``tests/hostile/request_corpus.py`` over HTTP and checks that nothing
   was written;
4. fuzzes every /v1 operation with schemathesis (its positive and negative generation modes:
   valid and schema-violating parameters and bodies), signed in.

It prints the statuses seen, every 5xx with the request that caused it, and the total.

    .venv/bin/python bench/hostile_requests.py                   # SQLite file, 60 fuzz cases/op
    .venv/bin/python bench/hostile_requests.py --examples 200 --database-url postgres://…
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DELIVERY_SECRET = "bench-" + secrets.token_urlsafe(24)


def server_env(args: argparse.Namespace, database_url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.production",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "APP_ENVIRONMENT": "staging",
        "SMS_BACKEND": "console",
        "SMS_ALLOW_CONSOLE_BACKEND": "true",
        "SMS_DELIVERY_REPORT_SECRET": DELIVERY_SECRET,
        "API_THROTTLE_USER_RATE": "1000000/minute",
        "PORT": str(args.port),
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "4",
        "LOG_LEVEL": "INFO",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def prepare(database_url: str) -> dict[str, Any]:
    """Data and signed-in sessions, in this process, with the server's own settings."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Permission, User
    from django.core.management import call_command
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    from apps.orders.models import Order
    from tests.conftest import ALL_DOMAIN_PERMS
    from tests.factories import OrderFactory, UserFactory
    from tests.sms_helpers import sms_confirmation_queue

    call_command("migrate", verbosity=0, interactive=False)
    # Production settings serve hashed static files from a manifest (the image builds it).
    call_command("collectstatic", verbosity=0, interactive=False)
    order = cast(Order, OrderFactory())
    sms_confirmation_queue(order=order)
    api_user = cast(User, UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS))
    api_user.user_permissions.add(Permission.objects.get(codename="resend_sms"))
    view_perms = [p for p in ALL_DOMAIN_PERMS if ".view_" in p]
    users = {
        "api": api_user,
        "viewer": cast(User, UserFactory(is_staff=True, perms=view_perms)),
        "admin": cast(User, UserFactory(is_staff=True, is_superuser=True)),
    }
    csrf = _get_new_csrf_string()
    cookies = {}
    for who, user in users.items():
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        cookies[who] = (
            f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}"
        )
    return {"order": order, "cookies": cookies, "csrf": csrf}


def start_server(args: argparse.Namespace, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "--config",
                "gunicorn.conf.py",
                "backoffice.wsgi:application",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while True:
        try:
            status, _, _, _ = send(args.port, "GET", "/readyz", {}, None)
            if status == 200:
                return server
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.terminate()
            sys.exit(f"gunicorn did not become ready; see {log_path}")
        time.sleep(0.5)


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        server.wait(timeout=30)


def send(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None
) -> tuple[int, bytes, str, dict[str, str]]:
    """One request on its own connection: status, body, ``Location`` and the cookies set."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        cookies = SimpleCookie()
        for value in response.headers.get_all("Set-Cookie") or []:
            cookies.load(value)
        return (
            response.status,
            response.read(),
            response.getheader("Location", "/"),
            {name: morsel.value for name, morsel in cookies.items()},
        )
    finally:
        connection.close()


def _headers(world: dict[str, Any], who: str, extra: dict[str, str]) -> dict[str, str]:
    headers = {
        "Host": "127.0.0.1",
        "X-Forwarded-Proto": "https",  # as the load balancer says; else a redirect to https
        "Origin": "https://127.0.0.1",
        "X-CSRFToken": world["csrf"],
    }
    if who in world["cookies"]:
        headers["Cookie"] = world["cookies"][who]
    # A header value as the client's UTF-8 bytes (http.client writes str headers as latin-1).
    headers.update({k: v.encode("utf-8").decode("latin-1") for k, v in extra.items()})
    return headers


def run_corpus(port: int, cases: list, world: dict[str, Any]) -> list[dict[str, Any]]:
    from tests.hostile.request_corpus import database_state

    results = []
    for _ in range(8):  # warm every worker thread up: the first request loads the URLconf
        send(port, "GET", "/v1/items", _headers(world, "api", {}), None)
        send(port, "GET", "/admin/", _headers(world, "admin", {}), None)
    for case in cases:
        path = case.path.replace("{order}", str(world["order"].uuid)).replace(
            "{secret}", DELIVERY_SECRET
        )
        body = (
            case.body.replace(b"{order}", str(world["order"].uuid).encode()) if case.body else None
        )
        headers = _headers(world, case.who, dict(case.headers))
        if case.content_type:
            headers["Content-Type"] = case.content_type
        before = database_state()
        started = time.perf_counter()
        status, content, location, set_cookies = send(port, case.method, path, headers, body)
        hops = 0
        while case.follow and status in (301, 302, 303) and hops < 5:
            get = _headers(world, case.who, {})
            # The admin's message travels in a cookie set on the redirect.
            extra = "; ".join(f"{name}={value}" for name, value in set_cookies.items())
            get["Cookie"] = "; ".join(c for c in (get.get("Cookie", ""), extra) if c)
            status, content, location, set_cookies = send(port, "GET", location, get, None)
            hops += 1
        results.append(
            {
                "name": case.name,
                "status": status,
                "expected": case.statuses,
                "says": case.says in content.decode("utf-8", "replace"),
                "written": database_state() != before,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
        )
    return results


def run_fuzz(port: int, world: dict[str, Any], examples: int) -> tuple[Counter, list[str], int]:
    import requests
    import schemathesis
    from drf_spectacular.generators import SchemaGenerator
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hypothesis_settings
    from schemathesis import GenerationMode
    from schemathesis.core.result import Ok  # the type get_all_operations() yields

    schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    headers = _headers(world, "api", {})
    cookie_header = headers.pop("Cookie")
    cookies = dict(part.split("=", 1) for part in cookie_header.split("; "))
    statuses: Counter = Counter()
    failures: list[str] = []
    total = 0
    ids = {
        "customers": str(world["order"].customer.uuid),
        "items": str(world["order"].item.uuid),
        "orders": str(world["order"].uuid),
    }
    session = requests.Session()

    def draw(operation: Any, mode: GenerationMode) -> list[Any]:
        drawn: list[Any] = []

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def collect(case: Any) -> None:
            drawn.append(case)

        collect()
        return drawn

    for result in schema.get_all_operations():
        if not isinstance(result, Ok):  # an operation schemathesis cannot read: none here
            print(f"  schema error: {result.err()}")
            continue
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                drawn = draw(operation, mode)
            except Exception as exc:  # a strategy schemathesis cannot build (rare)
                print(f"  could not generate {operation.label} ({mode.value}): {exc}")
                continue
            for index, case in enumerate(drawn):
                if case.path_parameters and index % 2 == 0:
                    case.path_parameters["id"] = ids[operation.path.split("/")[2]]
                (case.headers or {}).pop("Authorization", None)
                try:
                    response = case.call(
                        base_url=f"http://127.0.0.1:{port}",
                        headers={**(case.headers or {}), **headers},
                        cookies=cookies,
                        session=session,
                        timeout=60,
                    )
                    status = response.status_code
                except requests.RequestException as exc:
                    status = 0
                    failures.append(f"{operation.label}: {type(exc).__name__}")
                total += 1
                statuses[status] += 1
                if status >= 500:
                    failures.append(
                        f"{status} {case.method} {case.formatted_path} query={case.query} "
                        f"body={str(case.body)[:200]}"
                    )
    return statuses, failures, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument(
        "--examples", type=int, default=60, help="fuzz cases per operation and mode"
    )
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="hostile-bench-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'hostile.sqlite3'}"
    env = server_env(args, database_url)
    os.environ.update(env)
    os.environ["LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(ROOT))
    world = prepare(database_url)

    from tests.hostile.request_corpus import CORPUS

    groups: dict[tuple, list] = {}
    for case in CORPUS:
        groups.setdefault(tuple(sorted(case.settings.items())), []).append(case)
    corpus_results: list[dict[str, Any]] = []
    fuzz: tuple[Counter, list[str], int] = (Counter(), [], 0)
    for index, (group, cases) in enumerate(groups.items()):
        server = start_server(args, {**env, **dict(group)}, OUT / f"hostile-gunicorn-{index}.log")
        try:
            corpus_results += run_corpus(args.port, cases, world)
            if not group:
                fuzz = run_fuzz(args.port, world, args.examples)
        finally:
            stop_server(server)

    database = "SQLite file" if database_url.startswith("sqlite") else "PostgreSQL"
    print(
        f"gunicorn 2 workers x 4 threads, production settings, {database}; "
        f"{len(CORPUS)} corpus requests, {fuzz[2]} fuzz requests"
    )
    corpus_5xx = [r for r in corpus_results if r["status"] >= 500]
    mismatched = [r for r in corpus_results if r["status"] not in r["expected"] or not r["says"]]
    written = [r for r in corpus_results if r["written"]]
    slowest = max(corpus_results, key=lambda r: r["ms"])
    print(
        "corpus: statuses "
        + json.dumps(dict(sorted(Counter(r["status"] for r in corpus_results).items())))
        + f"; 5xx {len(corpus_5xx)}; not as expected {len(mismatched)}; wrote something "
        f"{len(written)}; slowest {slowest['name']} {slowest['ms']} ms"
    )
    for r in corpus_5xx + mismatched + written:
        print(f"  {r['name']}: {r['status']} (expected {r['expected']}, message found {r['says']})")
    statuses, failures, total = fuzz
    fuzz_5xx = sum(count for status, count in statuses.items() if status >= 500)
    print(f"fuzz: statuses {json.dumps(dict(sorted(statuses.items())))}; 5xx {fuzz_5xx}")
    for failure in failures[:20]:
        print(f"  {failure}")
    total_5xx = len(corpus_5xx) + fuzz_5xx
    print(f"5xx over the whole corpus: {total_5xx} of {len(corpus_results) + total} requests")


if __name__ == "__main__":
    main()
