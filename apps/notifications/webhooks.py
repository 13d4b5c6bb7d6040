"""Africa's Talking delivery-report callback.

The provider POSTs form fields (``id``, ``status``, ``phoneNumber``, ``networkCode``,
``failureReason``, ``retryCount``). The endpoint is protected by ``SMS_DELIVERY_REPORT_SECRET``
either in the URL (``SMS_DELIVERY_REPORT_AUTH=url``) or as the HTTP basic-auth password
(``basic``). A report for an unknown id answers 200 so the provider does not keep retrying it.
"""

import base64
import binascii
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .services import sms_delivery_report_record

logger = logging.getLogger(__name__)


def _basic_auth_ok(request: HttpRequest, secret: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        username, _, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
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
    if not _authorized(request, secret):
        logger.warning("SMS delivery report refused (bad or missing secret)")
        return HttpResponseForbidden("forbidden", content_type="text/plain")
    message = sms_delivery_report_record(
        provider_message_id=request.POST.get("id", "").strip(),
        status=request.POST.get("status", "").strip(),
        network_code=request.POST.get("networkCode", "").strip(),
        failure_reason=request.POST.get("failureReason", "").strip(),
    )
    if message is None:
        logger.info("SMS delivery report for unknown id %r ignored", request.POST.get("id"))
        return HttpResponse("ignored", content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
