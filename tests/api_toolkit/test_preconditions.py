"""RFC 9110 preconditions on every write (apps/api_toolkit/conditional.py): If-Match and
If-None-Match on POST, PATCH and DELETE, the header parser, strong and weak comparison."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.api_toolkit.conditional import EntityTag, parse_entity_tags, strong_match, weak_match
from apps.customers.models import Customer
from apps.orders.models import Order, OrderStatus
from tests.api_helpers import assert_error
from tests.factories import CustomerFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("*", "*"),
        (' "1" ', [EntityTag('"1"', False)]),
        ('W/"1"', [EntityTag('"1"', True)]),
        (
            '"1", W/"2" ,"3"',
            [EntityTag('"1"', False), EntityTag('"2"', True), EntityTag('"3"', False)],
        ),
        ('"a,b"', [EntityTag('"a,b"', False)]),  # a comma inside a tag is part of it
        ('""', [EntityTag('""', False)]),
        (", ,", []),  # empty list elements are allowed: an empty list, matching nothing
        ('"1",,"2"', [EntityTag('"1"', False), EntityTag('"2"', False)]),
    ],
)
def test_entity_tag_lists_parse(value, parsed):
    assert parse_entity_tags(value) == parsed


@pytest.mark.parametrize(
    "value",
    [
        '"1", garbage',
        "garbage",
        '"1" "2"',
        '"unclosed',
        'w/"1"',
        '"1", *',
        '*, "1"',
        '"a b"',
        '"\x7f"',
    ],
)
def test_malformed_entity_tag_lists_are_refused(value):
    with pytest.raises(ValueError):
        parse_entity_tags(value)


def test_comparisons():
    tags = parse_entity_tags('W/"7", "8"')
    assert not strong_match(tags, '"7"') and strong_match(tags, '"8"')
    assert weak_match(tags, '"7"') and weak_match(tags, 'W/"8"')
    assert not strong_match(tags, None) and not weak_match(tags, None)
    assert strong_match("*", None) and weak_match("*", '"1"')


def _customer_body(n: int) -> dict:
    return {"first_name": "P", "last_name": "Q", "phone_number": f"+2547009{n:05d}"}


def test_if_match_with_garbage_after_a_matching_tag_is_refused_not_matched(api):
    customer = CustomerFactory(first_name="Amina")
    url = f"/v1/customers/{customer.uuid}"
    tag = api.get(url)["ETag"]
    response = api.patch(
        url, {"first_name": "Zawadi"}, format="json", HTTP_IF_MATCH=f"{tag}, garbage"
    )
    assert_error(response, 400, "invalid")
    customer.refresh_from_db()
    assert customer.first_name == "Amina"


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_if_none_match_star_or_the_current_tag_is_412_on_an_object(api, method):
    customer = CustomerFactory(first_name="Amina")
    url = f"/v1/customers/{customer.uuid}"
    tag = api.get(url)["ETag"]
    for header in ("*", tag, f'"nope", W/{tag}'):  # weak comparison: W/ still matches
        call = getattr(api, method)
        response = call(url, {"first_name": "Z"}, format="json", HTTP_IF_NONE_MATCH=header)
        assert response.status_code == 412, (header, response.content)
        assert response.json()["current"]["first_name"] == "Amina"
        assert response["ETag"] == tag
    assert Customer.objects.get(pk=customer.pk).first_name == "Amina"
    # A tag that is not the current one lets the write through.
    response = getattr(api, method)(url, {"first_name": "Z"}, format="json",
                                    HTTP_IF_NONE_MATCH='"0-old"')  # fmt: skip
    assert response.status_code in (200, 204)


def test_posts_to_a_list_evaluate_preconditions_against_the_list(api):
    """The list exists and has no entity tag: If-None-Match * and any If-Match tag fail."""
    for headers in (
        {"HTTP_IF_NONE_MATCH": "*"},
        {"HTTP_IF_MATCH": '"0"'},
        {"HTTP_IF_MATCH": '"1", "2"'},
    ):
        response = api.post("/v1/customers", _customer_body(1), format="json", **headers)
        assert_error(response, 412, "precondition_failed")
        assert "current" not in response.json()
    assert not Customer.objects.exists()
    # If-Match: * (the list exists) and an If-None-Match naming tags hold.
    assert api.post("/v1/customers", _customer_body(2), format="json",
                    HTTP_IF_MATCH="*").status_code == 201  # fmt: skip
    assert api.post("/v1/customers", _customer_body(3), format="json",
                    HTTP_IF_NONE_MATCH='"5"').status_code == 201  # fmt: skip
    assert Customer.objects.count() == 2


def test_a_failed_precondition_is_not_kept_as_an_idempotent_answer(api):
    key = str(uuid.uuid4())
    refused = api.post("/v1/customers", _customer_body(4), format="json",
                       HTTP_IF_NONE_MATCH="*", HTTP_IDEMPOTENCY_KEY=key)  # fmt: skip
    assert refused.status_code == 412
    created = api.post("/v1/customers", _customer_body(4), format="json",
                       HTTP_IDEMPOTENCY_KEY=key)  # fmt: skip
    assert created.status_code == 201 and "Idempotent-Replayed" not in created


def test_posts_to_an_object_evaluate_preconditions_against_it():
    api = APIClient()
    api.force_authenticate(UserFactory(perms=["orders.view_order", "orders.confirm_order"]))
    order = OrderFactory()
    url = f"/v1/orders/{order.uuid}"
    tag = api.get(url)["ETag"]
    moves = f"{url}/transitions"
    body = {"to": "confirmed"}
    assert api.post(moves, body, format="json", HTTP_IF_NONE_MATCH=tag).status_code == 412
    assert api.post(moves, body, format="json", HTTP_IF_MATCH='"0"').status_code == 412
    assert api.post(moves, body, format="json", HTTP_IF_MATCH=f"W/{tag}").status_code == 412
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    sender = APIClient()
    sender.force_authenticate(UserFactory(perms=["orders.view_order", "notifications.resend_sms"]))
    resend = sender.post(f"{url}/resend-sms", format="json", HTTP_IF_NONE_MATCH="*")
    assert resend.status_code == 412
    assert resend.json()["current"]["id"] == str(order.uuid)
    moved = api.post(moves, body, format="json", HTTP_IF_MATCH=tag)
    assert moved.status_code == 200
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED


def test_preconditions_cost_one_read_of_the_target_and_only_when_present(api):
    customer = CustomerFactory()
    url = f"/v1/customers/{customer.uuid}"
    api.get(url)  # permissions cached for the user

    def queries(name: str, **headers) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.patch(url, {"first_name": name}, format="json", **headers).status_code == 200
        return len(captured)

    queries("Warm")
    plain = queries("Plain")
    assert queries("Conditional", HTTP_IF_NONE_MATCH='"0-old"') == plain + 1


def test_a_read_ignores_a_malformed_if_none_match(api):
    customer = CustomerFactory()
    url = f"/v1/customers/{customer.uuid}"
    tag = api.get(url)["ETag"]
    assert api.get(url, HTTP_IF_NONE_MATCH=f"{tag}, garbage").status_code == 200
    assert api.get(url, HTTP_IF_NONE_MATCH=f"x, {tag}").status_code == 200
    assert api.get(url, HTTP_IF_NONE_MATCH=f'"x", {tag}').status_code == 304
