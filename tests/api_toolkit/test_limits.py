"""Bounded work per /v1 request: search words and length, JSON size and depth, cursor values.

Each refusal is a 400 (413 for a body too large) in the one error shape, with a message that
says which limit, and nothing is written.
"""

import base64
import json

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.api_toolkit.parsers import json_depth_exceeds
from apps.orders.models import Order
from tests.api_helpers import assert_error
from tests.factories import CustomerFactory, ItemFactory, OrderFactory

pytestmark = pytest.mark.django_db


# --- search ----------------------------------------------------------------------------------


def test_search_with_too_many_words_is_a_400_with_the_limit(api, settings):
    settings.SEARCH_MAX_TERMS = 8
    OrderFactory(customer=CustomerFactory(first_name="Amina"))
    words = " ".join(f"w{i}" for i in range(9))
    body = assert_error(api.get("/v1/orders", {"search": words}), 400, "invalid")
    assert body["errors"] == {"search": ["Search is limited to 8 words; this search has 9."]}
    # The limit counts distinct words: "a a A … a" is one word, not hundreds of joins.
    assert api.get("/v1/orders", {"search": " ".join(["amina", "Amina"] * 15)}).status_code == 200
    eight = " ".join(["amina", *(f"{c}" for c in "mnopqrs")])
    assert api.get("/v1/customers", {"search": eight}).status_code == 200


def test_search_longer_than_the_limit_is_a_400(api, settings):
    settings.SEARCH_MAX_CHARS = 50
    body = assert_error(api.get("/v1/customers", {"search": "x" * 51}), 400, "invalid")
    assert body["errors"] == {"search": ["Search text is limited to 50 characters."]}
    assert api.get("/v1/customers", {"search": "x" * 50}).status_code == 200


def test_the_issue_s_search_of_500_words_is_refused_at_once(api):
    """The reported attack: ``?search=a+a+…`` with 500 terms (a 1 KB URL)."""
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/v1/orders?search=" + "+".join(["a"] * 500))
    assert_error(response, 400, "invalid")
    assert "limited to 200 characters" in response.json()["errors"]["search"][0]
    # Refused before the list is read.
    assert not [q for q in queries if "orders_order" in q["sql"]]


def test_the_schema_documents_the_search_limits(api):
    schema = api.get("/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    parameters = schema["paths"]["/v1/orders/"]["get"]["parameters"]
    search = next(p for p in parameters if p["name"] == "search")
    assert search["schema"]["maxLength"] == 200
    assert "At most 8 words and 200 characters." in search["description"]


# --- JSON bodies -----------------------------------------------------------------------------


def _post(api, body: bytes | str, content_type: str = "application/json"):
    # The client is authenticated inside DRF (force_authenticate); the header gives the request
    # the signed-in body bound of apps/security/body_limits.py as a real client's would.
    return api.post(
        "/v1/customers", data=body, content_type=content_type, HTTP_AUTHORIZATION="Bearer x"
    )


@pytest.mark.parametrize("depth", [33, 2000, 100_000])
def test_deeply_nested_json_is_a_400_and_writes_nothing(api, depth):
    response = _post(api, "[" * depth + "]" * depth)
    body = assert_error(response, 400, "parse_error")
    assert "JSON parse error" in body["detail"]
    assert "deep" in body["detail"] or "depth" in body["detail"]


def test_json_nested_up_to_the_limit_is_parsed(api, settings):
    settings.API_JSON_MAX_DEPTH = 4
    assert json_depth_exceeds({"a": [{"b": [1]}]}, 4) is False
    assert json_depth_exceeds({"a": [{"b": [[1]]}]}, 4) is True
    ok = _post(api, json.dumps({"first_name": "A", "last_name": [[["x"]]]}))
    assert "last_name" in assert_error(ok, 400, "invalid")["errors"]  # reached the serializer
    deep = _post(api, json.dumps({"first_name": "A", "last_name": [[[["x"]]]]}))
    assert assert_error(deep, 400, "parse_error")["detail"] == (
        "JSON parse error - the body is nested more than 4 levels deep."
    )


def test_a_body_larger_than_the_upload_limit_is_a_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    big = json.dumps({"first_name": "A" * 20_000, "last_name": "B", "phone_number": "+254700"})
    body = assert_error(_post(api, big), 413, "too_large")
    assert body["detail"] == "The request body is larger than 10,000 bytes; send less at a time."


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b'{"first_name": NaN}', "application/json"),
        (b'{"first_name": "\\ud800", "last_name": "x", "phone_number": "+254711000001"}', None),
        (b'{"first_name": "\xff\xfe"}', "application/json"),
        (b'{"first_name": "A"}', "application/json; charset=no-such-charset"),
        (b"", "application/json"),
        (b'{"quantity": 1' + b"0" * 400 + b"}", "application/json"),
    ],
    ids=["nan", "lone-surrogate", "invalid-utf8", "unknown-charset", "empty", "huge-number"],
)
def test_malformed_json_is_a_400(api, raw, content_type):
    before = Order.objects.count()
    response = api.post("/v1/customers", data=raw, content_type=content_type or "application/json")
    assert_error(response, 400)
    assert Order.objects.count() == before


