from decimal import Decimal

import pytest

from apps.items.models import Item
from tests.api_helpers import assert_error
from tests.factories import ItemFactory, OrderFactory

pytestmark = pytest.mark.django_db

URL = "/v1/items"


def test_item_create_returns_201_with_money_as_two_place_string(api):
    response = api.post(URL, {"name": "Hoodie", "size": "XL", "price": 1250}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["price"] == "1250.00"
    assert body["size"] == "XL"
    assert response["Location"].endswith(f"/v1/items/{body['id']}")
    assert Item.objects.get(uuid=body["id"]).price == Decimal("1250.00")


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"name": "Tee", "size": "XS", "price": "10"}, {"size"}),
        ({"name": "Tee", "size": "M", "price": "-1"}, {"price"}),
        ({"name": "Tee", "size": "M", "price": "1.234"}, {"price"}),
        ({"name": "Tee", "size": "M", "price": "123456789.00"}, {"price"}),
        ({"name": "x" * 251, "size": "M", "price": "1"}, {"name"}),
        ({"name": "a\x00b", "size": "M", "price": "1"}, {"name"}),
        ({}, {"name", "size", "price"}),
    ],
)
def test_item_create_invalid_is_400_on_the_field(api, payload, fields):
    body = assert_error(api.post(URL, payload, format="json"), 400, "invalid")
    assert set(body["errors"]) == fields


def test_item_duplicate_name_and_size_is_400_non_field(api):
    ItemFactory(name="Tee", size="M")
    body = assert_error(
        api.post(URL, {"name": "Tee", "size": "M", "price": "1"}, format="json"), 400
    )
    assert body["errors"] == {
        "non_field_errors": ["An item with this name and size already exists."]
    }


def test_item_patch_price_keeps_existing_order_prices(api):
    order = OrderFactory(item=ItemFactory(price=Decimal("10.00")), quantity=2)
    response = api.patch(f"{URL}/{order.item.uuid}", {"price": "99.5"}, format="json")
    assert response.status_code == 200
    assert response.json()["price"] == "99.50"
    order.refresh_from_db()
    assert order.unit_price == Decimal("10.00")


def test_item_delete_and_blocked_delete(api):
    free = ItemFactory()
    assert api.delete(f"{URL}/{free.uuid}/").status_code == 204
    assert not Item.objects.filter(pk=free.pk).exists()
    used = OrderFactory().item
    body = assert_error(api.delete(f"{URL}/{used.uuid}"), 409, "delete_blocked")
    assert "1 order" in body["detail"]
    assert Item.objects.filter(pk=used.pk).exists()


def test_item_filters_size_and_price_and_search(api):
    small = ItemFactory(name="Cap", size="S", price=Decimal("5"))
    ItemFactory(name="Jacket", size="L", price=Decimal("500"))
    assert [r["id"] for r in api.get(f"{URL}?size=S").json()["results"]] == [str(small.uuid)]
    rows = api.get(f"{URL}?price_max=10").json()["results"]
    assert [r["id"] for r in rows] == [str(small.uuid)]
    assert [r["id"] for r in api.get(f"{URL}?search=cap").json()["results"]] == [str(small.uuid)]
    body = assert_error(api.get(f"{URL}?size=XS"), 400)
    assert set(body["errors"]) == {"size"}
    assert set(assert_error(api.get(f"{URL}?price_min=abc"), 400)["errors"]) == {"price_min"}
