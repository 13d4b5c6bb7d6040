"""Keep customer phone numbers and secrets out of log output, in every field of a record.

``SensitiveDataFilter`` rewrites each record before any handler formats it: the message (with
its arguments), every extra field (``path`` on the access log, ``request`` on Django's error
lines, any ``extra=`` a caller passes, nested in lists and dicts), the exception text and the
stack. Phone numbers keep their country prefix and last two digits (``+2547*******78``); the
values of configured secrets (API keys, client secrets, the delivery-report secret, the database
password) and the credentials of ``Authorization``-style values (``Bearer …``, ``Basic …``) are
replaced by ``[redacted]``. It is installed on every handler, so third-party loggers (the SMS
SDK, requests, gunicorn) are covered too; the JSON formatter masks what it renders of objects
(``str(request)``) with the same function.
"""

import logging
import re
from typing import Any

# E.164 numbers (how phones are stored and logged), and local numbers typed with a trunk 0
# (``0712 345 678``); dates, times, amounts and uuids do not match.
_PHONE = re.compile(r"(?<![\w.-])(\+\d{3}|0\d{2})((?:[ -]?\d){5,11})(\d{2})(?![\w-])")
_CREDENTIALS = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/-]{8,}=*")
_SECRET_SETTINGS = (
    "AFRICASTALKING_API_KEY",
    "OIDC_CLIENT_SECRET",
    "SMS_DELIVERY_REPORT_SECRET",
    "DJANGO_SECRET_KEY",
    "SECRET_KEY",
)
REDACTED = "[redacted]"
# Attributes every LogRecord has; anything else came through ``extra=``.
RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "request_id", "taskName"}
)
# Extras nested deeper than this are left to the formatter (which masks what it renders).
_MAX_DEPTH = 4


def mask_phone_numbers(text: str) -> str:
    return _PHONE.sub(lambda m: m.group(1) + re.sub(r"\d", "*", m.group(2)) + m.group(3), text)


def _secrets() -> list[str]:
    try:
        from django.conf import settings

        values = [str(getattr(settings, name, "") or "") for name in _SECRET_SETTINGS]
        values += [
            str(database.get("PASSWORD") or "")
            for database in getattr(settings, "DATABASES", {}).values()
        ]
    except Exception:  # settings not configured yet (gunicorn start-up)
        return []
    # Longest first, so a secret that contains another is replaced whole.
    return sorted({v for v in values if len(v) >= 8}, key=len, reverse=True)


def mask_text(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with phone numbers, secret values and credentials masked."""
    masked = mask_phone_numbers(text)
    for secret in _secrets() if secrets is None else secrets:
        masked = masked.replace(secret, REDACTED)
    return _CREDENTIALS.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", masked)


def _mask_value(value: Any, secrets: list[str], depth: int = 0) -> Any:
    """``value`` with its text masked; the same object when nothing changed."""
    if isinstance(value, str):
        return mask_text(value, secrets)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        items = {k: _mask_value(v, secrets, depth + 1) for k, v in value.items()}
        changed = any(items[k] is not v for k, v in value.items())
        return items if changed else value
    if isinstance(value, list | tuple):
        masked = [_mask_value(v, secrets, depth + 1) for v in value]
        if any(m is not v for m, v in zip(masked, value, strict=True)):
            return type(value)(masked) if isinstance(value, list) else tuple(masked)
    return value


class SensitiveDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _secrets()
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug; leave it alone
            message = None
        if message is not None:
            masked = mask_text(message, secrets)
            if masked != message:
                record.msg = masked
                record.args = None
        for key, value in list(record.__dict__.items()):
            if key in RECORD_ATTRIBUTES or key.startswith("_"):
                continue
            masked_value = _mask_value(value, secrets)
            if masked_value is not value:
                setattr(record, key, masked_value)
        if record.exc_info and not record.exc_text:
            # Formatters reuse ``exc_text`` when it is set: format the traceback once, masked.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info, secrets)
        return True
