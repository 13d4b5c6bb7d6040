"""Jobs need no admin: every sheet is in the registry, an export job stores the list's filters
as its selector's arguments, and the worker runs jobs with the model admins gone."""

import io
from contextlib import contextmanager
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse

from apps.customers.models import Customer
from apps.customers.resources import customer_import_rows
from apps.orders.models import Order
from apps.orders.resources import ORDER_SHEET, order_import_rows
from apps.orders.transitions import order_transition
from apps.spreadsheets.jobs.create import job_export_create
from apps.spreadsheets.jobs.run import job_run
from apps.spreadsheets.models import JobStatus, SpreadsheetJob
from apps.spreadsheets.registry import sheet_names, sheet_registration, sheet_registration_named
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

from .conftest import csv_file, csv_table, export_url, upload

pytestmark = pytest.mark.django_db


def test_each_app_registers_its_sheet():
    assert sheet_names() == ["customers", "items", "orders"]
    assert sheet_registration("orders.order") is ORDER_SHEET
    assert sheet_registration_named("orders").import_rows is order_import_rows
    assert sheet_registration("customers.customer").import_rows is customer_import_rows
    assert [o.name for o in ORDER_SHEET.options] == ["send_confirmations"]


@contextmanager
def admin_gone(model):
    model_admin = admin.site.get_model_admin(model)
    admin.site.unregister(model)
    try:
        yield
    finally:
        admin.site.register(model, type(model_admin))


@pytest.fixture
def orders():
    hoodie = ItemFactory(name="Hoodie", size="XL", price=Decimal("2500.00"))
    cap = ItemFactory(name="Cap", size="M", price=Decimal("100.00"))
    amina = CustomerFactory(first_name="Amina", last_name="Wanjiru")
    return {
        "big": OrderFactory(customer=amina, item=hoodie, quantity=4),
        "small": OrderFactory(customer=amina, item=cap, quantity=1),
        "other": OrderFactory(item=hoodie, quantity=1),
    }


def _export_job(client, query: str) -> SpreadsheetJob:
    response = client.post(export_url("order", query), {"resource": "0", "format": "1"})
    assert response.status_code == 302
    return SpreadsheetJob.objects.get(kind="export")


def test_an_export_job_stores_the_lists_filters_as_selector_arguments(importer_client, orders):
    amina = orders["big"].customer
    query = (
        f"item__size__exact=XL&customer__id__exact={amina.pk}&total_from=1000&total_to=20000"
        "&date_created_from=2000-01-01&q=wanjiru&o=-7"
    )
    job = _export_job(importer_client, query)
    arguments = job.options["selector"]
    assert arguments["filters"]["item__size__exact"] == ["XL"]
    assert arguments["filters"]["customer__id__exact"] == [str(amina.pk)]
    assert arguments["filters"]["total__gte"] == ["1000"]
    assert arguments["filters"]["total__lte"] == ["20000"]
    assert arguments["filters"]["date_created__gte"][0].startswith("2000-01-01T00:00:00")
    assert arguments["search"] == "wanjiru"
    assert set(arguments) == {"filters", "search", "ordering"}
    assert arguments["ordering"][0] == "-total"
    # The same rows as the list shows.
    assert list(ORDER_SHEET.export_selector(**arguments).values_list("pk", flat=True)) == [
        orders["big"].pk
    ]


def test_an_export_searches_as_the_list_does(importer_client, orders):
    """The search text is read by the orders' search rules: a phone in its local form, and a
    name's words in any order, find what the list finds."""
    amina = orders["big"].customer
    local_phone = "0" + str(amina.phone_number)[4:]
    for text in (local_phone, "wanjiru amina"):
        listed = importer_client.get(reverse("admin:orders_order_changelist"), {"q": text})
        assert listed.status_code == 200
        shown = {o.pk for o in listed.context["cl"].result_list}
        assert shown == {orders["big"].pk, orders["small"].pk}, text
        SpreadsheetJob.objects.all().delete()
        arguments = _export_job(importer_client, urlencode({"q": text})).options["selector"]
        exported = set(ORDER_SHEET.export_selector(**arguments).values_list("pk", flat=True))
        assert exported == shown, text


def test_the_worker_runs_an_export_without_the_admin(orders):
    user = UserFactory(is_staff=True)
    job = job_export_create(
        registration=ORDER_SHEET,
        arguments={"filters": {"item__size__exact": ["XL"]}, "ordering": ["quantity"]},
        file_format="csv",
        actor=user,
    )
    with admin_gone(Order):
        assert job_run(job.pk) == JobStatus.SUCCEEDED
    job.refresh_from_db()
    with default_storage.open(job.stored_file, "rb") as handle:
        rows = csv_table(handle.read())
    assert [r[0] for r in rows[1:]] == [str(orders["other"].uuid), str(orders["big"].uuid)]


