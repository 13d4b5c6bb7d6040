"""The order page's note box posts in place (``X-Requested-With: fetch``): a JSON answer with
the fresh timeline, or the refusal, and no message left waiting for the next page."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.orders.models import OrderEvent
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch", "HTTP_ACCEPT": "application/json"}


@pytest.fixture
def noter(client):
    user = UserFactory(is_staff=True, perms=["orders.view_order", "orders.note_order"])
    client.force_login(user)
    return client, user


def test_a_note_posted_in_place_answers_the_fresh_timeline(noter):
    client, user = noter
    order = OrderFactory()
    url = reverse("admin:orders_order_add_note", args=[order.pk])
    response = client.post(url, {"text": "Call before delivery"}, **FETCH)
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == f"Note added to {order}."
    assert 'id="timeline-entries"' in body["timeline"]
    assert "Call before delivery" in body["timeline"]
    assert (
        OrderEvent.objects.filter(order=order, kind="note", actor=user, channel="admin").count()
        == 1
    )
    assert list(get_messages(response.wsgi_request)) == []


def test_a_refused_note_in_place_says_why_and_writes_nothing(noter):
    client, _ = noter
    order = OrderFactory()
    url = reverse("admin:orders_order_add_note", args=[order.pk])
    response = client.post(url, {"text": "   "}, **FETCH)
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("Note not added: ")
    response = client.post(url, {"text": "x\x00y"}, **FETCH)
    assert response.status_code == 400
    assert response.json()["errors"] == ["Note not added: Null characters are not allowed."]
    assert not OrderEvent.objects.filter(kind="note").exists()


def test_without_the_script_the_note_box_still_posts_and_comes_back(noter):
    client, _ = noter
    order = OrderFactory()
    url = reverse("admin:orders_order_add_note", args=[order.pk])
    response = client.post(url, {"text": "Plain form"})
    assert response.status_code == 302
    assert response["Location"].endswith("#timeline")
    assert OrderEvent.objects.filter(order=order, kind="note").count() == 1
