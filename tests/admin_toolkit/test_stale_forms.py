"""Admin change forms carry their version: a save over a newer version is refused and explained."""

import os
import re
import threading
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.db import connection
from django.db.models.signals import post_init
from django.test import Client, RequestFactory
from django.urls import reverse

from apps.items.models import Item
from apps.items.services import item_update
from apps.orders.models import Order
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(db):
    user = UserFactory(username="bob", is_staff=True, perms=ALL_DOMAIN_PERMS)
    client = Client()
    client.force_login(user)
    return client


def change_url(order: Order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def form_data(order: Order, **changes) -> dict:
    data = {
        "customer": order.customer_id,
        "item": order.item_id,
        "quantity": order.quantity,
        "opened_version": order.version,
    }
    data.update(changes)
    return data


def field_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    if match is None:
        match = re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html)
    assert match is not None, f"no input {name}"
    return match.group(1)


def selected_option(html: str, name: str) -> str:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S)
    assert select is not None
    option = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0))
    assert option is not None
    return option.group(1)


def test_the_change_form_carries_the_version_it_was_opened_with(staff_client):
    order = OrderFactory()
    Order.objects.filter(pk=order.pk).update(version=7)
    html = staff_client.get(change_url(order)).content.decode()
    assert field_value(html, "opened_version") == "7"
    assert 'type="hidden"' in re.search(r'<input[^>]*name="opened_version"[^>]*>', html).group(0)
    # The add form has nothing to be stale against.
    add = staff_client.get(reverse("admin:orders_order_add")).content.decode()
    assert 'name="opened_version"' not in add


def test_a_save_over_a_newer_version_is_refused_and_names_who_changed_what(staff_client, bob):
    new_item = ItemFactory(name="Cap", size="S", price=Decimal("3.00"))
    order = OrderFactory(quantity=1, item=ItemFactory(name="Hoodie", size="M"))
    opened = form_data(order)  # the operator opens the form at version 1
    # bob saves the quantity meanwhile, through the admin
    assert bob.post(change_url(order), form_data(order, quantity=5)).status_code == 302

    response = staff_client.post(change_url(order), {**opened, "item": new_item.pk})
    assert response.status_code == 200
    html = response.content.decode()
    order.refresh_from_db()
    assert (order.quantity, order.item_id, order.version) == (5, opened["item"], 2)  # nothing saved
    assert "Not saved: this order was changed by bob since you opened the form" in html
    stale = re.search(r'<div id="stale-form".*?</div>\s*</div>\s*</div>', html, re.S)
    assert 'data-opened-version="1" data-current-version="2"' in html
    assert stale is not None
    assert "bob" in html and "the admin" in html and "quantity: 1 → 5" in html
    # The form shows bob's quantity (the operator did not touch it) and the operator's item.
    assert field_value(html, "quantity") == "5"
    assert selected_option(html, "item") == str(new_item.pk)
    assert field_value(html, "opened_version") == "2"
    assert "Your value is kept here" not in html  # no field was changed by both

    # Saving the re-shown form applies the operator's change on top of bob's.
    again = staff_client.post(
        change_url(order),
        {**opened, "item": new_item.pk, "quantity": 5, "opened_version": 2},
    )
    assert again.status_code == 302
    order.refresh_from_db()
    assert (order.quantity, order.item_id, order.version) == (5, new_item.pk, 3)


def test_a_field_both_changed_keeps_the_operators_value_with_the_current_one_beside_it(
    staff_client, bob
):
    order = OrderFactory(quantity=1)
    opened = form_data(order)
    bob.post(change_url(order), form_data(order, quantity=5))
    response = staff_client.post(change_url(order), {**opened, "quantity": 7})
    html = response.content.decode()
    assert response.status_code == 200
    assert field_value(html, "quantity") == "7"
    assert "Changed by someone else since you opened this form: now “5”" in html
    assert "both changed: check it" in html
    order.refresh_from_db()
    assert (order.quantity, order.version) == (5, 2)
    assert order.history.count() == 2


