import base64
import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.items.services import item_update
from apps.orders.models import Order
from tests.api_helpers import assert_error
from tests.factories import CustomerFactory, ItemFactory, OrderFactory

pytestmark = pytest.mark.django_db

URL = "/v1/orders"


def test_order_create_goes_through_the_service_and_embeds_summaries(api):
    customer = CustomerFactory(first_name="Amina", last_name="Otieno")
    item = ItemFactory(name="Hoodie", size="L", price=Decimal("19.99"))
    response = api.post(
        URL, {"customer": str(customer.uuid), "item": str(item.uuid), "quantity": 3}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get(uuid=body["id"])
    assert order.unit_price == Decimal("19.99")  # snapshotted by order_create
    assert response["Location"] == f"http://testserver/v1/orders/{order.uuid}"
    assert body == {
        "id": str(order.uuid),
        "number": order.number,
        "external_reference": "",
        "customer": {
            "id": str(customer.uuid),
            "first_name": "Amina",
            "last_name": "Otieno",
            "phone_number": str(customer.phone_number),
        },
        "item": {"id": str(item.uuid), "name": "Hoodie", "size": "L"},
        "quantity": 3,
        "unit_price": "19.99",
        "total": "59.97",
        "status": "placed",
        "status_changed_at": body["date_created"],
        "date_created": body["date_created"],
        "date_modified": body["date_modified"],
        "sms_status": "queued",
    }
    assert body["date_created"].endswith("Z")


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"customer": str(uuid.uuid4())}, {"customer": ["No customer with id {customer}."]}),
        ({"item": str(uuid.uuid4())}, {"item": ["No item with id {item}."]}),
        ({"customer": "not-a-uuid"}, {"customer": ["Must be a valid UUID."]}),
        ({"quantity": 0}, {"quantity": ["Ensure this value is greater than or equal to 1."]}),
        (
            {"quantity": 2**31},
            {"quantity": ["Ensure this value is less than or equal to 2147483647."]},
        ),
        ({"quantity": "two"}, {"quantity": ["A valid integer is required."]}),
    ],
)
def test_order_create_invalid_is_400_on_the_field(api, payload, errors):
    data = {"customer": str(CustomerFactory().uuid), "item": str(ItemFactory().uuid), "quantity": 1}
    data.update(payload)
    body = assert_error(api.post(URL, data, format="json"), 400, "invalid")
    expected = {k: [m.format(**data) for m in v] for k, v in errors.items()}
    assert body["errors"] == expected
    assert Order.objects.count() == 0


def test_order_patch_quantity_keeps_price_item_change_recopies(api):
    order = OrderFactory(item=ItemFactory(price=Decimal("10.00")), quantity=1)
    item_update(item=order.item, data={"price": Decimal("50.00")})
    body = api.patch(f"{URL}/{order.uuid}", {"quantity": 4}, format="json").json()
    assert (body["quantity"], body["unit_price"], body["total"]) == (4, "10.00", "40.00")

    other = ItemFactory(price=Decimal("7.50"))
    body = api.patch(f"{URL}/{order.uuid}", {"item": str(other.uuid)}, format="json").json()
    assert (body["item"]["id"], body["unit_price"], body["total"]) == (
        str(other.uuid),
        "7.50",
        "30.00",
    )
    order.refresh_from_db()
    assert order.item == other and order.unit_price == Decimal("7.50")

    body = assert_error(api.patch(f"{URL}/{order.uuid}", {"customer": "x"}, format="json"), 400)
    assert set(body["errors"]) == {"customer"}


def test_order_detail_and_delete(api):
    order = OrderFactory(quantity=2, item=ItemFactory(price=Decimal("3.10")))
    body = api.get(f"{URL}/{order.uuid}/").json()
    assert body["total"] == "6.20"
    assert api.delete(f"{URL}/{order.uuid}").status_code == 204
    assert not Order.objects.filter(pk=order.pk).exists()
    assert_error(api.get(f"{URL}/{order.uuid}"), 404, "not_found")


