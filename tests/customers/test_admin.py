"""The customer admin: list, writes through the services, protected deletes."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.customers.models import Customer
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_customer_changelist_query_count(staff_client, django_assert_max_num_queries):
    for c in CustomerFactory.create_batch(50):
        OrderFactory(customer=c)
    url = reverse("admin:customers_customer_changelist")
    staff_client.get(url)
    with django_assert_max_num_queries(6):
        response = staff_client.get(url)
    assert [c.order_count for c in response.context["cl"].result_list] == [1] * 50


def test_add_customer_normalises_phone_and_rejects_duplicates(staff_client):
    url = reverse("admin:customers_customer_add")
    data = {"first_name": "Amina", "last_name": "Odhiambo", "phone_number": "0712 345 678"}
    assert staff_client.post(url, data).status_code == 302
    assert str(Customer.objects.get().phone_number) == "+254712345678"
    response = staff_client.post(url, data | {"first_name": "Other"})
    assert response.status_code == 200
    assert "A customer with this phone number already exists." in response.content.decode()
    assert Customer.objects.count() == 1


def test_protected_delete_shows_message_and_keeps_customer(staff_client):
    order = OrderFactory()
    OrderFactory(customer=order.customer)
    url = reverse("admin:customers_customer_delete", args=[order.customer.pk])
    response = staff_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:customers_customer_change", args=[order.customer.pk]
    )
    assert any("2 orders" in m for m in _messages(response))
    assert Customer.objects.filter(pk=order.customer.pk).exists()


def test_delete_unprotected_customer(staff_client):
    customer = CustomerFactory()
    response = staff_client.post(
        reverse("admin:customers_customer_delete", args=[customer.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Customer.objects.exists()
