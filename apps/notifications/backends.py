"""SMS providers behind one small interface.

``send`` either returns a :class:`SendResult` (the provider accepted the message) or raises
one of three errors that tell the worker what to do next:

- :class:`SmsTransientError`: nothing was sent; trying again later may work.
- :class:`SmsPermanentError`: the provider refused this message; trying again will not help.
- :class:`SmsUnknownOutcomeError`: the request may have reached the provider; a retry could
  send a second SMS, so the worker stops and records the doubt instead.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import requests
from africastalking.Service import AfricasTalkingException
from africastalking.SMS import SMSService
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from urllib3.exceptions import NewConnectionError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    status_code: str = ""
    status: str = ""
    cost: str = ""


class SmsProviderError(Exception):
    """What a backend raises when the provider did not accept a message (see the module doc)."""

    def __init__(self, message: str, *, status_code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class SmsTransientError(SmsProviderError):
    pass


class SmsPermanentError(SmsProviderError):
    pass


class SmsUnknownOutcomeError(SmsProviderError):
    pass


class SmsBackend(Protocol):
    name: str

    def send(self, *, phone: str, text: str) -> SendResult: ...


class ConsoleBackend:
    """Writes the message to the log and reports it sent (local development, demos)."""

    name = "console"

    def send(self, *, phone: str, text: str) -> SendResult:
        message_id = f"console-{uuid.uuid4().hex}"
        logger.info("SMS to %s [%s]: %s", phone, message_id, text)
        return SendResult(provider_message_id=message_id, status_code="100", status="Success")


# Africa's Talking per-recipient status codes (SMS API documentation).
AT_ACCEPTED = {"100", "101", "102"}  # Processed, Sent, Queued
AT_TRANSIENT = {"500", "501"}  # InternalServerError, GatewayError
AT_HTTP_TRANSIENT = {429, 502, 503, 504}


class ProviderHTTPError(AfricasTalkingException):
    """The SDK's error for a non-2xx answer, with the HTTP status it otherwise drops."""

    def __init__(self, status_code: int, body: str) -> None:
        super().__init__(body)
        self.status_code = status_code
        self.body = body


class _SMSService(SMSService):
    """The SDK's SMS service, keeping the HTTP status of error answers.

    ``SMSService.send`` (number validation, form fields, headers, URL) is used as is; only the
    final HTTP call is replaced, because the SDK raises ``AfricasTalkingException(body)`` for
    every non-2xx answer and a 401 (bad key: stop) must not look like a 503 (retry later).
    The SDK (2.0.3) offers no public hook for the HTTP call nor a timeout setting (upstream
    issue #69, PR #53), so its private ``_make_request`` is overridden: the one exception to
    "public APIs only" in this project, with ``_baseUrl`` below.
    """

    def _make_request(
        self,
        url: str,
        method: str,
        headers: dict[str, str],
        data: Any,
        params: Any,
        callback: Any = None,
        timeout: Any = None,
    ) -> Any:
        if callback is not None:
            return super()._make_request(url, method, headers, data, params, callback, timeout)
        res = requests.request(
            method, url, headers=headers, data=data, params=params, timeout=timeout
        )
        if 200 <= res.status_code < 300:
            if res.headers.get("content-type") == "application/json":
                return res.json()
            return res.text
        raise ProviderHTTPError(res.status_code, res.text)


