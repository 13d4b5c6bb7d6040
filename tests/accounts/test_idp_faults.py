"""IdP faults do not spread: a hanging, slow, refusing or frozen IdP, and garbage tokens.

Everything runs against real HTTP servers: the test IdP process (frozen with SIGSTOP for the
outage cases) or a counting proxy in front of it that can hang, delay or drop requests. Latency
bounds are in terms of the IdP timeouts set here; IdP calls are counted where they arrive.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from apps.accounts.services import user_sync_from_claims
from apps.security.client_address import client_address
from tests.accounts.bearer_helpers import (
    WRITE_PERMS,
    bearer,
    group_with,
    provision_sso_user,
    signing_keys,
    wait_for_fresh_keys,
)
from tests.idp_fixtures import TestIdP, configure_sso

CONNECT_TIMEOUT = 0.5
READ_TIMEOUT = 2.0
# What a burst of 20 requests costs on its own on a shared 2-core machine (Django, the database,
# the GIL), added to the bounds that are about the IdP; still far below one more IdP timeout.
MARGIN = 1.0
# Answered without waiting for the IdP. In a burst of 20 on a busy 2-core machine: none near the
# IdP timeout, half within a second; a request on its own within a second, which is the bound
# that separates "answered without the IdP" from "waited for it" (CONNECT_TIMEOUT is never paid
# again: the calls are counted at the IdP as well). bench/idp_faults.py measures the real figure
# on a quiet machine (milliseconds).
FAST = 1.0
FAST_ALONE = 1.0
# The frozen-IdP test compares with the pace of the same authenticated request measured while the
# IdP was healthy, allowing it half as long again (the background key refresh competes for the
# same two cores); its IdP timeout is long enough that waiting for the IdP stays out of reach.
FROZEN_READ_TIMEOUT = 8.0
FROZEN_SLACK = 1.5


class Pace:
    """How long requests that never reach the IdP take on this machine right now (a burst of 20
    anonymous requests, one alone, twenty in a row). The bounds add it, so that a busy machine
    (CI beside other jobs, several test suites at once) slows both sides alike and the bounds
    still separate "answered without the IdP" from "waited for an IdP timeout"."""

    slowest = 0.0
    median = 0.0
    single = 0.0
    sequence = 0.0

    def measure(self, threads: Any, call: Any = None) -> None:
        """Time ``call`` (by default an anonymous request) in a burst, alone and in a row."""
        call = call or (lambda: Client().get("/v1/customers"))
        threads.connect()
        burst = sorted(s for s, _ in threads.burst(lambda _: call()))
        self.slowest, self.median = burst[-1], burst[len(burst) // 2]
        start = time.monotonic()
        call()
        self.single = time.monotonic() - start
        start = time.monotonic()
        for _ in range(20):
            call()
        self.sequence = time.monotonic() - start

    def assert_fast(self, results: list[tuple[float, Any]], *, slack: float = 1.0) -> None:
        seconds = sorted(s for s, _ in results)
        assert seconds[-1] < READ_TIMEOUT + self.slowest * slack, (seconds, vars(self))
        assert seconds[len(seconds) // 2] < FAST + self.median * slack, (seconds, vars(self))

    def assert_fast_alone(self, call: Any, *, slack: float = 1.0) -> Any:
        start = time.monotonic()
        response = call()
        assert time.monotonic() - start < FAST_ALONE + self.single * slack, vars(self)
        return response


@pytest.fixture
def paced(threads: Any) -> Pace:
    """This machine's pace, measured for the test that asks (never shared between tests)."""
    pace = Pace()
    pace.measure(threads)
    return pace


def configure(settings: Any, issuer: str, *, backoff: float = 30.0) -> None:
    settings.OIDC_HTTP_CONNECT_TIMEOUT = CONNECT_TIMEOUT
    settings.OIDC_HTTP_TIMEOUT = READ_TIMEOUT
    settings.OIDC_IDP_FAILURE_BACKOFF_SECONDS = backoff
    configure_sso(settings, issuer)


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.content
    assert int(response["Retry-After"]) >= 1
    body = response.json()
    assert set(body) == {"status", "code", "detail", "errors"}
    assert body["code"] == "idp_unavailable"


def slowest(results: list[tuple[float, Any]]) -> float:
    return max(seconds for seconds, _ in results)


def idp_user(idp: TestIdP, sub: str) -> dict[str, Any]:
    """A user of the test IdP's directory: the claims its userinfo endpoint answers."""
    return next(user for user in idp.config["users"] if user["sub"] == sub)


def get(token: str, **extra: Any) -> Any:
    return Client().get("/v1/customers", **bearer(token), **extra)


