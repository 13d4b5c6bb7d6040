"""Smoke tests for every ModelAdmin, run as a staff user with model permissions."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.customers.models import Customer
from apps.items.models import Item
from apps.orders.models import Order
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(
    ("model", "factory"),
    [
        ("customers_customer", CustomerFactory),
        ("items_item", ItemFactory),
        ("orders_order", OrderFactory),
    ],
)
def test_changelist_add_change_delete_pages_render(staff_client, model, factory):
    obj = factory()
    for url in (
        reverse(f"admin:{model}_changelist"),
        reverse(f"admin:{model}_changelist") + "?q=a",
        reverse(f"admin:{model}_add"),
        reverse(f"admin:{model}_change", args=[obj.pk]),
        reverse(f"admin:{model}_history", args=[obj.pk]),
    ):
        response = staff_client.get(url)
        assert response.status_code == 200, url
    response = staff_client.get(reverse(f"admin:{model}_delete", args=[obj.pk]))
    # An object with orders redirects with a message; others show the confirmation page.
    assert response.status_code in (200, 302)


@pytest.mark.parametrize(
    "query",
    [
        "item__size__exact=M",
        "date_created_from=2020-01-01&date_created_to=2100-01-01",
        "total_from=10&total_to=1000",
        "total_from=abc",
        "q=Kamau",
        "o=6",
        "o=-6",
    ],
)
def test_order_changelist_filters_and_sorting(staff_client, query):
    cheap = OrderFactory(quantity=1, item=ItemFactory(price=Decimal("5"), size="S"))
    dear = OrderFactory(quantity=3, item=ItemFactory(price=Decimal("100"), size="M"))
    dear.customer.last_name = "Kamau"
    Customer.objects.filter(pk=dear.customer.pk).update(last_name="Kamau")
    response = staff_client.get(reverse("admin:orders_order_changelist") + "?" + query)
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    if query.startswith(("item__size", "total_from=10", "q=")):
        assert shown == [dear]
    if query == "o=6":
        assert [o.pk for o in shown] == [cheap.pk, dear.pk]
    if query == "o=-6":
        assert [o.pk for o in shown] == [dear.pk, cheap.pk]


def test_order_changelist_shows_total_with_currency(staff_client):
    OrderFactory(quantity=3, item=ItemFactory(price=Decimal("1250.50")))
    response = staff_client.get(reverse("admin:orders_order_changelist"))
    assert "KES 3,751.50" in response.content.decode()


def test_order_changelist_query_count_is_constant(staff_client, django_assert_max_num_queries):
    customers = CustomerFactory.create_batch(10)
    items = ItemFactory.create_batch(5)
    for i in range(50):
        OrderFactory(customer=customers[i % 10], item=items[i % 5], quantity=i % 4 + 1)
    url = reverse("admin:orders_order_changelist")
    staff_client.get(url)  # warm the session
    # session, user, user perms, group perms, then the list itself: one query, no COUNT, no N+1.
    with django_assert_max_num_queries(5) as ctx:
        response = staff_client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 50
    list_queries = [q["sql"] for q in ctx.captured_queries if '"orders_order"' in q["sql"]]
    assert len(list_queries) == 1, list_queries
    assert "COUNT(" not in list_queries[0].upper()


def test_order_changelist_as_superuser_runs_three_queries(
    superuser, client, django_assert_max_num_queries
):
    for _ in range(50):
        OrderFactory()
    client.force_login(superuser)
    url = reverse("admin:orders_order_changelist") + "?o=-6"
    client.get(url)
    with django_assert_max_num_queries(3):
        response = client.get(url)
    assert len(response.context["cl"].result_list) == 50


def test_customer_changelist_query_count(staff_client, django_assert_max_num_queries):
    for c in CustomerFactory.create_batch(50):
        OrderFactory(customer=c)
    url = reverse("admin:customers_customer_changelist")
    staff_client.get(url)
    with django_assert_max_num_queries(6):
        response = staff_client.get(url)
    assert [c.order_count for c in response.context["cl"].result_list] == [1] * 50


def test_add_order_through_admin_snapshots_price(staff_client):
    customer = CustomerFactory()
    item = ItemFactory(price=Decimal("80.00"))
    response = staff_client.post(
        reverse("admin:orders_order_add"),
        {"customer": customer.pk, "item": item.pk, "quantity": 2},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get()
    assert (order.unit_price, order.quantity) == (Decimal("80.00"), 2)


def test_add_order_rejects_zero_quantity_with_form_error(staff_client):
    response = staff_client.post(
        reverse("admin:orders_order_add"),
        {"customer": CustomerFactory().pk, "item": ItemFactory().pk, "quantity": 0},
    )
    assert response.status_code == 200
    assert "Quantity must be at least 1." in response.content.decode()
    assert not Order.objects.exists()


def test_add_customer_normalises_phone_and_rejects_duplicates(staff_client):
    url = reverse("admin:customers_customer_add")
    data = {"first_name": "Amina", "last_name": "Odhiambo", "phone_number": "0712 345 678"}
    assert staff_client.post(url, data).status_code == 302
    assert str(Customer.objects.get().phone_number) == "+254712345678"
    response = staff_client.post(url, data | {"first_name": "Other"})
    assert response.status_code == 200
    assert "A customer with this phone number already exists." in response.content.decode()
    assert Customer.objects.count() == 1


def test_change_item_through_admin(staff_client):
    item = ItemFactory(name="Tee", size="M", price=Decimal("10"))
    response = staff_client.post(
        reverse("admin:items_item_change", args=[item.pk]),
        {"name": "Tee", "size": "L", "price": "12.00"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.size, item.price) == ("L", Decimal("12.00"))


def test_change_order_quantity_keeps_unit_price(staff_client):
    order = OrderFactory(item=ItemFactory(price=Decimal("10")), quantity=1)
    Item.objects.filter(pk=order.item.pk).update(price=Decimal("50"))
    response = staff_client.post(
        reverse("admin:orders_order_change", args=[order.pk]),
        {"customer": order.customer.pk, "item": order.item.pk, "quantity": 3},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.quantity, order.unit_price) == (3, Decimal("10.00"))


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


def test_bulk_delete_of_protected_items_lists_counts(staff_client):
    used = OrderFactory().item
    free = ItemFactory()
    response = staff_client.post(
        reverse("admin:items_item_changelist"),
        {"action": "delete_selected", "_selected_action": [used.pk, free.pk]},
    )
    assert response.status_code == 200
    assert f"Cannot delete item {used}: 1 order uses it." in response.content.decode()
    assert Item.objects.count() == 2


def test_delete_unprotected_customer(staff_client):
    customer = CustomerFactory()
    response = staff_client.post(
        reverse("admin:customers_customer_delete", args=[customer.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Customer.objects.exists()


def test_order_autocomplete_for_customer(staff_client):
    CustomerFactory(first_name="Zawadi", last_name="Mutua")
    CustomerFactory(first_name="Brian", last_name="Kamau")
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {"term": "Zaw", "app_label": "orders", "model_name": "order", "field_name": "customer"},
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 1 and "Zawadi" in results[0]["text"]


def test_non_staff_user_is_redirected_to_login(client):
    user = UserFactory(is_staff=False)
    client.force_login(user)
    response = client.get(reverse("admin:orders_order_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_permissions_gets_403(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("admin:orders_order_changelist")).status_code == 403


def test_environment_badge_shown(staff_client, settings):
    settings.APP_ENVIRONMENT = "staging"
    response = staff_client.get(reverse("admin:index"))
    assert "Staging" in response.content.decode()


def test_user_and_group_admin_use_unfold(superuser, client):
    client.force_login(superuser)
    for name in ("auth_user", "auth_group"):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:{name}_add")).status_code == 200


def test_admin_pages_declare_the_site_icon(client, staff_client):
    for response in (client.get("/admin/login/"), staff_client.get("/admin/orders/order/")):
        assert response.status_code == 200
        links = re.findall(r"<link[^>]*rel=\"icon\"[^>]*>", response.content.decode())
        assert len(links) == 1
        assert 'href="/static/backoffice/favicon.svg"' in links[0]
