"""The admin import flow (upload → preview → confirm) and exports, through the test client."""

import io
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client, override_settings
from django.urls import reverse

from apps.customers.models import Customer
from apps.customers.services import customer_delete
from apps.items.models import Item
from apps.items.services import item_delete
from apps.orders.models import Order
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

from .conftest import (
    IMPORT_EXPORT_PERMS,
    confirm,
    csv_file,
    export,
    export_url,
    import_url,
    page_text,
    upload,
    xlsx_file,
    xlsx_rows,
)

pytestmark = pytest.mark.django_db


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_customer_import_preview_then_confirm(importer_client):
    existing = CustomerFactory(first_name="Old", last_name="Name", phone_number="+254711000010")
    f = csv_file(
        "uuid,first_name,last_name,phone_number\n"
        ",Amina,Wanjiru,'+254711000001\n"
        ",New,Name,0711 000 010\n"
    )
    preview = upload(importer_client, "customer", f)
    assert preview.status_code == 200
    text = page_text(preview)
    assert "2 rows: 1 new , 1 to update , 0 unchanged , 0 invalid" in text
    assert "Old → New" in text
    assert Customer.objects.count() == 1  # the preview writes nothing

    done = confirm(importer_client, "customer", preview)
    assert done.status_code == 302
    assert _messages(done) == ["Import finished: 1 new, 1 updated and 0 unchanged customers."]
    existing.refresh_from_db()
    assert existing.first_name == "New"
    assert str(Customer.objects.get(first_name="Amina").phone_number) == "+254711000001"


def test_invalid_rows_are_listed_and_nothing_is_written(importer_client):
    f = csv_file(
        "first_name,last_name,phone_number\n"
        "Amina,Wanjiru,+254711000001\n"
        ",Otieno,+254711000002\n"
        "Chebet,Kiprono,not-a-phone\n"
    )
    preview = upload(importer_client, "customer", f)
    assert preview.status_code == 200
    assert not preview.context["can_confirm"]
    text = page_text(preview)
    assert "1 new" in text and "2 invalid" in text
    assert preview.context["job"].status == "rejected"
    assert "Rejected: 2 invalid rows: nothing was imported." in text
    assert "Only if every row is valid (this import) nothing (2 of the 3 rows are invalid)" in text
    assert (
        "skip the invalid ones the 1 valid rows (1 new, 0 to update, 0 unchanged), "
        "every row but rows 3, 4" in text
    )
    lines = preview.context["result"].error_lines
    assert lines[0] == (3, "first_name", "first name is required")
    assert lines[1][0:2] == (4, "phone_number")
    assert "Traceback" not in preview.content.decode()
    assert Customer.objects.count() == 0


def test_item_import_xlsx_with_bad_price(importer_client):
    f = xlsx_file(
        [["name", "size", "price"], ["Shirt", "M", 100], ["Cap", "S", "abc"], ["Hat", "Q", 5]]
    )
    preview = upload(importer_client, "item", f)
    lines = preview.context["result"].error_lines
    assert (3, "price", "price is not a number") in lines
    assert lines[-1][0:2] == (4, "size")
    assert Item.objects.count() == 0


def test_order_import_flow_with_references_by_phone_and_name(importer_client):
    customer = CustomerFactory(phone_number="+254711000001")
    item = ItemFactory(name="Shirt", size="M", price=Decimal("250.00"))
    f = csv_file(
        "customer_phone,item_name,item_size,quantity\n"
        "0711 000 001,Shirt,m,2\n"
        "'+254711000001,Shirt,M,1\n"
    )
    preview = upload(importer_client, "order", f)
    assert "2 rows: 2 new" in page_text(preview)
    done = confirm(importer_client, "order", preview)
    assert done.status_code == 302
    orders = Order.objects.order_by("quantity")
    assert [(o.customer_id, o.item_id, o.quantity, o.unit_price) for o in orders] == [
        (customer.pk, item.pk, 1, Decimal("250.00")),
        (customer.pk, item.pk, 2, Decimal("250.00")),
    ]