def test_order_filters(api):
    now = timezone.now()
    cheap = OrderFactory(quantity=1, item=ItemFactory(price=Decimal("5"), size="S"))
    dear = OrderFactory(
        quantity=3, item=ItemFactory(name="Zebra hoodie", price=Decimal("100"), size="M")
    )
    old = OrderFactory(quantity=1, item=ItemFactory(price=Decimal("50")))
    Order.objects.filter(pk=old.pk).update(date_created=now - timedelta(days=30))

    def ids(query):
        response = api.get(f"{URL}?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(f"customer={cheap.customer.uuid}") == {str(cheap.uuid)}
    assert ids(f"item={dear.item.uuid}") == {str(dear.uuid)}
    assert ids("size=S") == {str(cheap.uuid)}
    assert ids("total_min=100") == {str(dear.uuid)}
    assert ids("total_min=10&total_max=100") == {str(old.uuid)}
    after = (now - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"created_after={after}") == {str(cheap.uuid), str(dear.uuid)}
    assert ids(f"created_before={after}") == {str(old.uuid)}
    assert ids(f"search={dear.customer.last_name}") >= {str(dear.uuid)}
    assert ids(f"search={dear.item.name}") == {str(dear.uuid)}
    for query, field in (
        ("customer=nope", "customer"),
        ("created_after=yesterday", "created_after"),
        ("total_min=x", "total_min"),
        ("search=a%00b", "search"),
    ):
        assert set(assert_error(api.get(f"{URL}?{query}"), 400)["errors"]) == {field}


@pytest.mark.parametrize("ordering", ["-date_created", "total", "-total", "quantity", "item_name"])
def test_order_cursor_pages_cover_every_row_once_in_order(api, ordering):
    """Keyset paging stays exact with many equal values (ties broken by uuid)."""
    items = [ItemFactory(price=Decimal(p)) for p in ("10", "20")]
    orders = [OrderFactory(item=items[i % 2], quantity=1 + i % 3) for i in range(23)]
    seen, url, pages = [], f"{URL}?ordering={ordering}&page_size=5", 0
    while url:
        body = api.get(url).json()
        seen += body["results"]
        url, pages = body["next"], pages + 1
    assert pages == 5
    assert sorted(r["id"] for r in seen) == sorted(str(o.uuid) for o in orders)
    key = {
        "-date_created": lambda r: r["date_created"],
        "total": lambda r: Decimal(r["total"]),
        "-total": lambda r: Decimal(r["total"]),
        "quantity": lambda r: r["quantity"],
        "item_name": lambda r: r["item"]["name"],
    }[ordering]
    values = [key(r) for r in seen]
    assert values == sorted(values, reverse=ordering.startswith("-"))

    # ...and walking back from the last page returns the same rows in the same order.
    back, url = [], body["previous"]
    while url:
        body = api.get(url).json()
        back = body["results"] + back
        url = body["previous"]
    assert [r["id"] for r in back] == [r["id"] for r in seen[: len(back)]]
    assert len(back) == len(seen) - 3


def test_order_page_size_default_max_and_bad_cursor(api):
    item, customer = ItemFactory(), CustomerFactory()
    Order.objects.bulk_create(
        [Order(customer=customer, item=item, quantity=1, unit_price=item.price) for _ in range(210)]
    )
    assert len(api.get(URL).json()["results"]) == 50
    assert len(api.get(f"{URL}?page_size=500").json()["results"]) == 200
    assert len(api.get(f"{URL}?page_size=0").json()["results"]) == 50
    first = api.get(f"{URL}?ordering=total").json()
    other_ordering = first["next"].replace("ordering=total", "ordering=-total")
    for url in (f"{URL}?cursor=garbage", other_ordering):
        assert set(assert_error(api.get(url), 400)["errors"]) == {"cursor"}


def test_crafted_cursors_are_400_not_500(api):
    OrderFactory.create_batch(2)

    def cursor(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    uid = str(uuid.uuid4())
    for ordering, data in (
        ("item_name", {"o": "item_name", "r": False, "v": "a\x00", "u": uid}),
        ("-date_created", {"o": "-date_created", "r": False, "v": "yesterday", "u": uid}),
        ("-date_created", {"o": "-date_created", "r": False, "v": None, "u": uid}),
        ("total", {"o": "total", "r": False, "v": "1.0", "u": "nope"}),
        ("total", ["not", "a", "dict"]),
    ):
        response = api.get(f"{URL}?ordering={ordering}&cursor={cursor(data)}")
        assert set(assert_error(response, 400)["errors"]) == {"cursor"}, data
    odd = {"o": "-date_created", "r": False, "v": "0778-01-05T02:51:04+23:14", "u": uid}
    assert api.get(f"{URL}?cursor={cursor(odd)}").status_code == 200
