"""The item admin: writes through the services, protected bulk deletes."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.items.models import Item
from tests.factories import ItemFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_change_item_through_admin(staff_client):
    item = ItemFactory(name="Tee", size="M", price=Decimal("10"))
    response = staff_client.post(
        reverse("admin:items_item_change", args=[item.pk]),
        {"name": "Tee", "size": "L", "price": "12.00", "opened_version": 1},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.size, item.price) == ("L", Decimal("12.00"))


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
