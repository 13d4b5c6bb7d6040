"""One client address (apps/security/client_address.py) for the lockout, throttles and caps."""

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory

from apps.security.client_address import client_address, client_ip
from tests.factories import UserFactory

factory = RequestFactory()


def _request(remote="10.0.0.5", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return factory.get("/", **extra)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        # No trusted proxy: the header is the client's own words.
        (0, "10.0.0.5", "1.1.1.1", "10.0.0.5"),
        # Behind the load balancer: it appended what it saw; what the client wrote is left of it.
        (1, "10.0.0.5", "203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.5", "6.6.6.6, 203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.5", "6.6.6.6,7.7.7.7 ,  203.0.113.7", "203.0.113.7"),
        # A CDN and the balancer: two entries are ours.
        (2, "10.0.0.5", "6.6.6.6, 203.0.113.7, 198.51.100.2", "203.0.113.7"),
        # Fewer entries than proxies: the leftmost was still written by one of ours.
        (3, "10.0.0.5", "203.0.113.7, 198.51.100.2", "203.0.113.7"),
        # No header behind a proxy, an empty one, or garbage where the client should be.
        (1, "10.0.0.5", None, "10.0.0.5"),
        (1, "10.0.0.5", " , ", "10.0.0.5"),
        (1, "10.0.0.5", "1.1.1.1, not-an-address", "10.0.0.5"),
        (1, "10.0.0.5", "1.1.1.1, 203.0.113.7<script>", "10.0.0.5"),
        # Ports and IPv6 as proxies write them, normalised.
        (1, "10.0.0.5", "203.0.113.7:51234", "203.0.113.7"),
        (1, "10.0.0.5", "[2001:DB8::1]:443", "2001:db8::1"),
        (1, "10.0.0.5", "2001:db8:0:0::1", "2001:db8::1"),
    ],
)
def test_client_address(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_address(_request(remote, forwarded)) == expected


def test_unknown_without_any_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = factory.get("/")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) is None  # axes stores NULL
    assert client_address(request) == "unknown"  # counters key on a word
    assert client_address(None) == "unknown"


@pytest.mark.django_db
def test_lockout_keys_on_the_address_the_balancer_saw(settings):
    """Behind the balancer every request comes from its address: the lockout must key on the
    client's, and what a client writes into X-Forwarded-For must not move it."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="root", is_superuser=True)
    balancer = "10.0.0.5"

    def attempt(client_addr, username, password, spoofed=""):
        forwarded = f"{spoofed}, {client_addr}" if spoofed else client_addr
        return Client().post(
            "/admin/login/?next=/admin/",
            {"username": username, "password": password},
            REMOTE_ADDR=balancer,
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    # An attacker at 203.0.113.66 rotates spoofed entries and usernames.
    for n in range(3):
        attempt("203.0.113.66", f"guess{n}", "wrong", spoofed=f"192.0.2.{n}")
    assert attempt("203.0.113.66", "root", "pw-test-12345").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.66"}
    # The operator behind the same balancer signs in.
    assert attempt("198.51.100.20", "root", "pw-test-12345").status_code == 302