def test_order_import_unknown_references_have_plain_messages(importer_client):
    ItemFactory(name="Shirt", size="M")
    f = csv_file(
        "customer_phone,item_name,item_size,quantity\n"
        "+254700000001,Shirt,M,1\n"
        "+254700000001,Shirt,XL,0\n"
    )
    preview = upload(importer_client, "order", f)
    lines = preview.context["result"].error_lines
    assert (2, "customer_phone", "no customer with phone +254700000001") in lines
    assert (3, "quantity", "quantity must be at least 1") in lines
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    ("model", "file_format"), [(m, f) for m in ("customer", "item", "order") for f in (0, 1)]
)
def test_round_trip_export_import_changes_nothing(importer_client, model, file_format):
    OrderFactory.create_batch(3, item=ItemFactory(price=Decimal("19.99")))
    ItemFactory(name="=SUM(A1)", size="L")
    CustomerFactory(first_name="@admin", last_name="-minus")
    before = {
        "customer": list(
            Customer.objects.values_list(
                "uuid", "first_name", "last_name", "phone_number", "date_modified"
            )
        ),
        "item": list(Item.objects.values_list("uuid", "name", "size", "price", "date_modified")),
        "order": list(
            Order.objects.values_list(
                "uuid", "customer_id", "item_id", "quantity", "unit_price", "date_modified"
            )
        ),
    }
    content = export(importer_client, model, file_format)
    if file_format == 0:
        f = csv_file(content.decode("utf-8-sig"), name=f"{model}s.csv")
    else:
        # The exported workbook itself, as a person would upload it back.
        f = io.BytesIO(content)
        f.name = f"{model}s.xlsx"
    preview = upload(importer_client, model, f)
    report = preview.context["result"].report
    assert report.errors == []
    assert report.new == report.updated == 0 and report.unchanged > 0
    assert "Nothing to change" in page_text(preview)
    done = confirm(importer_client, model, preview)
    assert done.status_code == 302
    assert "0 new, 0 updated" in _messages(done)[0]
    after = {
        "customer": list(
            Customer.objects.values_list(
                "uuid", "first_name", "last_name", "phone_number", "date_modified"
            )
        ),
        "item": list(Item.objects.values_list("uuid", "name", "size", "price", "date_modified")),
        "order": list(
            Order.objects.values_list(
                "uuid", "customer_id", "item_id", "quantity", "unit_price", "date_modified"
            )
        ),
    }
    assert after == before


def test_sms_checkbox_is_off_by_default_and_queues_nothing(importer_client):
    from apps.notifications.models import SmsMessage

    customer = CustomerFactory()
    item = ItemFactory()
    page = importer_client.get(import_url("order"))
    assert page.context["form"].fields["send_confirmations"].initial is False
    assert "Send SMS confirmations" in page.content.decode()
    f = csv_file(f"customer_uuid,item_uuid,quantity\n{customer.uuid},{item.uuid},1\n")
    confirm(importer_client, "order", upload(importer_client, "order", f))
    assert Order.objects.count() == 1
    assert SmsMessage.objects.count() == 0


def test_sms_checkbox_ticked_queues_one_confirmation_per_new_order(importer_client):
    from apps.notifications.models import SmsMessage

    customer = CustomerFactory()
    item = ItemFactory()
    existing = OrderFactory(customer=customer, item=item)
    f = csv_file(
        "uuid,customer_uuid,item_uuid,quantity\n"
        f"{existing.uuid},{customer.uuid},{item.uuid},1\n"
        f",{customer.uuid},{item.uuid},2\n"
        f",{customer.uuid},{item.uuid},3\n"
    )
    preview = upload(importer_client, "order", f, send_confirmations="on")
    assert preview.context["job"].options["send_confirmations"] is True
    assert "Each new order's customer will get an SMS confirmation." in page_text(preview)
    done = confirm(importer_client, "order", preview)
    assert done.status_code == 302
    new_orders = set(Order.objects.exclude(pk=existing.pk).values_list("pk", flat=True))
    assert set(SmsMessage.objects.values_list("order_id", flat=True)) == new_orders
    assert SmsMessage.objects.count() == 2


