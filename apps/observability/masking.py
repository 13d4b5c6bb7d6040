"""Keep customer phone numbers and secrets out of log lines.

``SensitiveDataFilter`` rewrites each record's message once it is formatted: phone numbers keep
their country prefix and last two digits (``+2547*******78``), and the values of configured
secrets (API keys, client secrets, the delivery-report secret) are replaced by ``[redacted]``.
It is installed on every handler, so third-party loggers (the SMS SDK, requests) are covered too.
"""

import logging
import re

# E.164 numbers (how phones are stored and logged), and local numbers typed with a trunk 0
# (``0712 345 678``); dates, times, amounts and uuids do not match.
_PHONE = re.compile(r"(?<![\w.-])(\+\d{3}|0\d{2})((?:[ -]?\d){5,11})(\d{2})(?![\w-])")
_SECRET_SETTINGS = (
    "AFRICASTALKING_API_KEY",
    "OIDC_CLIENT_SECRET",
    "SMS_DELIVERY_REPORT_SECRET",
    "DJANGO_SECRET_KEY",
    "SECRET_KEY",
)


def mask_phone_numbers(text: str) -> str:
    return _PHONE.sub(lambda m: m.group(1) + re.sub(r"\d", "*", m.group(2)) + m.group(3), text)


def _secrets() -> list[str]:
    try:
        from django.conf import settings

        values = [str(getattr(settings, name, "") or "") for name in _SECRET_SETTINGS]
    except Exception:  # settings not configured yet (gunicorn start-up)
        return []
    return [v for v in values if len(v) >= 8]


class SensitiveDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug; leave it alone
            return True
        masked = mask_phone_numbers(message)
        for secret in _secrets():
            masked = masked.replace(secret, "[redacted]")
        if masked != message:
            record.msg = masked
            record.args = None
        return True
