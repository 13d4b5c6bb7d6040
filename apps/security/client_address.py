"""The client's address, one rule for everything that counts per address.

The break-glass lockout (django-axes, through ``AXES_CLIENT_IP_CALLABLE``), the API throttle for
requests without a user, and the cap on unknown bearer tokens all key on this function.

Behind ``TRUSTED_PROXY_COUNT`` proxies (1 behind the load balancer) the client is that many
entries from the right of ``X-Forwarded-For``: each proxy appends the address it received the
request from, so the rightmost entries were written by our proxies and everything further left
was written by the client and proves nothing. A header with fewer entries than the count came
through fewer proxies: its leftmost entry is still one a proxy of ours wrote. With no trusted
proxy, no header, or an entry at that place that is not an IP address, the address is the peer
of the connection (``REMOTE_ADDR``).

Why not django-ipware: axes reads it only when it is installed, and it adds heuristics over a
list of headers (``X-Real-IP``, ``Forwarded``, …) that a client can set; one header and one count,
configured, are what our load balancer gives.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings

UNKNOWN = "unknown"


def _ip(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:51234"
        value = value.partition(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: Any) -> str | None:
    """The address the request came from, as the first trusted proxy saw it (module docstring);
    None when nothing says (no ``REMOTE_ADDR``: a request made in-process).

    ``request`` is a Django or DRF request (anything with ``META``), or None. Also
    ``AXES_CLIENT_IP_CALLABLE``: axes stores it in an ``inet`` column, where None is allowed.
    """
    meta = getattr(request, "META", None)
    if meta is None:
        return None
    peer = _ip(str(meta.get("REMOTE_ADDR") or ""))
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return peer
    forwarded = [entry for entry in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [entry.strip() for entry in forwarded if entry.strip()]
    if not forwarded:
        return peer
    return _ip(forwarded[-min(proxies, len(forwarded))]) or peer


def client_address(request: Any) -> str:
    """:func:`client_ip`, or ``"unknown"``: a key for counters (throttles, bearer caps)."""
    return client_ip(request) or UNKNOWN
