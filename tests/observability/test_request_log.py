"""Request ids, the access log and JSON log lines."""

import json
import logging
import sys
from pathlib import Path

import pytest

from apps.observability.logs import (
    JsonFormatter,
    RequestIdFilter,
    json_logging_config,
    request_id_var,
)
from backoffice.health import migration_state

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_migration_state():
    migration_state.reset()
    yield
    migration_state.reset()


def test_request_id_is_generated_when_absent(client):
    response = client.get("/healthz")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    int(request_id, 16)


def test_request_id_from_the_caller_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123.def"})
    assert response["X-Request-ID"] == "abc-123.def"


def test_request_id_from_the_load_balancer_trace_header(client):
    response = client.get(
        "/healthz",
        headers={"X-Amzn-Trace-Id": "Self=1-aa;Root=1-5759e988-bd862e3fe1be46a994272793"},
    )
    assert response["X-Request-ID"] == "1-5759e988-bd862e3fe1be46a994272793"


def test_unsafe_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "evil\u00e9 id with spaces"})
    assert response["X-Request-ID"] != "evil\u00e9 id with spaces"
    assert len(response["X-Request-ID"]) == 32


def test_access_log_line_is_json_with_the_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="backoffice.access"):
        response = client.get("/no-such-page", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 404
    (record,) = [r for r in caplog.records if r.name == "backoffice.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-42"
    assert line["level"] == "INFO"
    assert line["logger"] == "backoffice.access"
    assert line["method"] == "GET"
    assert line["path"] == "/no-such-page"
    assert line["status"] == 404
    assert line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


def test_probes_stay_out_of_the_access_log(client, caplog):
    with caplog.at_level(logging.INFO, logger="backoffice.access"):
        client.get("/healthz")
    assert not [r for r in caplog.records if r.name == "backoffice.access"]


def test_json_formatter_renders_exceptions():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("t").makeRecord(
            "t", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed x"
    assert line["request_id"] == "-"
    assert "ValueError: boom" in line["exc_info"]


def test_request_id_filter_stamps_records_with_the_current_request():
    record = logging.getLogger("t").makeRecord("t", logging.INFO, __file__, 1, "hi", (), None)
    token = request_id_var.set("req-9")
    try:
        assert RequestIdFilter().filter(record) is True
    finally:
        request_id_var.reset(token)
    assert record.request_id == "req-9"
    assert json.loads(JsonFormatter().format(record))["request_id"] == "req-9"


def test_json_logging_config_sends_everything_through_the_json_formatter():
    config = json_logging_config("DEBUG")
    assert config["root"] == {"handlers": ["console"], "level": "DEBUG"}
    assert config["formatters"]["json"]["()"] == "apps.observability.logs.JsonFormatter"
    assert config["handlers"]["console"]["filters"] == ["request_id", "sensitive"]
    # gunicorn's own access lines are dropped: the application writes the access log.
    assert config["loggers"]["gunicorn.access"] == {"level": "WARNING", "propagate": False}