def test_data_changed_between_preview_and_confirm_imports_nothing(importer_client):
    customer = CustomerFactory(phone_number="+254711000001")
    item = ItemFactory(name="Shirt", size="M")
    f = csv_file(
        "customer_phone,item_name,item_size,quantity\n+254711000001,Shirt,M,1\n"
        "+254711000001,Shirt,M,2\n"
    )
    preview = upload(importer_client, "order", f)
    assert preview.context["result"].report.new == 2
    item_delete(item=item)
    customer_delete(customer=customer)
    done = confirm(importer_client, "order", preview)
    # The confirmation refuses and the job shows the file as it would import now: all invalid.
    assert done.status_code == 302
    assert _messages(done)[0].startswith("The data changed since the preview")
    fresh = importer_client.get(done["Location"])
    assert (fresh.context["job"].status, fresh.context["job"].invalid) == ("rejected", 2)
    assert fresh.context["result"].report.new == 0
    assert not fresh.context["can_confirm"]
    assert Order.objects.count() == 0


def test_preview_is_binding_a_customer_created_meanwhile_is_not_overwritten(importer_client):
    f = csv_file("first_name,last_name,phone_number\nAmina,Wanjiru,+254711000001\n")
    preview = upload(importer_client, "customer", f)
    assert preview.context["result"].report.new == 1
    someone = CustomerFactory(first_name="Zawadi", phone_number="+254711000001")
    done = confirm(importer_client, "customer", preview)
    assert done.status_code == 302
    assert _messages(done)[0].startswith("The data changed since the preview")
    fresh = importer_client.get(done["Location"])
    report = fresh.context["result"].report
    assert (report.new, report.updated) == (0, 1)  # now it would overwrite: the operator decides
    assert fresh.context["can_confirm"]
    someone.refresh_from_db()
    assert someone.first_name == "Zawadi"
    # Confirming the fresh preview writes what it shows.
    again = confirm(importer_client, "customer", fresh)
    assert again.status_code == 302
    someone.refresh_from_db()
    assert someone.first_name == "Amina"


def test_a_job_is_confirmed_once_and_only_by_its_owner(importer_client, db):
    f = csv_file("first_name,last_name,phone_number\nAmina,Wanjiru,+254711000001\n")
    preview = upload(importer_client, "customer", f)
    job = preview.context["job"]
    url = reverse("admin:spreadsheets_job_confirm", args=[job.pk])
    other = Client()
    other.force_login(UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS + IMPORT_EXPORT_PERMS))
    assert other.post(url).status_code == 404  # another person's job does not exist for them
    page = reverse("admin:spreadsheets_spreadsheetjob_change", args=[job.pk])
    assert other.get(page).status_code == 404
    assert importer_client.post(url).status_code == 302
    assert Customer.objects.count() == 1
    second = importer_client.post(url)
    assert second.status_code == 302
    assert any("cannot be confirmed: it is succeeded" in m for m in _messages(second))
    assert Customer.objects.count() == 1
    # The old confirm URL of django-import-export writes nothing whatever it is sent.
    old = importer_client.post(
        reverse("admin:customers_customer_process_import"),
        {"format": "9", "resource": "x", "import_file_name": "../../etc/passwd"},
    )
    assert old.status_code == 302
    assert Customer.objects.count() == 1


def test_import_and_export_need_their_own_permissions(staff_client, importer_client):
    changelist = reverse("admin:orders_order_changelist")
    for model in ("customer", "item", "order"):
        assert staff_client.get(import_url(model)).status_code == 403
        assert staff_client.get(export_url(model)).status_code == 403
        assert (
            staff_client.post(export_url(model), {"resource": "0", "format": "0"}).status_code
            == 403
        )
        assert importer_client.get(import_url(model)).status_code == 200
        assert importer_client.get(export_url(model)).status_code == 200
    assert staff_client.get(changelist).context["has_import_permission"] is False
    assert importer_client.get(changelist).context["has_import_permission"] is True


def test_view_only_user_with_import_permission_cannot_import(db):
    user = UserFactory(
        is_staff=True, perms=["orders.view_order", "orders.import_order", "orders.export_order"]
    )
    client = Client()
    client.force_login(user)
    assert client.get(import_url("order")).status_code == 403
    assert client.get(export_url("order")).status_code == 200