@pytest.mark.django_db(transaction=True)
def test_hanging_idp_at_start_up_costs_one_timeout_then_fails_fast(
    settings, idp, fault_proxy, threads, paced
):
    """No keys yet and an IdP that accepts connections but never answers."""
    proxy = fault_proxy(None, mode="hang")
    configure(settings, proxy.url)
    token = idp.sign(sub="sub-bob", iss=proxy.url)

    threads.connect()
    first = threads.burst(lambda _: get(token))
    for _, response in first:
        assert_unavailable(response)
    # All 20 shared one discovery call: answered together after one timeout, not one by one.
    assert slowest(first) < READ_TIMEOUT + MARGIN + paced.slowest
    assert proxy.count() == 1

    later = threads.burst(lambda _: get(token))
    for _, response in later:
        assert_unavailable(response)
    paced.assert_fast(later)
    assert_unavailable(paced.assert_fast_alone(lambda: get(token)))
    assert proxy.count() == 1  # the failure is remembered: nobody asked the IdP again


@pytest.mark.django_db
def test_refusing_idp_answers_503_at_once(settings, idp, refused_url):
    configure(settings, refused_url)
    token = idp.sign(sub="sub-bob", iss=refused_url)
    assert_unavailable(get(token))  # the first request of a process also pays Django's warm-up
    pace = Pace()
    start = time.monotonic()
    Client().get("/v1/customers")  # this machine's pace for a request without the IdP
    pace.single = time.monotonic() - start
    for _ in range(10):
        assert_unavailable(pace.assert_fast_alone(lambda: get(token)))


@pytest.mark.django_db(transaction=True)
def test_idp_dropping_connections_is_tried_once_per_backoff(
    settings, idp, fault_proxy, threads, paced
):
    proxy = fault_proxy(None, mode="drop")
    # Long enough for twenty requests in a row on this machine, as measured just now.
    backoff = max(2.0, 2 * paced.sequence + 1.0)
    configure(settings, proxy.url, backoff=backoff)
    token = idp.sign(sub="sub-bob", iss=proxy.url)
    start = time.monotonic()
    for _ in range(20):
        assert_unavailable(get(token))
    assert time.monotonic() - start < backoff, "too slow to stay inside the back-off"
    assert proxy.count() == 1

    time.sleep(backoff + 0.1)  # the back-off is over: one request probes, the others fail fast
    threads.connect()
    results = threads.burst(lambda _: get(token))
    for _, response in results:
        assert_unavailable(response)
    paced.assert_fast(results)
    assert_unavailable(paced.assert_fast_alone(lambda: get(token)))
    assert proxy.count() == 2


@pytest.mark.django_db(transaction=True)
def test_slow_idp_is_asked_once_for_everyone(settings, idp, fault_proxy, threads):
    """Twenty cold requests share the discovery and JWKS downloads, then one userinfo call.

    Latency is compared with the same burst once everything is cached (what 20 requests cost
    on this machine anyway): the IdP may add its delay once per download, not once per request.
    """
    delay = 0.5
    proxy = fault_proxy(idp.issuer)
    proxy.delay = delay
    configure(settings, proxy.url)
    user = provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    # Already in step with the IdP's directory: the bursts below measure the IdP, not twenty
    # requests racing to write the same claim change.
    user_sync_from_claims(user=user, claims=idp_user(idp, "sub-bob"), as_of=timezone.now())
    token = idp.sign(sub="sub-bob", iss=proxy.url)
    threads.connect()

    cold = threads.burst(lambda _: get(token))
    assert [response.status_code for _, response in cold] == [200] * 20
    assert proxy.count() == 2  # discovery + JWKS, once each
    warm = threads.burst(lambda _: get(token))
    assert proxy.count() == 2
    # Two downloads in a row (discovery, then the keys it names), each shared by everyone; the
    # IdP and the proxy share the busy CPUs too, hence twice the margin. One by one, the twenty
    # would take at least 20 x the delay (10 s).
    assert slowest(cold) < slowest(warm) + 2 * delay + 2 * MARGIN

    opaque = idp.pkce_token(login="bob", password="bob-pw", resource=False)["access_token"]
    cold = threads.burst(lambda _: get(opaque))
    assert [response.status_code for _, response in cold] == [200] * 20
    assert proxy.count() == 3  # + one userinfo call for the new token
    warm = threads.burst(lambda _: get(opaque))
    assert proxy.count() == 3
    assert slowest(cold) < slowest(warm) + delay + 2 * MARGIN


