import socket

import pytest
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from tests.notifications.fake_provider import FakeAfricasTalking


@pytest.fixture
def fake_at():
    server = FakeAfricasTalking().start()
    yield server
    server.stop()


@pytest.fixture
def at_settings(settings, fake_at):
    """The real africastalking backend pointed at the local fake provider."""
    settings.SMS_BACKEND = "africastalking"
    settings.AFRICASTALKING_USERNAME = "custorder"
    settings.AFRICASTALKING_API_KEY = "test-api-key"
    settings.AFRICASTALKING_SENDER_ID = "CUSTORDER"
    settings.AFRICASTALKING_API_URL = fake_at.base_url
    settings.SMS_PROVIDER_TIMEOUT_SECONDS = 0.5
    settings.SMS_MAX_ATTEMPTS = 3
    return settings


@pytest.fixture
def refused_url():
    """A local URL where nothing listens (connection refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/version1"


def run_worker(max_tasks: int | None = None) -> int:
    """Run django-tasks-db's worker in this process until the queue is empty."""
    before = DBTaskResult.objects.finished().count()
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()
    return DBTaskResult.objects.finished().count() - before