class AfricasTalkingBackend:
    name = "africastalking"

    def __init__(
        self,
        *,
        username: str,
        api_key: str,
        sender_id: str = "",
        api_url: str = "",
        timeout: float = 10.0,
    ) -> None:
        if not api_key:
            raise ImproperlyConfigured(
                "AFRICASTALKING_API_KEY is required for SMS_BACKEND=africastalking"
            )
        self.sender_id = sender_id or None
        self.timeout = (min(3.05, timeout), timeout)
        self.service = _SMSService(username, api_key)
        if api_url:
            # The SDK builds every URL from its private ``_baseUrl`` (".../version1" by default)
            # and has no public setting for it (africastalking-python issue #69, PR #53).
            self.service._baseUrl = api_url.rstrip("/")

    def send(self, *, phone: str, text: str) -> SendResult:
        try:
            answer = self.service.send(
                text, [phone], sender_id=self.sender_id, timeout=self.timeout
            )
        except ValueError as exc:  # the SDK's own number validation, before any request
            raise SmsPermanentError(str(exc), status_code="403") from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise SmsTransientError(f"provider unreachable (connect timeout): {exc}") from exc
        except requests.exceptions.ReadTimeout as exc:
            if settings.SMS_RETRY_READ_TIMEOUTS:
                raise SmsTransientError(f"no answer within {self.timeout[1]}s") from exc
            raise SmsUnknownOutcomeError(
                f"no answer from the provider within {self.timeout[1]}s"
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise SmsTransientError(f"provider unreachable: {exc}") from exc
            # Reset or closed after the request went out: it may have been processed.
            raise SmsUnknownOutcomeError(f"connection lost: {exc}") from exc
        except ProviderHTTPError as exc:
            detail = f"HTTP {exc.status_code}: {exc.body[:200]}".strip()
            code = str(exc.status_code)
            if exc.status_code >= 500 or exc.status_code in AT_HTTP_TRANSIENT:
                raise SmsTransientError(detail, status_code=code) from exc
            raise SmsPermanentError(detail, status_code=code) from exc
        except requests.exceptions.RequestException as exc:
            raise SmsUnknownOutcomeError(f"request failed: {exc}") from exc
        return self._parse(answer)

    @staticmethod
    def _parse(answer: Any) -> SendResult:
        if not isinstance(answer, dict):
            # 2xx without a JSON body: the provider may well have taken the message.
            raise SmsUnknownOutcomeError(f"unreadable provider answer: {str(answer)[:200]}")
        data = answer.get("SMSMessageData") or {}
        recipients = data.get("Recipients") or []
        if not recipients:
            # e.g. {"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}}
            raise SmsPermanentError(f"not sent: {data.get('Message') or 'no recipients'}")
        r = recipients[0]
        code = str(r.get("statusCode", ""))
        status = str(r.get("status", ""))
        if code in AT_ACCEPTED:
            return SendResult(
                provider_message_id=str(r.get("messageId") or ""),
                status_code=code,
                status=status,
                cost=str(r.get("cost") or ""),
            )
        if code in AT_TRANSIENT:
            raise SmsTransientError(f"{code} {status}", status_code=code)
        raise SmsPermanentError(f"{code} {status}".strip(), status_code=code)


def _never_connected(exc: BaseException) -> bool:
    """True when the connection itself failed (refused, DNS), so no request was sent."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, NewConnectionError):
            return True
        reason = getattr(seen, "reason", None)
        if isinstance(reason, BaseException) and reason is not seen:
            seen = reason
            continue
        nested = next((a for a in seen.args if isinstance(a, BaseException)), None)
        seen = nested or seen.__cause__ or seen.__context__
    return False


@lru_cache(maxsize=4)
def _build(name: str, options: tuple[tuple[str, Any], ...]) -> SmsBackend:
    if name == "console":
        return ConsoleBackend()
    if name == "africastalking":
        return AfricasTalkingBackend(**dict(options))
    raise ImproperlyConfigured(f"unknown SMS_BACKEND {name!r} (console or africastalking)")


def get_backend() -> SmsBackend:
    """The configured backend, built once per configuration."""
    name = settings.SMS_BACKEND
    options: tuple[tuple[str, Any], ...] = ()
    if name == "africastalking":
        options = (
            ("username", settings.AFRICASTALKING_USERNAME),
            ("api_key", settings.AFRICASTALKING_API_KEY),
            ("sender_id", settings.AFRICASTALKING_SENDER_ID),
            ("api_url", settings.AFRICASTALKING_API_URL),
            ("timeout", float(settings.SMS_PROVIDER_TIMEOUT_SECONDS)),
        )
    return _build(name, options)
