"""Heavy reads on a real streaming replica (apps/core/replica.py): where reads and writes go, a
replica that lags (replay paused) or is down, read your writes, and the readers that use it."""

from __future__ import annotations

import io
import logging
import time

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.core.replica import PRIMARY, REPLICA, heavy_read_alias, note_write, replica_reads
from apps.customers.models import Customer
from apps.customers.resources import CUSTOMER_SHEET
from apps.customers.services import customer_create
from apps.spreadsheets.jobs.create import job_export_create
from apps.spreadsheets.jobs.run import job_run
from tests.factories import CustomerFactory, OrderFactory, UserFactory
from tests.service_fixtures import replica_caught_up

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # One streaming replica for the run: a test pausing its replay must not meet another's.
    pytest.mark.xdist_group("streaming-replica"),
]


@pytest.fixture
def replica_settings(settings):
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.5
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0  # decide afresh at every block
    settings.DATABASE_REPLICA_READ_YOUR_WRITES_SECONDS = 30
    return settings


def _queries(alias):
    return CaptureQueriesContext(connections[alias])


def test_without_a_replica_heavy_reads_use_the_primary():
    CustomerFactory()
    with _queries(PRIMARY) as primary, replica_reads() as alias:
        assert Customer.objects.count() == 1
    assert alias == PRIMARY
    assert len(primary.captured_queries) == 1


def test_heavy_reads_go_to_the_replica_and_writes_to_the_primary(replica, replica_settings):
    customer = CustomerFactory(first_name="Before")
    replica_caught_up()
    with _queries(REPLICA) as on_replica, _queries(PRIMARY) as on_primary:
        with replica_reads() as alias:
            assert alias == REPLICA
            read = Customer.objects.get(pk=customer.pk)
            assert read._state.db == REPLICA
            # A write inside the block, and the save of an object read from the replica, go to
            # the primary (the replica is read-only: PostgreSQL would refuse them there).
            created = customer_create(
                first_name="Ada", last_name="L", phone_number="+254700000321", actor=None
            )
        # Outside the block reads are the primary's again.
        assert Customer.objects.filter(pk=created.pk).exists()
    replica_sql = " ".join(q["sql"] for q in on_replica.captured_queries)
    assert "SELECT" in replica_sql and "INSERT" not in replica_sql
    assert any("INSERT" in q["sql"] for q in on_primary.captured_queries)
    replica_caught_up()
    with replica_reads():
        assert Customer.objects.filter(pk=created.pk).exists()


def test_a_lagging_replica_is_left_for_the_primary(replica, replica_settings, caplog):
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        customer = CustomerFactory(first_name="Fresh")  # committed on the primary only
        time.sleep(1.0)
        with caplog.at_level(logging.WARNING, logger="apps.core.replica"), replica_reads() as alias:
            found = Customer.objects.filter(pk=customer.pk).exists()
        assert alias == PRIMARY
        assert found
        assert any("read replica lags" in r.getMessage() for r in caplog.records)
        # The replica itself does not have the row yet: reading there would have missed it.
        assert not Customer.objects.using(REPLICA).filter(pk=customer.pk).exists()
    finally:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
    replica_caught_up()
    with replica_reads() as alias:
        assert Customer.objects.filter(pk=customer.pk).exists()
    assert alias == REPLICA


def test_a_replica_that_is_down_is_left_for_the_primary(replica, replica_settings, caplog):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    connections[REPLICA].close()
    connections[REPLICA].settings_dict["PORT"] = closed
    CustomerFactory()
    with caplog.at_level(logging.WARNING, logger="apps.core.replica"):
        started = time.monotonic()
        with replica_reads() as alias:
            assert Customer.objects.count() == 1
    assert alias == PRIMARY
    assert time.monotonic() - started < 3
    assert any("read replica unreachable" in r.getMessage() for r in caplog.records)


