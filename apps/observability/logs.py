"""Structured logging: one JSON object per line, carrying the id of the request being served.

Imported by gunicorn's configuration before Django is set up, so nothing here may touch
``django.conf.settings``.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

from .masking import RECORD_ATTRIBUTES, mask_text

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


def _rendered(value: object) -> str:
    """How an object that JSON cannot hold is written (``str``), masked like the rest."""
    return mask_text(str(value))


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request id ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """Render a record as one line of JSON that log collectors index without parsing rules."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in record.__dict__.items():
            if key not in RECORD_ATTRIBUTES and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            # The masking filter leaves the traceback, masked, in ``exc_text``.
            payload["exc_info"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=_rendered, ensure_ascii=False)


def json_logging_config(level: str = "INFO") -> dict:
    """A ``LOGGING`` dict sending everything to stderr as JSON lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "apps.observability.logs.RequestIdFilter"},
            # Phone numbers and secret values never reach the log collector.
            "sensitive": {"()": "apps.observability.masking.SensitiveDataFilter"},
        },
        "formatters": {"json": {"()": "apps.observability.logs.JsonFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id", "sensitive"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Django's own "Not Found"/"Bad Request" lines duplicate the access log below.
            "django.request": {"level": "ERROR"},
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            # The application writes its own access line (with the request id); drop gunicorn's.
            "gunicorn.access": {"level": "WARNING", "propagate": False},
        },
    }