def test_import_page_links_the_template_and_sample_files(importer_client):
    page = importer_client.get(import_url("order")).content.decode()
    url = reverse("admin:orders_order_import_template", args=["orders-sample.csv"])
    assert url in page
    response = importer_client.get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert body.startswith(
        "uuid,customer_uuid,customer_phone,item_uuid,item_name,item_size,quantity"
    )
    missing = reverse("admin:orders_order_import_template", args=["settings.py"])
    assert importer_client.get(missing).status_code == 404


def test_sample_files_import_cleanly_in_order(importer_client):
    for model in ("customer", "item", "order"):
        url = reverse(f"admin:{model}s_{model}_import_template", args=[f"{model}s-sample.csv"])
        content = b"".join(importer_client.get(url).streaming_content)
        preview = upload(importer_client, model, csv_file(content.decode(), f"{model}s-sample.csv"))
        assert preview.context["result"].report.errors == [], model
        assert confirm(importer_client, model, preview).status_code == 302
    assert (Customer.objects.count(), Item.objects.count(), Order.objects.count()) == (3, 3, 3)


def test_order_export_respects_filters_and_has_numeric_totals(importer_client):
    OrderFactory(quantity=3, item=ItemFactory(size="M", price=Decimal("12.50")))
    OrderFactory(quantity=1, item=ItemFactory(size="S", price=Decimal("1.00")))
    rows = xlsx_rows(export(importer_client, "order", 1, "item__size__exact=M"))
    header, data = rows[0], rows[1:]
    assert len(data) == 1
    line = dict(zip(header, data[0], strict=True))
    assert line["total"] == 37.5 and isinstance(line["total"], float | int)
    assert line["quantity"] == 3
    # XLSX cells are typed: text is never run as a formula, so it is written as it is.
    assert line["customer_phone"].startswith("+254")
    text = export(importer_client, "order", 0, "item__size__exact=S").decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("uuid,number,external_reference,customer_uuid,customer_phone")
    assert ",1.00,1.00," in lines[1]


def test_csv_export_escapes_formulas(importer_client):
    CustomerFactory(first_name='=HYPERLINK("http://x")', last_name="@SUM")
    text = export(importer_client, "customer", 0).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",'@SUM," in text


@override_settings(IMPORT_PREVIEW_ROWS=3)
def test_big_preview_shows_the_first_rows_and_all_counts(importer_client):
    rows = "".join(f"F{i},L{i},+2547110{i:05d}\n" for i in range(30))
    preview = upload(
        importer_client, "customer", csv_file("first_name,last_name,phone_number\n" + rows)
    )
    text = page_text(preview)
    assert "30 rows: 30 new" in text
    assert "Showing the first 3 of the 30 valid rows." in text
    assert len(preview.context["result"].rows) == 3


def test_imported_rows_are_in_the_audit_trail_with_user_and_file(importer_client, importer):
    customer = CustomerFactory(first_name="Old", phone_number="+254711000001")
    item = ItemFactory(name="Shirt", size="M")
    preview = upload(
        importer_client,
        "customer",
        csv_file("first_name,last_name,phone_number\nNew,Name,+254711000001\n", "people.csv"),
    )
    confirm(importer_client, "customer", preview)
    preview = upload(
        importer_client,
        "order",
        csv_file(f"customer_uuid,item_uuid,quantity\n{customer.uuid},{item.uuid},2\n", "o.csv"),
    )
    confirm(importer_client, "order", preview)
    changed = customer.history.latest()
    assert (changed.history_type, changed.first_name) == ("~", "New")
    assert (changed.history_user, changed.history_channel, changed.history_change_reason) == (
        importer,
        "import",
        "people.csv",
    )
    order = Order.objects.get()
    created = order.history.get()
    assert (created.history_type, created.quantity, created.uuid) == ("+", 2, order.uuid)
    assert (created.history_user, created.history_channel, created.history_change_reason) == (
        importer,
        "import",
        "o.csv",
    )
