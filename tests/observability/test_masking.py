"""Phone numbers and secrets are masked in log output (handler filter, any logger)."""

import logging

import pytest

from apps.observability.masking import SensitiveDataFilter, mask_phone_numbers


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("SMS to +254712345678 sent", "SMS to +254*******78 sent"),
        ("typed 0712 345 678", "typed 071* *** *78"),
        ("at 2026-11-29 03:00:31 total 1234.50", "at 2026-11-29 03:00:31 total 1234.50"),
        (
            "order 5a0f4d0e-2b3c-4e55-9a61-000000000001",
            "order 5a0f4d0e-2b3c-4e55-9a61-000000000001",
        ),
    ],
)
def test_mask_phone_numbers(text, masked):
    assert mask_phone_numbers(text) == masked


def test_filter_masks_phones_and_secret_values_in_records(settings):
    settings.AFRICASTALKING_API_KEY = "atsk_live_0123456789abcdef"
    record = logging.LogRecord(
        "apps.notifications",
        logging.INFO,
        __file__,
        1,
        "sending to %s with key %s",
        ("+254700000123", "atsk_live_0123456789abcdef"),
        None,
    )
    assert SensitiveDataFilter().filter(record) is True
    assert record.getMessage() == "sending to +254*******23 with key [redacted]"


def test_configured_handlers_mask_real_log_output(capfd):
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    logging.getLogger("apps.notifications.services").warning("SMS to +254711222333 failed")
    err = capfd.readouterr().err
    assert "+254711222333" not in err
    assert "SMS to +254*******33 failed" in err


def test_production_json_logs_are_masked_too():
    import json
    import logging.config
    from io import StringIO

    from apps.observability.logs import json_logging_config

    config = json_logging_config("INFO")
    logging.config.dictConfig(config)
    stream = StringIO()
    handler = logging.getLogger().handlers[0]
    old, handler.stream = handler.stream, stream
    try:
        logging.getLogger("apps.notifications").info("queued SMS for +254733444555")
    finally:
        handler.stream = old
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["message"] == "queued SMS for +254*******55"


def test_delivery_report_secret_in_a_logged_path_is_redacted(settings):
    settings.SMS_DELIVERY_REPORT_SECRET = "dr-secret-0123456789"
    record = logging.LogRecord(
        "backoffice.access",
        logging.INFO,
        __file__,
        1,
        "POST %s 200",
        ("/sms/delivery-reports/dr-secret-0123456789/",),
        None,
    )
    SensitiveDataFilter().filter(record)
    assert record.getMessage() == "POST /sms/delivery-reports/[redacted]/ 200"


def _json_lines(emit) -> list[dict]:
    """Records logged by ``emit()`` through the production JSON configuration, as written."""
    import json
    import logging.config
    from io import StringIO

    from django.conf import settings

    from apps.observability.logs import json_logging_config

    logging.config.dictConfig(json_logging_config("INFO"))
    stream = StringIO()
    handler = logging.getLogger().handlers[0]
    old, handler.stream = handler.stream, stream
    try:
        emit()
    finally:
        handler.stream = old
        logging.config.dictConfig(settings.LOGGING)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


class _Request:
    """An object a log call passes as an extra (Django passes the request)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __str__(self) -> str:
        return f"<WSGIRequest: POST '{self.path}'>"


def test_every_field_of_a_record_is_masked(settings):
    """Message, arguments, extras (flat, nested, objects), exception text and stack."""
    secret = "dr-secret-0123456789"
    settings.SMS_DELIVERY_REPORT_SECRET = secret
    path = f"/sms/delivery-reports/{secret}/"

    def emit():
        log = logging.getLogger("backoffice.access")
        log.info("POST %s 200", path, extra={"path": path, "status": 200})
        log.info(
            "nested",
            extra={
                "request": _Request(path),
                "context": {"phones": ["+254700111222"], "url": path, "n": 3},
                "pair": (path, 1),
            },
        )
        try:
            raise RuntimeError(f"provider refused +254733444555 at {path}")
        except RuntimeError:
            log.exception("failed")
        log.info("where", stack_info=True, extra={"note": f"key {secret}"})

    lines = _json_lines(emit)
    text = "\n".join(str(line) for line in lines)
    assert secret not in text
    assert "+254700111222" not in text and "+254733444555" not in text
    access, nested, failed, where = lines
    assert access["message"] == "POST /sms/delivery-reports/[redacted]/ 200"
    assert access["path"] == "/sms/delivery-reports/[redacted]/"
    assert access["status"] == 200
    assert nested["request"] == "<WSGIRequest: POST '/sms/delivery-reports/[redacted]/'>"
    assert nested["context"] == {
        "phones": ["+254*******22"],
        "url": "/sms/delivery-reports/[redacted]/",
        "n": 3,
    }
    assert nested["pair"] == ["/sms/delivery-reports/[redacted]/", 1]
    assert (
        "RuntimeError: provider refused +254*******55 at /sms/delivery-reports/[redacted]/"
        in failed["exc_info"]
    )
    assert where["note"] == "key [redacted]"


def test_plain_formatter_tracebacks_are_masked_too(settings, capfd):
    import logging.config

    settings.OIDC_CLIENT_SECRET = "oidc-client-secret-42"
    logging.config.dictConfig(settings.LOGGING)
    try:
        raise ValueError("token endpoint refused oidc-client-secret-42")
    except ValueError:
        logging.getLogger("apps.accounts").exception("login failed")
    err = capfd.readouterr().err
    assert "oidc-client-secret-42" not in err
    assert "ValueError: token endpoint refused [redacted]" in err


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Authorization: Bearer eyJhbGciOi.abc.def", "Authorization: Bearer [redacted]"),
        ("basic ZGVtbzpzZWNyZXQ= failed", "basic [redacted] failed"),
        ("Basic plan", "Basic plan"),  # not a credential: too short to be one
    ],
)
def test_credentials_are_masked(text, masked):
    from apps.observability.masking import mask_text

    assert mask_text(text) == masked


def test_the_database_password_is_masked(monkeypatch):
    from django.conf import settings

    from apps.observability.masking import mask_text

    monkeypatch.setitem(settings.DATABASES["default"], "PASSWORD", "pg-pass-9876543")
    assert mask_text("connect with pg-pass-9876543 failed") == "connect with [redacted] failed"


def test_a_record_without_anything_sensitive_is_left_as_it_is():
    args = ("plain", 7)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %s %s", args, None)
    record.detail = {"n": 1}
    detail = record.detail
    SensitiveDataFilter().filter(record)
    assert record.args is args and record.detail is detail