def test_a_form_without_its_version_is_refused(staff_client):
    order = OrderFactory(quantity=1)
    data = form_data(order, quantity=4)
    del data["opened_version"]
    response = staff_client.post(change_url(order), data)
    assert response.status_code == 200
    assert "does not say which version it was opened at" in response.content.decode()
    order.refresh_from_db()
    assert (order.quantity, order.version) == (1, 1)


def test_an_unchanged_form_saved_over_a_newer_version_is_refused_too(staff_client, bob):
    order = OrderFactory(quantity=1)
    opened = form_data(order)
    bob.post(change_url(order), form_data(order, quantity=2))
    response = staff_client.post(change_url(order), opened)
    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.quantity, order.version) == (2, 2)


def test_customer_and_item_forms_are_versioned_too(staff_client, bob):
    item = ItemFactory(name="Tee", size="M", price=Decimal("10.00"))
    url = reverse("admin:items_item_change", args=[item.pk])
    opened = {"name": "Tee", "size": "M", "price": "10.00", "opened_version": 1}
    bob.post(url, {**opened, "price": "11.00"})
    response = staff_client.post(url, {**opened, "size": "L"})
    assert response.status_code == 200
    assert "price: 10.00 → 11.00" in response.content.decode()
    item.refresh_from_db()
    assert (item.size, item.price, item.version) == ("M", Decimal("11.00"), 2)


def test_change_list_rows_carry_their_version(staff_client):
    order = OrderFactory()
    Order.objects.filter(pk=order.pk).update(version=3)
    html = staff_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert f'name="_version_{order.pk}" value="3"' in html


def test_bulk_updates_are_conditional_on_the_versions_the_list_showed(staff_user):
    kept, changed = ItemFactory(price=Decimal("10")), ItemFactory(price=Decimal("20"))
    request = RequestFactory().post(
        "/admin/items/item/", {f"_version_{kept.pk}": "1", f"_version_{changed.pk}": "1"}
    )
    request.user = staff_user
    request.session = {}
    request._messages = FallbackStorage(request)
    item_update(item=changed, data={"price": Decimal("25")})  # after the list was loaded
    model_admin = admin.site.get_model_admin(Item)

    written, refused = model_admin.bulk_update_versioned(
        request,
        Item.objects.order_by("pk"),
        lambda item, version: item_update(
            item=item, data={"price": item.price * 2}, expected_version=version
        ),
    )
    assert (written, refused) == ([kept], [changed])
    kept.refresh_from_db()
    changed.refresh_from_db()
    assert (kept.price, kept.version) == (Decimal("20.00"), 2)
    assert (changed.price, changed.version) == (Decimal("25.00"), 2)
    assert [str(m) for m in get_messages(request)] == [
        f"Not changed, because someone changed them after the list was loaded: {changed}. "
        "Reload the list and try again."
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
    reason="needs PostgreSQL: the concurrent write commits on its own connection",
)
def test_a_write_landing_between_the_forms_check_and_the_save_is_refused_too():
    staff = UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS)
    client = Client()
    client.force_login(staff)
    order = OrderFactory(quantity=1)
    opened = form_data(order)
    fired = []

    def concurrent_write(sender, instance, **kwargs):
        # The admin loads the order again to save it: at that moment another process commits
        # a change, after the form checked the version and before the conditional UPDATE.
        if fired or instance.pk != order.pk:
            return
        fired.append(True)

        def write():
            try:
                Order.objects.filter(pk=order.pk).update(quantity=9, version=2)
            finally:
                connection.close()

        thread = threading.Thread(target=write)
        thread.start()
        thread.join()

    loads = []

    def count_loads(sender, instance, **kwargs):
        if instance.pk == order.pk:
            loads.append(True)
            if len(loads) == 2:  # get_object (the form edits it), then save_model reloads it
                concurrent_write(sender, instance)

    post_init.connect(count_loads, sender=Order)
    try:
        response = client.post(change_url(order), {**opened, "quantity": 4})
    finally:
        post_init.disconnect(count_loads, sender=Order)
    assert fired
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not saved: this order was changed" in html
    assert "Your value is kept here" in html  # both changed the quantity
    order.refresh_from_db()
    assert (order.quantity, order.version) == (9, 2)
