"""Browser security headers that Django's own middleware does not set."""

from collections.abc import Callable

from csp.constants import SELF
from django.conf import settings
from django.http import HttpRequest, HttpResponse

DEFAULT_PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)


class PermissionsPolicyMiddleware:
    """Adds ``Permissions-Policy`` (the back office needs no device APIs) to every response,
    and relaxes the CSP's ``frame-ancestors`` for admin pages only: unfold's modals frame admin
    pages from the same origin.

    It sits after ``CSPMiddleware`` so that its per-response update is seen when the policy is
    built.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = getattr(settings, "PERMISSIONS_POLICY", DEFAULT_PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.policy)
        if request.path.startswith("/admin/") and not hasattr(response, "_csp_replace"):
            # unfold opens related-object forms in a same-origin iframe (X-Frame-Options
            # SAMEORIGIN on those views); everything else may not be framed at all.
            response._csp_replace = {"frame-ancestors": [SELF]}
        return response
