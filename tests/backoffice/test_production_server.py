"""The container's web command, for real: gunicorn with gunicorn.conf.py and production settings.

Proves the configuration file loads, the JSON log configuration reaches gunicorn's own logger,
probes answer through the full stack, and SIGTERM (what ECS sends) stops it cleanly.
"""

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.backoffice.test_production_settings import DELIVERY_SECRET, _env

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, headers={"X-Request-ID": "probe-1"})
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def _post_form(url: str, data: bytes) -> int:
    request = urllib.request.Request(
        url,
        data=data,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-Proto": "https",  # as the load balancer says
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.django_db
def test_gunicorn_serves_probes_logs_json_and_stops_on_sigterm():
    if connection.vendor == "postgresql":
        # The test database: migrated, so the process is ready.
        s = connection.settings_dict
        database_url = f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
        expected_ready = 200
    else:
        # SQLite test databases live in memory; a closed port proves the not-ready path instead.
        database_url = "postgres://nobody:nothing@127.0.0.1:1/nothing"
        expected_ready = 503
    port = _free_port()
    env = _env(
        DATABASE_URL=database_url,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        PORT=str(port),
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="2",
    )
    env["NO_PROXY"] = "127.0.0.1,localhost"
    server = subprocess.Popen(
        [str(GUNICORN), "--config", "gunicorn.conf.py", "backoffice.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, headers, body = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        assert (status, body) == (200, {"status": "ok"})
        assert headers["X-Request-ID"] == "probe-1"

        status, _, body = _get(f"http://127.0.0.1:{port}/readyz")
        assert status == expected_ready, body

        # The delivery-report secret travels in the URL: it must not reach the log. (A report
        # without a status: refused before the database, which this server shares with the
        # test but outside its transaction.)
        report_url = f"http://127.0.0.1:{port}/sms/delivery-reports/{DELIVERY_SECRET}/"
        assert _post_form(report_url, b"id=ATXid_1") == 400
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)

    assert server.returncode == 0
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    messages = [(line["logger"], line["message"]) for line in lines]
    assert ("gunicorn.error", f"Listening at: http://0.0.0.0:{port} ({server.pid})") in messages
    assert any(m.startswith("Booting worker") for _, m in messages)
    # gunicorn's own access lines are dropped; probes that succeed are not access-logged.
    assert not [line for line in lines if line["logger"] == "gunicorn.access"]
    assert DELIVERY_SECRET not in stderr
    report_lines = [line for line in lines if line.get("path", "").startswith("/sms/")]
    assert [line["path"] for line in report_lines] == ["/sms/delivery-reports/[redacted]/"]
