"""ETag, If-None-Match, If-Match and If-Match-required on the three /v1 resources."""

from decimal import Decimal

import pytest

from apps.customers.models import Customer
from apps.customers.services import customer_update
from apps.orders.models import Order
from apps.orders.services import order_update
from tests.api_helpers import assert_error
from tests.factories import CustomerFactory, ItemFactory, OrderFactory
from tests.sms_helpers import sms_confirmation_queue

pytestmark = pytest.mark.django_db


def _customer():
    obj = CustomerFactory(first_name="Amina")
    return obj, f"/v1/customers/{obj.uuid}", {"first_name": "Zawadi"}


def _item():
    obj = ItemFactory(name="Hoodie", price=Decimal("10.00"))
    return obj, f"/v1/items/{obj.uuid}", {"price": "12.50"}


def _order():
    obj = OrderFactory(quantity=1)
    return obj, f"/v1/orders/{obj.uuid}", {"quantity": 4}


RESOURCES = pytest.mark.parametrize(
    "make", [_customer, _item, _order], ids=["customer", "item", "order"]
)


def assert_precondition_failed(response, current_get) -> dict:
    """412: the one error shape plus ``current``, the object as GET shows it, and its ETag."""
    assert response.status_code == 412, response.content
    body = response.json()
    assert set(body) == {"status", "code", "detail", "errors", "current"}
    assert (body["status"], body["code"], body["errors"]) == (412, "precondition_failed", {})
    assert body["current"] == current_get.json()
    assert response["ETag"] == current_get["ETag"]
    return body


