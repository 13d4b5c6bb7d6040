"""Africa's Talking delivery-report callback.

The provider POSTs form fields (``id``, ``status``, ``phoneNumber``, ``networkCode``,
``failureReason``, ``retryCount``). The endpoint is protected by ``SMS_DELIVERY_REPORT_SECRET``
either in the URL (``SMS_DELIVERY_REPORT_AUTH=url``) or as the HTTP basic-auth password
(``basic``); with ``SMS_DELIVERY_REPORTS=false`` it answers 404. Every authenticated report is
recorded (``SmsDeliveryReport``); one that does not move its message forward (a replay, a stale
status, an unknown id) answers 200 ``ignored`` so the provider does not keep retrying it. A
malformed one (no id or status, fields too long, control characters) is a 400.
"""

import base64
import binascii
import logging

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
)
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.text import find_control_character

from .models import DeliveryReportOutcome
from .services import sms_delivery_report_record

logger = logging.getLogger(__name__)

REPORT_FIELDS = ("id", "status", "networkCode", "failureReason", "retryCount")
MAX_FIELD_CHARS = 200


def _field(request: HttpRequest, name: str) -> str | None:
    """The field's text, stripped ("" when absent); ``None`` when it cannot be a real report's
    value (too long, or carrying control characters such as NUL)."""
    value = request.POST.get(name, "").strip()
    if len(value) > MAX_FIELD_CHARS or find_control_character(value) is not None:
        return None
    return value


def _basic_auth_ok(request: HttpRequest, secret: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        # Header values arrive as latin-1 text: anything outside ASCII is not base64 and makes
        # b64decode raise a plain ValueError.
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return constant_time_compare(
        username, settings.SMS_DELIVERY_REPORT_USERNAME
    ) & constant_time_compare(password, secret)


def _authorized(request: HttpRequest, url_secret: str | None) -> bool:
    secret = settings.SMS_DELIVERY_REPORT_SECRET
    if not secret:
        return False  # not configured: refuse everything rather than accept anything
    if settings.SMS_DELIVERY_REPORT_AUTH == "basic":
        return url_secret is None and _basic_auth_ok(request, secret)
    return url_secret is not None and constant_time_compare(url_secret, secret)


@csrf_exempt
@require_POST
def delivery_report(request: HttpRequest, secret: str | None = None) -> HttpResponse:
    if not settings.SMS_DELIVERY_REPORTS_ENABLED:
        raise Http404("Delivery reports are off.")
    if not _authorized(request, secret):
        logger.warning("SMS delivery report refused (bad or missing secret)")
        return HttpResponseForbidden("forbidden", content_type="text/plain")
    fields: dict[str, str] = {}
    for name in REPORT_FIELDS:
        value = _field(request, name)
        if value is None:
            return HttpResponseBadRequest("malformed report", content_type="text/plain")
        fields[name] = value
    if not (fields["id"] and fields["status"]):
        return HttpResponseBadRequest("malformed report", content_type="text/plain")
    report = sms_delivery_report_record(
        provider_message_id=fields["id"],
        status=fields["status"],
        network_code=fields["networkCode"],
        failure_reason=fields["failureReason"],
        retry_count=fields["retryCount"],
    )
    if report is None:
        return HttpResponse("ignored", content_type="text/plain")
    if report.outcome == DeliveryReportOutcome.UNMATCHED:
        logger.info("SMS delivery report for unknown id %r kept", report.provider_message_id)
    return HttpResponse(
        "ok" if report.outcome == DeliveryReportOutcome.APPLIED else "ignored",
        content_type="text/plain",
    )
