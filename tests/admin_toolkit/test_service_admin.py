"""Every ModelAdmin built on ServiceModelAdmin: its pages render for a staff user."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import CustomerFactory, ItemFactory, OrderFactory

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