@RESOURCES
def test_get_has_an_etag_and_if_none_match_gives_304(api, make):
    _obj, url, _change = make()
    first = api.get(url)
    assert first.status_code == 200
    tag = first["ETag"]
    assert tag.startswith('"') and tag.endswith('"')
    again = api.get(url, HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == tag
    assert api.get(url, HTTP_IF_NONE_MATCH=f'"other", W/{tag}').status_code == 304
    assert api.get(url, HTTP_IF_NONE_MATCH="*").status_code == 304
    assert api.get(url, HTTP_IF_NONE_MATCH='"not-it"').status_code == 200


@RESOURCES
def test_patch_with_the_current_etag_proceeds_and_answers_the_new_one(api, make):
    obj, url, change = make()
    tag = api.get(url)["ETag"]
    response = api.patch(url, change, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 200, response.content
    assert response["ETag"] != tag
    assert response["ETag"] == api.get(url)["ETag"]
    obj.refresh_from_db()
    assert obj.version == 2


@RESOURCES
def test_patch_with_a_stale_etag_is_412_with_the_current_object_and_writes_nothing(api, make):
    obj, url, change = make()
    stale = api.get(url)["ETag"]
    assert api.patch(url, change, format="json").status_code == 200  # someone else's write
    obj.refresh_from_db()
    before = (obj.version, obj.date_modified)
    response = api.patch(url, change, format="json", HTTP_IF_MATCH=stale)
    assert_precondition_failed(response, api.get(url))
    obj.refresh_from_db()
    assert (obj.version, obj.date_modified) == before
    assert obj.history.count() == 2  # created, changed once


@RESOURCES
def test_a_stale_etag_is_412_before_the_body_is_validated(api, make):
    obj, url, _change = make()
    obj.__class__.objects.filter(pk=obj.pk).update(version=9)
    response = api.patch(
        url, {"first_name": "", "price": "-1", "quantity": 0}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert_precondition_failed(response, api.get(url))


@RESOURCES
def test_delete_with_a_stale_etag_is_412_and_with_the_current_one_proceeds(api, make):
    obj, url, change = make()
    stale = api.get(url)["ETag"]
    api.patch(url, change, format="json")
    assert_precondition_failed(api.delete(url, HTTP_IF_MATCH=stale), api.get(url))
    assert type(obj).objects.filter(pk=obj.pk).exists()
    current = api.get(url)["ETag"]
    assert api.delete(url, HTTP_IF_MATCH=current).status_code == 204
    assert not type(obj).objects.filter(pk=obj.pk).exists()


@RESOURCES
def test_if_match_star_weak_and_malformed_tags(api, make):
    _obj, url, change = make()
    tag = api.get(url)["ETag"]
    # A weak tag never matches for a write (strong comparison); garbage is not an entity tag.
    assert api.patch(url, change, format="json", HTTP_IF_MATCH=f"W/{tag}").status_code == 412
    garbage = api.patch(url, change, format="json", HTTP_IF_MATCH="garbage")
    assert_error(garbage, 400, "invalid")
    assert "If-Match" in garbage.json()["errors"]
    # One of a list matching is enough; "*" means "whatever version exists".
    assert api.patch(url, change, format="json", HTTP_IF_MATCH=f'"x", {tag}').status_code == 200
    assert api.patch(url, change, format="json", HTTP_IF_MATCH="*").status_code == 200


@RESOURCES
def test_without_if_match_writes_proceed_unless_required(api, make, settings):
    obj, url, change = make()
    assert api.patch(url, change, format="json").status_code == 200
    settings.API_REQUIRE_IF_MATCH = True
    obj.refresh_from_db()
    version = obj.version
    assert_error(api.patch(url, change, format="json"), 428, "precondition_required")
    assert_error(api.delete(url), 428, "precondition_required")
    obj.refresh_from_db()
    assert obj.version == version
    assert (
        api.patch(url, change, format="json", HTTP_IF_MATCH=api.get(url)["ETag"]).status_code == 200
    )


@RESOURCES
def test_post_answers_the_new_objects_etag(api, make):
    _obj, url, _change = make()
    listing = url.rsplit("/", 1)[0]
    bodies = {
        "customers": {"first_name": "A", "last_name": "B", "phone_number": "+254700000009"},
        "items": {"name": "Cap", "size": "S", "price": "3.00"},
        "orders": {
            "customer": str(CustomerFactory().uuid),
            "item": str(ItemFactory().uuid),
            "quantity": 1,
        },
    }
    created = api.post(listing, bodies[listing.split("/")[2]], format="json")
    assert created.status_code == 201
    assert created["ETag"] == api.get(created["Location"])["ETag"]


def test_the_etag_changes_on_every_write_whatever_the_path(api, staff_client):
    customer = CustomerFactory()
    url = f"/v1/customers/{customer.uuid}"
    tags = [api.get(url)["ETag"]]
    customer_update(customer=customer, data={"last_name": "Service"})  # a service call
    tags.append(api.get(url)["ETag"])
    api.patch(url, {"last_name": "Api"}, format="json")  # the API
    tags.append(api.get(url)["ETag"])
    customer.refresh_from_db()
    staff_client.post(  # the admin
        f"/admin/customers/customer/{customer.pk}/change/",
        {
            "first_name": customer.first_name,
            "last_name": "Admin",
            "phone_number": str(customer.phone_number),
            "opened_version": customer.version,
        },
    )
    tags.append(api.get(url)["ETag"])
    assert len(set(tags)) == 4, tags
    customer.refresh_from_db()
    assert (customer.last_name, customer.version) == ("Admin", 4)


def test_an_orders_etag_follows_what_its_body_embeds(api):
    order = OrderFactory()
    url = f"/v1/orders/{order.uuid}"
    tags = [api.get(url)["ETag"]]
    customer_update(customer=order.customer, data={"first_name": "Renamed"})
    tags.append(api.get(url)["ETag"])
    sms_confirmation_queue(order=order)  # sms_status: null -> queued
    tags.append(api.get(url)["ETag"])
    order_update(order=Order.objects.get(pk=order.pk), data={"quantity": 7})
    tags.append(api.get(url)["ETag"])
    assert len(set(tags)) == 4, tags
    # The order's own version only moved with the order's own write.
    assert Order.objects.get(pk=order.pk).version == 2


def test_a_blocked_delete_with_a_matching_etag_is_still_409(api):
    order = OrderFactory()
    url = f"/v1/customers/{order.customer.uuid}"
    response = api.delete(url, HTTP_IF_MATCH=api.get(url)["ETag"])
    assert_error(response, 409, "delete_blocked")
    assert Customer.objects.filter(pk=order.customer.pk).exists()


def test_detail_queries_stay_pinned(api, django_assert_max_num_queries):
    order = OrderFactory()
    url = f"/v1/orders/{order.uuid}"
    api.get(url)  # permissions cached on the user object
    with django_assert_max_num_queries(3):
        tag = api.get(url)["ETag"]
    with django_assert_max_num_queries(3):
        assert api.get(url, HTTP_IF_NONE_MATCH=tag).status_code == 304