def test_integers_beyond_64_bits_in_a_body_are_a_field_error(api):
    body = {
        "customer": str(CustomerFactory().uuid),
        "item": str(ItemFactory().uuid),
        "quantity": 2**70,
    }
    response = api.post("/v1/orders", data=json.dumps(body), content_type="application/json")
    assert "quantity" in assert_error(response, 400, "invalid")["errors"]
    assert Order.objects.count() == 0


# --- cursors ---------------------------------------------------------------------------------


def _cursor(ordering: str, value, uuid: str = "00000000-0000-4000-8000-000000000000") -> str:
    raw = orjson.dumps({"o": ordering, "r": False, "v": 0, "u": uuid})
    # orjson cannot write integers beyond 64 bits: splice the value in as JSON text.
    text = raw.decode().replace('"v":0', f'"v":{json.dumps(value)}')
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("ordering", "value"),
    [
        ("quantity", 2**70),
        ("-quantity", -(2**70)),
        ("quantity", 2**63),
        ("total", "1e999999"),
        ("total", "NaN"),
        ("total", "-Infinity"),
        ("-total", "1" * 40),
        ("customer_last_name", "x" * 5000),
        ("customer_last_name", "a\x00b"),
        ("date_created", "10000-01-01T00:00:00+00:00"),
        ("date_created", "0000-01-01T00:00:00+00:00"),
    ],
)
def test_a_tampered_cursor_value_is_a_400(api, ordering, value):
    OrderFactory.create_batch(2)
    response = api.get("/v1/orders", {"ordering": ordering, "cursor": _cursor(ordering, value)})
    body = assert_error(response, 400, "invalid")
    assert body["errors"] == {"cursor": ["Invalid cursor."]}


@pytest.mark.parametrize(
    "token",
    ["x" * 5000, "!!!!", base64.urlsafe_b64encode(b"[1,2]").decode(), "e30", "bnVsbA"],
    ids=["too-long", "not-base64", "json-array", "empty-object", "null"],
)
def test_a_malformed_cursor_is_a_400(api, token):
    response = api.get("/v1/orders", {"cursor": token})
    assert assert_error(response, 400, "invalid")["errors"] == {"cursor": ["Invalid cursor."]}


def test_cursor_values_at_the_edges_of_their_columns_still_page(api):
    """The largest values a column can hold are valid cursors (past the end: an empty page
    with the way back)."""
    OrderFactory.create_batch(2)
    for ordering, value in [("quantity", 2**31 - 1), ("total", "9" * 18 + ".99")]:
        response = api.get("/v1/orders", {"ordering": ordering, "cursor": _cursor(ordering, value)})
        assert response.status_code == 200, response.content
        assert response.json()["results"] == []
        assert response.json()["previous"]