def test_the_worker_checks_and_writes_an_import_without_the_admin(importer_client):
    preview = upload(
        importer_client,
        "customer",
        csv_file("first_name,last_name,phone_number\nAmina,Wanjiru,+254711000001\n"),
    )
    job = preview.context["job"]
    job.refresh_from_db()
    SpreadsheetJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, phase="write")
    with admin_gone(Customer):
        assert job_run(job.pk) == JobStatus.SUCCEEDED
    assert Customer.objects.get().first_name == "Amina"


def test_commands_record_who_ran_them(tmp_path):
    user = UserFactory(username="clerk")
    path = tmp_path / "people.csv"
    path.write_text("first_name,last_name,phone_number\nAmina,Wanjiru,+254711000001\n")
    call_command("import_file", "customers", str(path), "--as", "clerk", stdout=io.StringIO())
    call_command("export_file", "customers", str(tmp_path / "out.csv"), stdout=io.StringIO())
    imported, exported = SpreadsheetJob.objects.order_by("pk")
    assert (imported.owner, exported.owner) == (user, None)
    customer = Customer.objects.get()
    assert (customer.history.get().history_user, customer.history.get().history_channel) == (
        user,
        "import",
    )


def test_an_export_page_link_still_answers_with_the_admin_back(importer_client, orders):
    job = _export_job(importer_client, "item__size__exact=M")
    page = importer_client.get(reverse("admin:spreadsheets_spreadsheetjob_change", args=[job.pk]))
    assert page.context["download_available"]


def test_a_filter_an_export_cannot_reproduce_is_a_message(rf):
    from django.contrib.admin import SimpleListFilter

    from apps.spreadsheets.list_arguments import UnexportableFilterError, filter_lookups

    class BigSpenders(SimpleListFilter):
        title = "big spenders"
        parameter_name = "big"

        def lookups(self, request, model_admin):
            return [("yes", "yes")]

        def queryset(self, request, queryset):
            return queryset

    spec = BigSpenders(rf.get("/"), {"big": ["yes"]}, Order, admin.site.get_model_admin(Order))
    with pytest.raises(UnexportableFilterError, match="“big spenders” cannot be applied"):
        filter_lookups(spec)


def test_an_order_export_says_why_an_order_was_cancelled(tmp_path, settings):
    settings.ORDER_CANCEL_REASONS = ["out_of_stock=Out of stock"]
    user = UserFactory(is_superuser=True)
    coded, other, open_order = OrderFactory(), OrderFactory(), OrderFactory()
    order_transition(order=coded, to="cancelled", reason_code="out_of_stock", actor=user)
    order_transition(order=other, to="cancelled", reason="Customer moved, call\nFriday", actor=user)
    path = tmp_path / "orders.csv"
    call_command("export_file", "orders", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    header, *rows = csv_table(path.read_bytes())
    assert header[-4:-1] == ["status", "cancel_reason", "cancel_reason_text"]
    by_number = {row[header.index("number")]: row for row in rows}
    reason = header.index("cancel_reason")
    assert by_number[str(coded.number)][reason : reason + 2] == ["out_of_stock", ""]
    assert by_number[str(other.number)][reason : reason + 2] == [
        "other",
        "Customer moved, call\nFriday",
    ]
    assert by_number[str(open_order.number)][reason : reason + 2] == ["", ""]


def test_an_export_of_a_list_filtered_by_statuses_and_reason_writes_what_the_list_shows(
    importer_client, settings
):
    """Every filter of the order list reaches the export: several statuses at once, and the
    cancellation reason (a filter of the orders' own)."""
    settings.ORDER_CANCEL_REASONS = ["out_of_stock=Out of stock", "duplicate=Duplicate"]
    user = UserFactory(is_superuser=True)
    stock, duplicate, other = OrderFactory(), OrderFactory(), OrderFactory()
    confirmed, placed = OrderFactory(), OrderFactory()
    order_transition(order=stock, to="cancelled", reason_code="out_of_stock", actor=user)
    order_transition(order=duplicate, to="cancelled", reason_code="duplicate", actor=user)
    order_transition(order=other, to="cancelled", reason="Moved away", actor=user)
    order_transition(order=confirmed, to="confirmed", actor=user)
    cases = {
        "cancel_reason=out_of_stock": {stock.pk},
        "status__exact=cancelled&status__exact=confirmed": {
            stock.pk,
            duplicate.pk,
            other.pk,
            confirmed.pk,
        },
        "status__exact=cancelled&cancel_reason=other": {other.pk},
    }
    for query, expected in cases.items():
        listed = importer_client.get(f"{reverse('admin:orders_order_changelist')}?{query}")
        assert listed.status_code == 200
        assert {o.pk for o in listed.context["cl"].result_list} == expected, query
        SpreadsheetJob.objects.all().delete()
        arguments = _export_job(importer_client, query).options["selector"]
        exported = set(ORDER_SHEET.export_selector(**arguments).values_list("pk", flat=True))
        assert exported == expected, (query, arguments)
    assert placed.pk not in expected
