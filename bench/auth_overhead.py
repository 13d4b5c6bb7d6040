"""Authentication overhead of one /v1 request: the bearer class alone, against the test IdP.

    .venv/bin/python bench/auth_overhead.py [--repeat 2000] [--cold-repeat 200]

Times ``OIDCBearerAuthentication.authenticate()`` on a ready-made request (header parsing, token
verification, the user lookup query), i.e. what bearer auth adds to a request:

- JWT access token, RS256 and ES256, keys already cached (the steady state);
- the same with a groups claim, already synced (the claims are compared, nothing is written);
- JWT with cold caches (discovery + JWKS downloaded: the first request of a process);
- opaque token, userinfo answer cached (warm) and not cached (cold: one userinfo call).

Starts tests/idp/server.mjs (node + `npm ci` needed) and uses a throwaway SQLite database unless
DATABASE_URL is set. The IdP runs on the same machine, so "cold" has no network latency in it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

_tmp = tempfile.mkdtemp(prefix="auth-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from _common import percentiles, setup_django  # noqa: E402

setup_django()

from allauth.socialaccount.models import SocialAccount  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from rest_framework.request import Request  # noqa: E402

from apps.accounts.authentication import OIDCBearerAuthentication  # noqa: E402
from apps.accounts.identity_provider import identity_providers  # noqa: E402
from apps.accounts.unknown_tokens import userinfo_cache_key  # noqa: E402
from tests.idp_fixtures import PROVIDER_ID, TestIdP, configure_sso  # noqa: E402


class _Settings:
    """``configure_sso`` expects pytest-django's settings fixture; this writes through instead."""

    def __setattr__(self, name: str, value: object) -> None:
        setattr(settings, name, value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--cold-repeat", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    idp = TestIdP(Path(_tmp)).start()
    try:
        configure_sso(_Settings(), idp.issuer)
        # The cold userinfo case asks about the same token over and over from one address.
        settings.OIDC_UNKNOWN_TOKEN_RATE = "1000000/minute"
        from django.contrib.auth import get_user_model

        user, _ = get_user_model().objects.get_or_create(username="bench-bob")
        user.is_staff = True  # the API serves staff only
        user.save()
        SocialAccount.objects.get_or_create(user=user, provider=PROVIDER_ID, uid="sub-bob")

        auth = OIDCBearerAuthentication()
        factory = RequestFactory()

        def request_with(token: str) -> Request:
            return Request(factory.get("/v1/orders", HTTP_AUTHORIZATION=f"Bearer {token}"))

        rs256 = idp.sign(sub="sub-bob", exp=int(time.time()) + 3600)
        ec_key = next(k for k in idp.keys if k.alg == "ES256")
        es256 = idp.sign(sub="sub-bob", key=ec_key, exp=int(time.time()) + 3600)
        opaque = idp.pkce_token(login="bob", password="bob-pw", resource=False)["access_token"]
        grouped = idp.sign(
            sub="sub-bob", groups=["co-staff", "co-operations"], exp=int(time.time()) + 3600
        )
        key = userinfo_cache_key(opaque)
        providers = identity_providers()
        # (label, token, reset before each call, calls per round)
        cases = [
            ("JWT RS256, keys cached", rs256, None, args.repeat),
            ("JWT ES256, keys cached", es256, None, args.repeat),
            ("JWT RS256 + groups claim, synced", grouped, None, args.repeat),
            ("JWT RS256, cold (discovery + JWKS)", rs256, providers.reset, args.cold_repeat),
            ("opaque, userinfo cached", opaque, None, args.repeat),
            ("opaque, userinfo cold (1 call)", opaque, lambda: cache.delete(key), args.cold_repeat),
        ]
        wall: dict[str, list[float]] = {label: [] for label, *_ in cases}
        cpu: dict[str, list[float]] = {label: [] for label, *_ in cases}
        wall["JWT RS256 verify only (no DB)"], cpu["JWT RS256 verify only (no DB)"] = [], []
        # Rounds interleave the cases so that load from other processes hits them all alike.
        for _ in range(args.rounds):
            for label, token, before, calls in cases:
                request = request_with(token)
                for _ in range(calls // args.rounds):
                    if before is not None:
                        before()
                    w0, c0 = time.perf_counter(), time.thread_time()
                    assert auth.authenticate(request) is not None
                    cpu[label].append((time.thread_time() - c0) * 1000)
                    wall[label].append((time.perf_counter() - w0) * 1000)
            label = "JWT RS256 verify only (no DB)"
            for _ in range(args.repeat // args.rounds):
                w0, c0 = time.perf_counter(), time.thread_time()
                provider = providers.current()
                assert provider is not None
                provider.jwt_claims(rs256)
                cpu[label].append((time.thread_time() - c0) * 1000)
                wall[label].append((time.perf_counter() - w0) * 1000)

        db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        print(f"authentication overhead per request (µs), database: {db}, IdP on this machine")
        print(f"{'case':38} {'wall p50':>9} {'wall p95':>9} {'cpu p50':>9} {'samples':>8}")
        for label in wall:
            w, c = percentiles(wall[label]), percentiles(cpu[label])
            print(
                f"{label:38} {w['p50'] * 1000:9.0f} {w['p95'] * 1000:9.0f} "
                f"{c['p50'] * 1000:9.0f} {len(wall[label]):8d}"
            )
    finally:
        idp.stop()


if __name__ == "__main__":
    main()
