"""The customer admin: list, writes through the services, protected deletes."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.customers.models import Customer
from tests.factories import CustomerFactory, ItemFactory, OrderFactory

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
    assert [c.orders_count for c in response.context["cl"].result_list] == [1] * 50


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


def _customer_with_orders():
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from apps.orders.models import Order
    from apps.orders.services import order_create, order_note_add
    from apps.orders.transitions import order_transition

    customer = CustomerFactory(first_name="Zawadi")
    item = ItemFactory(name="Tee", size="M", price=Decimal("100.00"))
    kept = order_create(customer=customer, item=item, quantity=2)
    dropped = order_create(customer=customer, item=item, quantity=5)
    order_transition(order=dropped, to="cancelled", actor=None, reason="changed mind")
    order_note_add(order=kept, text="VIP", actor=None)
    last = timezone.now() - timedelta(hours=1)
    Order.objects.filter(pk=kept.pk).update(date_created=last)
    Order.objects.filter(pk=dropped.pk).update(date_created=last - timedelta(days=2))
    return customer, kept, dropped, last


def test_customer_page_shows_orders_value_and_timeline(staff_client):
    from django.utils import timezone

    customer, kept, dropped, last = _customer_with_orders()
    OrderFactory()  # another customer's
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    ctx = response.context
    summary = ctx["order_summary"]
    assert (summary.orders, summary.cancelled, str(summary.lifetime_value)) == (2, 1, "200.00")
    assert summary.last_order_at == last
    assert ctx["lifetime_value"] == '<span class="whitespace-nowrap">KES 200.00</span>'
    assert [row["order"].pk for row in ctx["latest_orders"]] == [kept.pk, dropped.pk]
    assert [row["total"] for row in ctx["latest_orders"]] == [
        '<span class="whitespace-nowrap">KES 200.00</span>',
        '<span class="whitespace-nowrap">KES 500.00</span>',
    ]
    assert ctx["orders_url"].endswith(f"?customer__id__exact={customer.pk}")
    entries = [entry for entry, _ in ctx["timeline"]]
    assert {e.order_uuid for e in entries} == {kept.uuid, dropped.uuid}
    assert {e.kind for e in entries} == {"created", "status", "note", "sms"}
    html = response.content.decode()
    assert 'id="lifetime-value"><span class="whitespace-nowrap">KES 200.00</span><' in html
    assert timezone.localtime(last).strftime("%Y-%m-%d %H:%M") in html
    assert reverse("admin:orders_order_change", args=[kept.pk]) in html
    # The link lists exactly this customer's orders.
    listed = staff_client.get(ctx["orders_url"]).context["cl"].result_list
    assert {o.pk for o in listed} == {kept.pk, dropped.pk}


def test_customer_page_caps_its_order_list(staff_client):
    customer = CustomerFactory()
    for _ in range(23):
        OrderFactory(customer=customer)
    response = staff_client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert len(response.context["latest_orders"]) == 20
    assert response.context["order_summary"].orders == 23
    assert "All 23 orders" in response.content.decode()


@pytest.mark.parametrize("n_orders", [2, 30])
def test_customer_page_queries_do_not_grow_with_orders(
    superuser, client, n_orders, django_assert_max_num_queries
):
    from apps.orders.services import order_note_add

    customer = CustomerFactory()
    for order in OrderFactory.create_batch(n_orders, customer=customer):
        order_note_add(order=order, text="hello", actor=superuser)
    client.force_login(superuser)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    client.get(url)
    # session, user, the customer, the history link, the summary aggregate, the latest orders,
    # the timeline (events, history, earlier records, SMS).
    with django_assert_max_num_queries(10):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["latest_orders"]) == min(20, n_orders)


def test_customer_page_without_order_permission_shows_no_orders(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, perms=["customers.view_customer"]))
    order = OrderFactory()
    response = client.get(reverse("admin:customers_customer_change", args=[order.customer.pk]))
    assert response.status_code == 200
    assert "order_summary" not in response.context
    assert 'id="customer-orders"' not in response.content.decode()
