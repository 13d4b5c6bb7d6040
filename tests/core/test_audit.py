from decimal import Decimal

import pytest
from django.urls import reverse

from apps.customers.services import customer_create
from apps.orders.models import Order
from tests.factories import CustomerFactory, ItemFactory

pytestmark = pytest.mark.django_db


def test_service_write_without_request_is_recorded_as_system():
    customer = customer_create(first_name="Amina", last_name="O", phone_number="+254712000001")
    record = customer.history.get()
    assert (record.history_type, record.history_channel) == ("+", "system")
    assert record.history_user is None


def test_admin_changes_record_user_and_path_and_show_on_history_page(staff_client, staff_user):
    customer = CustomerFactory()
    item = ItemFactory(price=Decimal("10"))
    response = staff_client.post(
        reverse("admin:orders_order_add"),
        {"customer": customer.pk, "item": item.pk, "quantity": 2},
    )
    assert response.status_code == 302
    order = Order.objects.get()
    response = staff_client.post(
        reverse("admin:orders_order_change", args=[order.pk]),
        {"customer": customer.pk, "item": item.pk, "quantity": 5, "opened_version": 1},
    )
    assert response.status_code == 302
    records = list(order.history.order_by("history_date"))
    assert [
        (r.history_type, r.quantity, r.history_user_id, r.history_channel) for r in records
    ] == [
        ("+", 2, staff_user.pk, "admin"),
        ("~", 5, staff_user.pk, "admin"),
    ]
    page = staff_client.get(reverse("admin:orders_order_history", args=[order.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert staff_user.username in html
    assert "admin" in html


def test_api_changes_record_token_user_and_api_path(staff_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(staff_user)
    response = client.post(
        "/v1/customers",
        {"first_name": "Api", "last_name": "User", "phone_number": "+254712000009"},
        format="json",
    )
    assert response.status_code == 201, response.content
    record = CustomerFactory._meta.model.history.get(phone_number="+254712000009")
    assert (record.history_user_id, record.history_channel) == (staff_user.pk, "api")
