"""Request id and access log.

The id comes from the caller (``X-Request-ID``) or the AWS load balancer (``X-Amzn-Trace-Id``)
so one id follows a request across systems; otherwise a new one is made. It is echoed in the
``X-Request-ID`` response header and attached to every log line written while serving the request.
"""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .logs import request_id_var

access_logger = logging.getLogger("backoffice.access")

# Client-supplied ids end up in logs: accept only short ids of safe characters.
_VALID_ID = re.compile(r"[A-Za-z0-9._:;=+/-]{1,200}")
_AMZN_ROOT = re.compile(r"(?:^|;)Root=([A-Za-z0-9-]{1,100})")
# Load balancer and container probes hit these every few seconds: not worth an access line.
_QUIET_PATHS = frozenset({"/healthz", "/readyz"})


def _incoming_request_id(request: HttpRequest) -> str | None:
    candidate = request.headers.get("X-Request-ID", "").strip()
    if _VALID_ID.fullmatch(candidate):
        return candidate
    match = _AMZN_ROOT.search(request.headers.get("X-Amzn-Trace-Id", ""))
    if match:
        return match.group(1)
    return None


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _incoming_request_id(request) or uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]  # an attribute of our own on Django's request
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            if request.path in _QUIET_PATHS and response.status_code < 400:
                return response
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)
