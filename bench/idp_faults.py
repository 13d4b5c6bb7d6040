"""What IdP faults and garbage tokens cost /v1, against the real test IdP (bench/idp_faults.md).

    .venv/bin/python bench/idp_faults.py [--garbage 1000] [--burst 20]

Starts tests/idp/server.mjs, and a counting proxy in front of it or of nothing (the one the
tests use, tests/idp_fixtures.py). Requests go through Django's full stack in this process, on
``--burst`` threads released together (as gunicorn's gthread workers would run them), with the
default timeouts and back-off of base.py unless overridden. Prints:

- IdP calls made by ``--garbage`` requests with made-up opaque tokens, from one address and
  spread over ten;
- latency of a burst of concurrent requests: IdP healthy (what a burst costs here), IdP hanging
  with no keys yet (first burst, then the next), IdP frozen (SIGSTOP) with keys cached, with keys
  due for a refresh, and for an opaque token not seen yet (first burst, then the next).

Needs node (+ `npm ci`, see the Makefile) and a database of its own: DATABASE_URL, else a
throwaway SQLite file.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

_tmp = tempfile.mkdtemp(prefix="idp-faults-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")
os.environ.setdefault("LOG_LEVEL", "CRITICAL")

from _common import percentiles, setup_django  # noqa: E402

setup_django()

from allauth.socialaccount.models import SocialAccount  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group, Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from tests.accounts.bearer_helpers import Threads  # noqa: E402
from tests.idp_fixtures import PROVIDER_ID, FaultProxy, TestIdP, configure_sso  # noqa: E402


class _Settings:
    """``configure_sso`` expects pytest-django's settings fixture; this writes through instead."""

    def __setattr__(self, name: str, value: object) -> None:
        setattr(settings, name, value)


def get(token: str, **extra: Any) -> Any:
    return Client().get("/v1/customers", HTTP_AUTHORIZATION=f"Bearer {token}", **extra)


def row(label: str, results: list[tuple[float, Any]], calls: int | str) -> None:
    seconds = [s * 1000 for s, _ in results]
    figures = percentiles(seconds)
    statuses = Counter(response.status_code for _, response in results)
    status = " ".join(f"{code}x{count}" for code, count in sorted(statuses.items()))
    print(
        f"{label:52} {figures['p50']:8.0f} {figures['p95']:8.0f} {max(seconds):8.0f}"
        f"  {status:12} {calls}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--garbage", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=20)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench-bob")
    user.is_staff = True
    user.save()
    readers, _ = Group.objects.get_or_create(name="Bench readers")
    readers.permissions.set(Permission.objects.filter(codename="view_customer"))
    user.groups.add(readers)
    SocialAccount.objects.get_or_create(user=user, provider=PROVIDER_ID, uid="sub-bob")

    idp = TestIdP(Path(_tmp)).start()
    threads = Threads(args.burst)
    hanging = FaultProxy(None, mode="hang")
    try:
        threads.connect()
        knobs = [
            ("connect timeout", "OIDC_HTTP_CONNECT_TIMEOUT"),
            ("read timeout", "OIDC_HTTP_TIMEOUT"),
            ("back-off", "OIDC_IDP_FAILURE_BACKOFF_SECONDS"),
            ("unknown tokens per address", "OIDC_UNKNOWN_TOKEN_RATE"),
        ]
        described = ", ".join(
            f"{label} {getattr(settings, name)}" for label, name in knobs if hasattr(settings, name)
        )
        print(f"IdP on this machine; {described}")

        # 1. Garbage tokens.
        print(f"\n{args.garbage} requests with made-up opaque tokens")
        print(f"{'from':20} {'IdP calls':>9} {'401':>6} {'429':>6} {'seconds':>8}")
        for addresses in (1, 10):
            configure_sso(_Settings(), idp.issuer)
            before = idp.request_count()
            statuses: Counter[int] = Counter()
            start = time.monotonic()
            for n in range(args.garbage):
                address = f"192.0.2.{n % addresses + 1}"
                statuses[get(f"garbage-{addresses}-{n}", REMOTE_ADDR=address).status_code] += 1
            elapsed = time.monotonic() - start
            calls = idp.request_count() - before
            label = "one address" if addresses == 1 else f"{addresses} addresses"
            print(f"{label:20} {calls:9d} {statuses[401]:6d} {statuses[429]:6d} {elapsed:8.1f}")

        # 2. Bursts of concurrent requests.
        print(f"\nbursts of {args.burst} concurrent /v1/customers requests (ms)")
        print(f"{'case':52} {'p50':>8} {'p95':>8} {'max':>8}  {'status':12} IdP calls")

        configure_sso(_Settings(), idp.issuer)
        token = idp.sign(sub="sub-bob", exp=int(time.time()) + 3600)
        assert get(token).status_code == 200
        before = idp.request_count()
        row("IdP healthy, keys cached", threads.burst(lambda _: get(token)), 0)
        assert idp.request_count() == before

        configure_sso(_Settings(), hanging.url)
        cold = idp.sign(sub="sub-bob", iss=hanging.url, exp=int(time.time()) + 3600)
        row("IdP hanging, no keys yet: first burst", threads.burst(lambda _: get(cold)), "")
        row("IdP hanging, no keys yet: next burst", threads.burst(lambda _: get(cold)), "")
        print(f"{'':52} {'':>8} {'':>8} {'':>8}  {'':12} {hanging.count()} (both)")

        lifespan = 3
        settings.OIDC_JWKS_CACHE_SECONDS = lifespan
        configure_sso(_Settings(), idp.issuer)
        opaque = idp.pkce_token(login="bob", password="bob-pw", resource=False)["access_token"]
        assert get(token).status_code == 200
        before = idp.request_count()
        idp.pause()
        try:
            frozen_at = time.monotonic()
            row("IdP frozen, keys cached", threads.burst(lambda _: get(token)), "")
            time.sleep(max(0.0, lifespan + 0.2 - (time.monotonic() - frozen_at)))
            row(
                "IdP frozen, keys due for refresh (kept)",
                threads.burst(lambda _: get(token)),
                "",
            )
            row(
                "IdP frozen, opaque token not seen: first burst",
                threads.burst(lambda _: get(opaque)),
                "",
            )
            row(
                "IdP frozen, opaque token not seen: next burst",
                threads.burst(lambda _: get(opaque)),
                "",
            )
        finally:
            idp.resume()
        time.sleep(0.5)
        calls = idp.request_count() - before
        print(f"{'':52} {'':>8} {'':>8} {'':>8}  {'':12} {calls} (all frozen rows)")
    finally:
        threads.close()
        hanging.close()
        idp.stop()


if __name__ == "__main__":
    main()
