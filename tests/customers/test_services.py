import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings

from apps.core.errors import DeleteBlockedError
from apps.customers.models import Customer
from apps.customers.services import customer_create, customer_delete, customer_update
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_customer_create_normalises_local_number_to_e164():
    customer = customer_create(
        first_name=" Amina ", last_name="Odhiambo", phone_number="0712 345 678"
    )
    customer.refresh_from_db()
    assert str(customer.phone_number) == "+254712345678"
    assert customer.first_name == "Amina"
    assert Customer.objects.filter(phone_number="+254712345678").count() == 1


@override_settings(PHONENUMBER_DEFAULT_REGION="UG")
def test_customer_create_uses_configured_default_region():
    customer = customer_create(first_name="Okello", last_name="J", phone_number="0772 123 456")
    assert str(customer.phone_number) == "+256772123456"


@pytest.mark.parametrize("bad", ["12345", "not a number", "+2547123", ""])
def test_customer_create_rejects_invalid_phone_with_field_message(bad):
    with pytest.raises(ValidationError) as exc:
        customer_create(first_name="A", last_name="B", phone_number=bad)
    assert "phone_number" in exc.value.message_dict
    assert Customer.objects.count() == 0


def test_customer_create_rejects_duplicate_phone_in_any_format():
    customer_create(first_name="A", last_name="B", phone_number="+254712345678")
    with pytest.raises(ValidationError) as exc:
        customer_create(first_name="C", last_name="D", phone_number="0712345678")
    assert exc.value.message_dict["phone_number"] == [
        "A customer with this phone number already exists."
    ]
    assert Customer.objects.count() == 1


def test_customer_create_rejects_blank_names():
    with pytest.raises(ValidationError) as exc:
        customer_create(first_name="  ", last_name="", phone_number="+254712345678")
    assert set(exc.value.message_dict) == {"first_name", "last_name"}


def test_database_rejects_non_e164_phone_even_without_services():
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.bulk_create(
            [Customer(first_name="a", last_name="b", phone_number="not-a-phone")]
        )


def test_customer_update_changes_only_given_fields_and_validates():
    customer = CustomerFactory(first_name="Old", phone_number="+254700000001")
    customer_update(customer=customer, data={"first_name": "New", "phone_number": "0700 000 002"})
    customer.refresh_from_db()
    assert customer.first_name == "New"
    assert str(customer.phone_number) == "+254700000002"
    with pytest.raises(ValidationError):
        customer_update(customer=customer, data={"phone_number": "nonsense"})
    customer.refresh_from_db()
    assert str(customer.phone_number) == "+254700000002"


def test_customer_update_rejects_unknown_fields():
    customer = CustomerFactory()
    with pytest.raises(ValueError, match="uuid"):
        customer_update(customer=customer, data={"uuid": "x"})


def test_customer_delete_blocked_by_orders_names_the_count():
    order = OrderFactory()
    OrderFactory(customer=order.customer)
    with pytest.raises(DeleteBlockedError) as exc:
        customer_delete(customer=order.customer)
    assert exc.value.blocking_count == 2
    assert "2 orders" in exc.value.message
    assert Customer.objects.filter(pk=order.customer.pk).exists()


def test_customer_delete_without_orders():
    customer = CustomerFactory()
    customer_delete(customer=customer)
    assert not Customer.objects.exists()
