"""One error body for every /v1 error and the handler that produces it.

Every error answers ``{"status": int, "code": str, "detail": str, "errors": {field: [str]}}``;
``errors`` is empty unless the request had field-level problems (400). A 412 adds ``current``,
the object as it is now (with its ``ETag`` header), so the client can merge and retry.
"""

import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.errors import DomainError, LimitExceededError, StaleVersionError

from .parsers import body_too_large

logger = logging.getLogger("django.request")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    """412: the object changed since the version the request was based on (``If-Match``)."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since the version this request was based on."
    default_code = "precondition_failed"

    def __init__(
        self, detail: str | None = None, *, current: Any = None, etag: str | None = None
    ) -> None:
        super().__init__(detail)
        self.current = current
        self.etag = etag


class PreconditionRequired(exceptions.APIException):
    """428: writes must say which version they are based on (``API_REQUIRE_IF_MATCH``)."""

    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "This write needs an If-Match header with the ETag of the version it is based on."
    )
    default_code = "precondition_required"


class IdempotencyKeyInUse(exceptions.APIException):
    """409: a request with this Idempotency-Key is still being processed."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "A request with this Idempotency-Key is still being processed; retry after it ends."
    )
    default_code = "idempotency_key_in_use"


class IdempotencyKeyReused(exceptions.APIException):
    """422: the Idempotency-Key was already used for a different request."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was already used for a different request (method, path or "
        "body); use a new key for a new request."
    )
    default_code = "idempotency_key_reused"


class IdempotencyQuotaExceeded(exceptions.Throttled):
    """429: the user keeps as many Idempotency-Key answers as they may (count or bytes)."""

    default_detail = (
        "Too many Idempotency-Key answers are kept for you; retry later, or without a key."
    )
    default_code = "idempotency_quota_exceeded"


def error_body(*, status_code: int, code: str, detail: str, errors: dict | None = None) -> dict:
    return {"status": status_code, "code": code, "detail": detail, "errors": errors or {}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error details → ``{"field": [messages]}`` (nested keys joined with dots)."""
    non_field = api_settings.NON_FIELD_ERRORS_KEY
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = non_field if key in (NON_FIELD_ERRORS, non_field) and not prefix else str(key)
            for field, messages in _flatten(value, f"{prefix}.{name}" if prefix else name).items():
                out.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                for field, messages in _flatten(
                    value, f"{prefix}.{index}" if prefix else str(index)
                ).items():
                    out.setdefault(field, []).extend(messages)
            else:
                out.setdefault(prefix or non_field, []).append(str(value))
    else:
        out.setdefault(prefix or non_field, []).append(str(detail))
    return out


def _django_validation_detail(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
            for field, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


def _first_code(codes: Any) -> str | None:
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict):
        codes = list(codes.values())
    if isinstance(codes, list):
        for value in codes:
            found = _first_code(value)
            if found:
                return found
    return None


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: map domain and Django errors, then reshape the body."""
    details: dict[str, Any] = {}
    if isinstance(exc, LimitExceededError):
        exc = exceptions.Throttled(wait=exc.retry_after, detail=exc.message)
    elif isinstance(exc, StaleVersionError):
        exc = PreconditionFailed(exc.message)
    elif isinstance(exc, DomainError):
        details = exc.details()
        exc = Conflict(exc.message, code=exc.code)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        exc = body_too_large()
    elif isinstance(exc, SuspiciousOperation):  # as Django answers them outside DRF: 400
        exc = exceptions.ParseError("The request could not be read.")

    response = drf_exception_handler(exc, context)
    if response is None:
        # An unexpected error still answers in the documented shape; the traceback is logged
        # exactly as Django would log it.
        request = context.get("request")
        logger.error(
            "Internal Server Error: %s",
            getattr(request, "path", "?"),
            exc_info=(type(exc), exc, exc.__traceback__),
            extra={"status_code": 500, "request": getattr(request, "_request", request)},
        )
        return Response(
            error_body(status_code=500, code="server_error", detail="Internal server error."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        # Field-level codes (required, max_length...) stay implicit in the messages.
        body = error_body(
            status_code=response.status_code,
            code="invalid",
            detail="Invalid input.",
            errors=_flatten(exc.detail),
        )
    else:
        body = error_body(
            status_code=response.status_code,
            code=str(_first_code(exc.get_codes()) or exc.default_code),
            detail=str(exc.detail) if not isinstance(exc.detail, dict | list) else str(exc),
        )
    body.update(details)
    if isinstance(exc, PreconditionFailed):
        if exc.current is not None:  # a list (a create's target) has no current object
            body["current"] = exc.current
        if exc.etag:
            response["ETag"] = exc.etag
    elif isinstance(exc, IdempotencyKeyInUse):
        response["Retry-After"] = "1"
    response.data = body
    return response


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown paths under /v1 answer the same JSON shape as every other error."""
    return JsonResponse(
        error_body(status_code=404, code="not_found", detail="Not found."), status=404
    )
