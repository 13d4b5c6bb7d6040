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