def test_a_person_reads_their_own_writes_from_the_primary(replica, replica_settings):
    writer = UserFactory(perms=["customers.view_customer", "customers.add_customer"])
    other = UserFactory()
    client = Client()
    client.force_login(writer)
    response = client.post(
        "/v1/customers",
        {"first_name": "Mo", "last_name": "K", "phone_number": "+254700000999"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert heavy_read_alias(user=writer) == PRIMARY  # within the window
    assert heavy_read_alias(user=other) == REPLICA
    assert heavy_read_alias(user=None) == REPLICA
    replica_settings.DATABASE_REPLICA_READ_YOUR_WRITES_SECONDS = 0.2
    note_write(other)
    time.sleep(0.3)
    assert heavy_read_alias(user=other) == REPLICA  # the window has passed


def test_a_refused_write_does_not_count_as_a_write(replica, replica_settings):
    viewer = UserFactory(perms=["customers.view_customer"])
    client = Client()
    client.force_login(viewer)
    assert client.post("/v1/customers", {}, content_type="application/json").status_code == 403
    assert heavy_read_alias(user=viewer) == REPLICA


def test_dashboard_history_and_list_counts_read_the_replica(replica, replica_settings):
    OrderFactory.create_batch(3)
    replica_caught_up()
    admin = UserFactory(is_superuser=True)
    client = Client()
    client.force_login(admin)
    with _queries(REPLICA) as on_replica:
        assert client.get("/admin/").status_code == 200
    history = [q["sql"] for q in on_replica.captured_queries]
    assert any("orders_order" in sql for sql in history), history
    with _queries(REPLICA) as on_replica:
        assert client.get("/admin/customers/customer/").status_code == 200
    assert any("COUNT(" in q["sql"] for q in on_replica.captured_queries)


def test_an_export_job_reads_the_replica(replica, replica_settings):
    CustomerFactory.create_batch(4)
    owner = UserFactory(is_superuser=True)
    job = job_export_create(
        registration=CUSTOMER_SHEET, arguments={}, file_format="csv", actor=owner
    )
    replica_caught_up()
    with _queries(REPLICA) as on_replica, _queries(PRIMARY) as on_primary:
        assert job_run(job.pk) == "succeeded"
    on_replica_sql = " ".join(q["sql"] for q in on_replica.captured_queries)
    assert "customers_customer" in on_replica_sql
    assert "UPDATE" not in on_replica_sql
    # The rows themselves: CSV exports read with COPY on the connection the router chose.
    on_primary_sql = " ".join(q["sql"] for q in on_primary.captured_queries)
    assert "set_config('TimeZone'" in on_replica_sql
    assert "set_config('TimeZone'" not in on_primary_sql
    assert "customers_customer" not in on_primary_sql
    # The job's own rows (claim, progress, result) are written on the primary.
    assert any("UPDATE" in q["sql"] for q in on_primary.captured_queries)
    job.refresh_from_db()
    assert job.rows_total == 4


def test_a_streamed_csv_export_reads_the_replica_unless_its_reader_just_wrote(
    replica, replica_settings
):
    CustomerFactory.create_batch(3)
    person = UserFactory(is_superuser=True)
    client = Client()
    client.force_login(person)
    replica_caught_up()
    url = "/admin/customers/customer/export/"
    with _queries(REPLICA) as on_replica, _queries(PRIMARY) as on_primary:
        response = client.post(url, {"resource": "0", "format": "0"})
        body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert body.count(b"\n") == 4  # header and three rows
    assert "customers_customer" in " ".join(q["sql"] for q in on_replica.captured_queries)
    assert "customers_customer" not in " ".join(q["sql"] for q in on_primary.captured_queries)
    # Right after this person's own write, their export reads the primary (it has the write).
    note_write(person)
    with _queries(REPLICA) as on_replica:
        response = client.post(url, {"resource": "0", "format": "0"})
        assert b"".join(response.streaming_content).count(b"\n") == 4
    assert "customers_customer" not in " ".join(q["sql"] for q in on_replica.captured_queries)


def test_export_file_reads_the_replica(replica, replica_settings, tmp_path):
    CustomerFactory.create_batch(5)
    replica_caught_up()
    path = tmp_path / "customers.csv"
    with _queries(REPLICA) as on_replica, _queries(PRIMARY) as on_primary:
        call_command(
            "export_file", "customers", str(path), stdout=io.StringIO(), stderr=io.StringIO()
        )
    assert path.read_bytes().count(b"\n") == 6
    assert "customers_customer" in " ".join(q["sql"] for q in on_replica.captured_queries)
    primary_sql = " ".join(q["sql"] for q in on_primary.captured_queries)
    assert "customers_customer" not in primary_sql
    assert "spreadsheets_" in primary_sql  # the job's record
