"""Browser security headers that Django's own middleware does not set, and the admin's CSP.

The Content-Security-Policy itself comes from django-csp (``CONTENT_SECURITY_POLICY``); this
module adjusts it for admin pages through django-csp's public extension point, a
``CSPMiddleware`` subclass overriding ``get_policy_parts``:

- ``frame-ancestors 'self'`` on admin pages only: unfold opens related-object forms in a
  same-origin iframe; everything else may not be framed at all.
- ``'unsafe-eval'`` on admin pages only, and only when ``ADMIN_CSP_ALLOW_UNSAFE_EVAL`` is on: the
  escape hatch for a release whose unfold upgrade outran the precompiled Alpine expressions
  (``apps/admin_toolkit/alpine_csp.py``). Off by default; the API and every other page never get
  it.
"""

from collections.abc import Callable
from typing import Any

from csp.constants import SELF, UNSAFE_EVAL
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

DEFAULT_PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
ADMIN_PREFIX = "/admin/"


def admin_eval_allowed() -> bool:
    return bool(getattr(settings, "ADMIN_CSP_ALLOW_UNSAFE_EVAL", False))


class AdminCSPMiddleware(CSPMiddleware):
    """django-csp's middleware with the admin's two adjustments (module docstring)."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path.startswith(ADMIN_PREFIX):
            if parts.replace is None:
                parts.replace = {"frame-ancestors": [SELF]}
            if admin_eval_allowed():
                script_src = list(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"])
                parts.replace = {**parts.replace, "script-src": [*script_src, UNSAFE_EVAL]}
        return parts


class PermissionsPolicyMiddleware:
    """Adds ``Permissions-Policy`` (the back office needs no device APIs) to every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = getattr(settings, "PERMISSIONS_POLICY", DEFAULT_PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> Any:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.policy)
        return response