@pytest.mark.django_db(transaction=True)
def test_frozen_idp_warm_keys_keep_serving_the_rest_fails_fast(settings, start_idp, threads):
    idp = start_idp()
    settings.OIDC_JWKS_CACHE_SECONDS = 1  # the keys fall due while the IdP is frozen
    configure(settings, idp.issuer)
    # A request that waits for the frozen IdP takes at least this long; the bounds below stay
    # under it even when the machine is busy enough to make every request take seconds.
    settings.OIDC_HTTP_TIMEOUT = FROZEN_READ_TIMEOUT
    provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    token = idp.sign(sub="sub-bob")
    opaque = idp.pkce_token(login="bob", password="bob-pw", resource=False)["access_token"]
    assert get(token).status_code == 200  # discovery and keys cached
    # The pace of this very request while the IdP is healthy (keys cached: no IdP call).
    pace = Pace()
    pace.measure(threads, lambda: get(token))
    time.sleep(1.1)
    assert get(token).status_code == 200  # keys due: refreshed in the background
    wait_for_fresh_keys(signing_keys())  # ...while the IdP answers, and counted before the outage
    before = idp.request_count()

    idp.pause()
    try:
        time.sleep(1.1)
        results = threads.burst(lambda _: get(token))
        assert [response.status_code for _, response in results] == [200] * 20
        # Expired keys are served while the refresh runs (and fails) in the background.
        pace.assert_fast(results, slack=FROZEN_SLACK)
        assert pace.assert_fast_alone(lambda: get(token), slack=FROZEN_SLACK).status_code == 200

        # A token the app has not seen needs the IdP: at most one timeout for the first...
        start = time.monotonic()
        assert_unavailable(get(opaque))
        assert time.monotonic() - start < FROZEN_READ_TIMEOUT + MARGIN + pace.single * FROZEN_SLACK
        # ...then the failure is remembered.
        results = threads.burst(lambda _: get(opaque))
        for _, response in results:
            assert_unavailable(response)
        pace.assert_fast(results, slack=FROZEN_SLACK)
        assert_unavailable(pace.assert_fast_alone(lambda: get(opaque), slack=FROZEN_SLACK))
        assert pace.assert_fast_alone(lambda: get(token), slack=FROZEN_SLACK).status_code == 200
    finally:
        idp.resume()
    time.sleep(0.3)  # the IdP now serves what was queued while it was frozen
    # The background key refresh, and at most one userinfo call.
    assert idp.request_count() - before <= 2


@pytest.mark.django_db
def test_garbage_tokens_reach_the_idp_a_bounded_number_of_times(sso_settings, settings):
    idp = sso_settings
    settings.OIDC_UNKNOWN_TOKEN_RATE = "10/minute"
    provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    opaque = idp.pkce_token(login="bob", password="bob-pw", resource=False)["access_token"]
    assert get(opaque).status_code == 200  # known before the flood (one of the ten calls)

    before = idp.request_count()
    statuses: Counter[int] = Counter()
    for n in range(50):
        response = get(f"garbage-{n}")
        statuses[response.status_code] += 1
        if response.status_code == 429:
            assert int(response["Retry-After"]) >= 1
            body = response.json()
            assert set(body) == {"status", "code", "detail", "errors"}
            assert body["code"] == "throttled"
            assert "unknown tokens" in body["detail"]
        else:
            assert response.status_code == 401
            assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert statuses == {401: 9, 429: 41}
    assert idp.request_count() - before == 9

    # Known tokens need no IdP call and pass; another address has its own allowance.
    assert get(opaque).status_code == 200
    assert get("garbage-0").status_code == 401  # the refusal is cached
    assert get("garbage-new", REMOTE_ADDR="192.0.2.10").status_code == 401
    assert idp.request_count() - before == 10


@pytest.mark.django_db
def test_throttle_counts_the_address_the_load_balancer_saw(sso_settings, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.OIDC_UNKNOWN_TOKEN_RATE = "3/minute"
    # The client writes what it likes on the left of X-Forwarded-For; the balancer appends the
    # address it saw.
    for n in range(3):
        forwarded = f"198.51.100.{n}, 203.0.113.7"
        assert get(f"junk-{n}", HTTP_X_FORWARDED_FOR=forwarded).status_code == 401
    response = get("junk-3", HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.7")
    assert response.status_code == 429
    assert get("junk-4", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 401


def test_client_address(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.0.0.5"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request) == "2.2.2.2"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request) == "1.1.1.1"
    settings.TRUSTED_PROXY_COUNT = 3  # fewer entries than proxies: the furthest one
    assert client_address(request) == "1.1.1.1"
    assert client_address(factory.get("/", REMOTE_ADDR="10.0.0.5")) == "10.0.0.5"
    assert client_address(None) == "unknown"


def test_unknown_token_rate_is_checked_at_start_up(settings):
    from apps.accounts.checks import sso_settings_check

    settings.OIDC_ISSUER = "https://idp.example.com"
    settings.OIDC_CLIENT_ID = settings.OIDC_CLIENT_SECRET = "x"
    settings.OIDC_STAFF_GROUPS = ["staff"]
    settings.OIDC_UNKNOWN_TOKEN_RATE = "lots"
    assert [problem.id for problem in sso_settings_check()] == ["accounts.E003"]
    settings.OIDC_UNKNOWN_TOKEN_RATE = "5/second"
    assert sso_settings_check() == []
