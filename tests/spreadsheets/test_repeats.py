"""Importing twice doubles nothing: rows with a key are matched, and a file identical to one
already imported that would create rows again says when and by whom, and goes on only when the
operator asks for it again."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.orders.models import Order
from apps.spreadsheets.models import SpreadsheetJob
from tests.factories import CustomerFactory, ItemFactory

from .conftest import confirm, csv_file, page_text, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def keyless_orders():
    customer = CustomerFactory(phone_number="+254711000001")
    item = ItemFactory(name="Hoodie", size="XL")
    text = (
        "customer_phone,item_name,item_size,quantity\n"
        f"{customer.phone_number},Hoodie,XL,1\n{customer.phone_number},Hoodie,XL,2\n"
    )
    return text, item


def _messages(response):
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]


def test_an_identical_file_that_would_create_rows_again_asks_first(
    importer_client, importer, keyless_orders
):
    text, _ = keyless_orders
    first = upload(importer_client, "order", csv_file(text, "orders.csv"))
    assert first.context["repeat_of"] is None
    confirm(importer_client, "order", first)
    assert Order.objects.count() == 2
    earlier = SpreadsheetJob.objects.get()

    again = upload(importer_client, "order", csv_file(text, "orders-again.csv"))
    repeat = again.context["repeat_of"]
    assert repeat["job"] == earlier.pk and repeat["new"] == 2
    assert repeat["who"] == importer.username
    shown = page_text(again)
    assert "This file is identical to orders.csv , imported on" in shown
    assert f"by {importer.username}. Importing it again would create 2 new orders" in shown
    assert reverse("admin:spreadsheets_spreadsheetjob_change", args=[earlier.pk]) in (
        again.content.decode()
    )
    refused = confirm(importer_client, "order", again)
    assert "This file was imported before" in _messages(refused)[0]
    assert Order.objects.count() == 2
    job = again.context["job"]
    done = importer_client.post(
        reverse("admin:spreadsheets_job_confirm", args=[job.pk]), {"import_again": "1"}
    )
    assert done.status_code == 302
    assert Order.objects.count() == 4


def test_a_file_whose_rows_match_what_is_stored_is_just_unchanged(importer_client):
    text = "first_name,last_name,phone_number\nAmina,Wanjiru,+254711000001\n"
    confirm(importer_client, "customer", upload(importer_client, "customer", csv_file(text)))
    again = upload(importer_client, "customer", csv_file(text))
    report = again.context["result"].report
    assert (report.new, report.unchanged) == (0, 1)
    assert again.context["repeat_of"] is None


def test_the_command_refuses_a_repeat_unless_asked(tmp_path, keyless_orders):
    text, _ = keyless_orders
    path = tmp_path / "orders.csv"
    path.write_text(text)
    call_command("import_file", "orders", str(path), stdout=io.StringIO())
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_file", "orders", str(path), stdout=io.StringIO(), stderr=err)
    assert exit_.value.code == 1
    assert "This file is identical to orders.csv" in err.getvalue()
    assert "would create 2 orders" in err.getvalue()
    assert Order.objects.count() == 2
    call_command("import_file", "orders", str(path), "--import-again", stdout=io.StringIO())
    assert Order.objects.count() == 4
