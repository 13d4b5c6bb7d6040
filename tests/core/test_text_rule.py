"""One text rule on every path: /v1, the admin forms, the services and the import accept the
same text, and ``text_report`` lists what was stored before the rule held."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from apps.core.text import text_problem, text_visible
from apps.customers.models import Customer
from apps.customers.resources import customer_import_rows
from apps.customers.services import customer_create, customer_update
from apps.items.models import Item
from apps.items.services import item_create
from apps.orders.rules import order_note_clean
from apps.spreadsheets.readers import Table
from tests.api_helpers import assert_error
from tests.factories import CustomerFactory, ItemFactory

pytestmark = pytest.mark.django_db

REFUSED = ["A\x01B", "tab\there", "line\nbreak", "C1\x85inside", "nonchar\ufffe", "plane\U0001fffe"]
ACCEPTED = ["_x0041_", "=1+1", "😀", "مرحبا", "\u202eRTL", "'quoted", "Zoë"]


@pytest.mark.parametrize("text", REFUSED)
def test_the_api_refuses_what_the_rule_refuses(api, text):
    body = assert_error(
        api.post(
            "/v1/customers",
            {"first_name": text, "last_name": "B", "phone_number": "+254711000001"},
            format="json",
        ),
        400,
    )
    assert "first_name" in body["errors"]
    assert Customer.objects.count() == 0
    body = assert_error(
        api.post("/v1/items", {"name": text, "size": "M", "price": "1.00"}, format="json"), 400
    )
    assert "name" in body["errors"]


@pytest.mark.parametrize("text", ACCEPTED)
def test_the_api_accepts_what_the_rule_accepts(api, text):
    response = api.post(
        "/v1/customers",
        {"first_name": text, "last_name": "B", "phone_number": "+254711000001"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Customer.objects.get().first_name == text


@pytest.mark.parametrize("text", REFUSED)
def test_the_admin_forms_refuse_what_the_rule_refuses(staff_client, text):
    response = staff_client.post(
        reverse("admin:customers_customer_add"),
        {"first_name": text, "last_name": "B", "phone_number": "+254711000001"},
    )
    assert response.status_code == 200
    assert "This text contains a" in response.content.decode()
    response = staff_client.post(
        reverse("admin:items_item_add"), {"name": text, "size": "M", "price": "1.00"}
    )
    assert response.status_code == 200
    assert Customer.objects.count() == Item.objects.count() == 0


@pytest.mark.parametrize("text", REFUSED)
def test_the_services_refuse_what_the_rule_refuses(text):
    with pytest.raises(ValidationError) as caught:
        customer_create(first_name=text, last_name="B", phone_number="+254711000001")
    assert "first_name" in caught.value.message_dict
    with pytest.raises(ValidationError):
        item_create(name=text, size="M", price="1.00")
    customer = CustomerFactory()
    with pytest.raises(ValidationError):
        customer_update(customer=customer, data={"last_name": text})


@pytest.mark.parametrize("text", REFUSED)
def test_the_import_refuses_what_the_rule_refuses_in_new_rows(text):
    report = customer_import_rows(
        table=Table.from_rows(
            ["first_name", "last_name", "phone_number"], [[text, "B", "+254711000001"]]
        ),
        dry_run=True,
    )
    assert report.invalid == 1
    assert report.errors[0].message.startswith("first name contains a")


def test_notes_and_reasons_may_span_lines_but_hold_no_other_control_character():
    assert order_note_clean("line one\nline two\ttab") == "line one\nline two\ttab"
    with pytest.raises(ValueError, match="contains a control character"):
        order_note_clean("bell\x07")


def test_one_rule_decides_for_every_path():
    for text in REFUSED:
        assert text_problem(text) is not None
    for text in ACCEPTED:
        assert text_problem(text) is None
    assert text_visible("A\x00B") == "A<U+0000>B"


def test_text_report_lists_what_was_stored_before_the_rule():
    CustomerFactory(first_name="Amina")
    legacy = CustomerFactory()
    Customer.objects.filter(pk=legacy.pk).update(first_name="A\x01B", last_name="  blanks ")
    item = ItemFactory()
    Item.objects.filter(pk=item.pk).update(name="nonchar\ufffe")
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("text_report", "--fail", stdout=out)
    assert exit_.value.code == 1
    text = out.getvalue()
    assert "customers.Customer.first_name: 1 value outside the rule" in text
    assert f"pk {legacy.pk}: 'A\\x01B' contains a control character (U+0001)" in text
    assert "customers.Customer.last_name: 1 value outside the rule" in text
    assert "has surrounding blanks" in text
    assert "items.Item.name: 1 value outside the rule" in text
    Customer.objects.filter(pk=legacy.pk).update(first_name="A", last_name="B")
    Item.objects.filter(pk=item.pk).update(name="Cap")
    out = io.StringIO()
    call_command("text_report", "--fail", stdout=out)
    assert out.getvalue().strip() == "Every stored text follows the text rule."
